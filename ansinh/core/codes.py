"""Code lists of shared/reference/DOMAIN.md section 6 and SPEC section 2, with their labels."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SCHEMES: dict[str, object] = {
    "si_compulsory": _("BHXH bắt buộc"),
    "si_voluntary": _("BHXH tự nguyện"),
    "ui": _("Bảo hiểm thất nghiệp"),
    "hi": _("Bảo hiểm y tế"),
}
SCHEME_CODES: tuple[str, ...] = tuple(SCHEMES)

INDICATORS: tuple[str, ...] = (*SCHEME_CODES, "hi_coverage")

LEVELS: dict[str, object] = {
    "province": _("Tỉnh"),
    "office": _("BHXH cơ sở"),
    "district": _("Huyện (cũ)"),
    "commune": _("Xã, phường"),
}

GROUPS: dict[str, object] = {
    "employee": _("Người lao động trong doanh nghiệp"),
    "employer": _("Doanh nghiệp, người sử dụng lao động"),
    "freelancer": _("Lao động tự do"),
    "business_owner": _("Chủ hộ kinh doanh"),
    "farmer": _("Nông dân, ngư dân"),
    "student": _("Học sinh, sinh viên"),
    "household": _("Hộ gia đình (BHYT hộ gia đình)"),
    "state_supported": _("Đối tượng được ngân sách hỗ trợ"),
    "other": _("Khác"),
}
GROUP_CODES: tuple[str, ...] = tuple(GROUPS)

# channel: (label, assumed registrations per activity, assumed cost VND) — DOMAIN.md section 6
CHANNELS: dict[str, tuple[object, float, int]] = {
    "conference": (_("Hội nghị tuyên truyền, đối thoại"), 20.0, 5_000_000),
    "enterprise_dialogue": (
        _("Đối thoại, tư vấn tại doanh nghiệp, khu công nghiệp"),
        15.0,
        3_000_000,
    ),
    "small_group": (_("Tuyên truyền nhóm nhỏ 3–5 người tại thôn, tổ dân phố"), 1.5, 300_000),
    "door_to_door": (_("Tư vấn tận nhà"), 0.4, 50_000),
    "launch_ceremony": (_("Lễ ra quân, phát động"), 10.0, 15_000_000),
    "mobile_loudspeaker": (_("Xe loa lưu động (ô tô, xe máy)"), 3.0, 2_000_000),
    "booth": (_("Gian hàng tại hội chợ, lễ hội"), 8.0, 8_000_000),
    "livestream": (_("Hội nghị trực tuyến, livestream"), 6.0, 3_000_000),
    "loudspeaker": (_("Hệ thống loa truyền thanh cơ sở"), 1.0, 200_000),
    "article": (_("Tin, bài trên báo, đài, cổng thông tin"), 2.0, 1_500_000),
    "social_media": (_("Mạng xã hội, video, infographic"), 2.0, 1_000_000),
    "print": (_("Pa-nô, áp phích, tờ rơi, băng rôn, bảng điện tử"), 0.5, 2_000_000),
    "vssid_guidance": (_("Hướng dẫn cài đặt, sử dụng VssID"), 0.5, 200_000),
}
CHANNEL_CODES: tuple[str, ...] = tuple(CHANNELS)

# funnel rows that are not channels of DOMAIN.md (``core.hooks.funnel_rows``): never planned
FUNNEL_EXTRA_KEYS: dict[str, object] = {
    "followup": _("Danh sách theo dõi, vận động"),
}

ORGS: dict[str, object] = {
    "si_province": _("Bảo hiểm xã hội tỉnh"),
    "si_office": _("Bảo hiểm xã hội cơ sở"),
    "commune_committee": _("Ủy ban nhân dân xã, phường"),
    "fatherland_front": _("Ủy ban Mặt trận Tổ quốc"),
    "womens_union": _("Hội Liên hiệp Phụ nữ"),
    "farmers_association": _("Hội Nông dân"),
    "youth_union": _("Đoàn Thanh niên"),
    "veterans_association": _("Hội Cựu chiến binh"),
    "labour_confederation": _("Liên đoàn Lao động"),
    "collection_agent": _("Tổ chức dịch vụ thu (bưu điện, đại lý thu)"),
    "health_station": _("Trạm y tế"),
    "school": _("Trường học"),
    "media": _("Báo, đài phát thanh – truyền hình"),
    "tax_office": _("Cơ quan thuế"),
}
ORG_CODES: tuple[str, ...] = tuple(ORGS)

ROLES: dict[str, object] = {
    "admin": _("Quản trị"),
    "province": _("BHXH tỉnh"),
    "office": _("BHXH cơ sở"),
    "partner": _("Tổ chức phối hợp"),
    "viewer": _("Xem số liệu"),
}


HI_COVERAGE_LABEL = _("Tỷ lệ bao phủ BHYT")


def indicator_label(code: str) -> str:
    """An indicator of SPEC section 3 by its name: a scheme, or the HI coverage rate."""
    return str(HI_COVERAGE_LABEL) if code == "hi_coverage" else label(SCHEMES, code)


def label(codes: dict, code: str) -> str:
    value = codes.get(code)
    if value is None:
        return code
    if isinstance(value, tuple):
        return str(value[0])
    return str(value)
