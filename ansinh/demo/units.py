"""The units of the demo province: Khánh Hòa (code 56) after 1 July 2025.

The 65 commune-level units (16 wards, 48 communes, the special zone Trường Sa) come with their
official codes and names (Decision 19/2025/QĐ-TTg) from the PyPI package ``vietnamadminunits``
through ``ansinh.geography.official``, the source of ``ansinh units official`` (DOMAIN.md
section 2). The grassroots SI offices of the demo (one per former district or town area, an
*assumption* of DOMAIN.md) are assigned by the table ``OFFICE_OF`` below, keyed by the
commune's code; every one of the 65 must land in some office (checked by ``units()``).

The demo's figures were first drawn on the draft list of ``vietnam-provinces`` 2025.10.1, in
which 7 codes differ; ``DRAFT_CODE`` keeps each commune's draws (its weight and its place in
the order) on its draft code, so the figures stated in the README do not move.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansinh.geography.official import official_province

PROVINCE_CODE = "56"
PROVINCE_NAME = "Tỉnh Khánh Hòa"

# office code -> (area name, kind of area used for the demo figures)
OFFICES: dict[str, tuple[str, str]] = {
    "BHXH-NT": ("Nha Trang", "city"),
    "BHXH-CR": ("Cam Ranh", "town"),
    "BHXH-NHO": ("Ninh Hòa", "town"),
    "BHXH-VN": ("Vạn Ninh", "rural"),
    "BHXH-DK": ("Diên Khánh", "rural"),
    "BHXH-CL": ("Cam Lâm", "rural"),
    "BHXH-KV": ("Khánh Vĩnh", "mountain"),
    "BHXH-KS": ("Khánh Sơn", "mountain"),
    "BHXH-PR": ("Phan Rang", "city"),
    "BHXH-NP": ("Ninh Phước", "rural"),
    "BHXH-TN": ("Thuận Nam", "rural"),
    "BHXH-NHA": ("Ninh Hải", "rural"),
    "BHXH-TB": ("Thuận Bắc", "rural"),
    "BHXH-NS": ("Ninh Sơn", "rural"),
    "BHXH-BA": ("Bác Ái", "mountain"),
}

# commune code -> office code (former district or town area of the commune)
OFFICE_OF: dict[str, str] = {
    # Nha Trang
    "22366": "BHXH-NT",
    "22333": "BHXH-NT",
    "22390": "BHXH-NT",
    "22402": "BHXH-NT",
    # Cam Ranh (with the special zone Trường Sa)
    "22411": "BHXH-CR",
    "22420": "BHXH-CR",
    "22432": "BHXH-CR",
    "22423": "BHXH-CR",
    "22480": "BHXH-CR",
    "22736": "BHXH-CR",
    # Ninh Hòa
    "22546": "BHXH-NHO",
    "22528": "BHXH-NHO",
    "22576": "BHXH-NHO",
    "22561": "BHXH-NHO",
    "22591": "BHXH-NHO",
    "22597": "BHXH-NHO",
    "22552": "BHXH-NHO",
    "22558": "BHXH-NHO",
    # Vạn Ninh
    "22504": "BHXH-VN",
    "22498": "BHXH-VN",
    "22516": "BHXH-VN",
    "22489": "BHXH-VN",
    "22525": "BHXH-VN",
    # Diên Khánh
    "22651": "BHXH-DK",
    "22678": "BHXH-DK",
    "22657": "BHXH-DK",
    "22660": "BHXH-DK",
    "22672": "BHXH-DK",
    "22702": "BHXH-DK",
    # Cam Lâm
    "22453": "BHXH-CL",
    "22708": "BHXH-CL",
    "22435": "BHXH-CL",
    "22465": "BHXH-CL",
    # Khánh Vĩnh
    "22615": "BHXH-KV",
    "22612": "BHXH-KV",
    "22624": "BHXH-KV",
    "22648": "BHXH-KV",
    "22609": "BHXH-KV",
    # Khánh Sơn
    "22714": "BHXH-KS",
    "22720": "BHXH-KS",
    "22732": "BHXH-KS",
    # Phan Rang
    "22759": "BHXH-PR",
    "22780": "BHXH-PR",
    "22741": "BHXH-PR",
    "22738": "BHXH-PR",
    # Ninh Hải (Ninh Chử ward: the former Khánh Hải town)
    "22834": "BHXH-NHA",
    "22852": "BHXH-NHA",
    "22861": "BHXH-NHA",
    "22846": "BHXH-NHA",
    # Ninh Phước
    "22870": "BHXH-NP",
    "22891": "BHXH-NP",
    "22873": "BHXH-NP",
    # Thuận Nam
    "22897": "BHXH-TN",
    "22909": "BHXH-TN",
    "22900": "BHXH-TN",
    "22888": "BHXH-TN",
    # Thuận Bắc
    "22849": "BHXH-TB",
    "22840": "BHXH-TB",
    # Ninh Sơn
    "22810": "BHXH-NS",
    "22813": "BHXH-NS",
    "22828": "BHXH-NS",
    "22822": "BHXH-NS",
    # Bác Ái
    "22801": "BHXH-BA",
    "22795": "BHXH-BA",
    "22786": "BHXH-BA",
}

# official code -> code in the draft list the demo's draws were made on (DOMAIN.md section 2)
DRAFT_CODE: dict[str, str] = {
    "22411": "22408",  # Phường Bắc Cam Ranh
    "22780": "22779",  # Phường Đông Hải
    "22846": "22868",  # Xã Vĩnh Hải
    "22861": "22858",  # Xã Xuân Hải
    "22888": "22903",  # Xã Phước Dinh
    "22900": "22885",  # Xã Phước Hà
    "22909": "22910",  # Xã Cà Ná
}

# rough relative populations by kind of commune (scaled to the province total afterwards)
_BASE_WEIGHT = {"urban": 130.0, "ward": 38.0, "rural": 24.0, "mountain": 9.0, "island": 0.9}


@dataclass(frozen=True)
class DemoUnit:
    code: str
    name: str
    level: str
    parent_code: str
    kind: str = ""  # communes: urban | ward | rural | mountain | island
    weight: float = 0.0  # relative population


def _commune_kind(office: str, name: str, division: str) -> str:
    if division == "đặc khu":
        return "island"
    area_kind = OFFICES[office][1]
    if division == "phường":
        return "urban" if area_kind == "city" and office == "BHXH-NT" else "ward"
    return "mountain" if area_kind == "mountain" else "rural"


def units() -> list[DemoUnit]:
    """Province, then offices, then the 65 communes (ordered by office, then draft code)."""
    official = official_province(PROVINCE_CODE)
    if official is None:  # pragma: no cover - the package always has Khánh Hòa
        raise RuntimeError("vietnamadminunits has no province 56")
    out = [DemoUnit(PROVINCE_CODE, PROVINCE_NAME, "province", "")]
    for code, (area, _kind) in OFFICES.items():
        out.append(DemoUnit(code, f"BHXH cơ sở {area}", "office", PROVINCE_CODE))
    missing = [w for w in official.communes if w.code not in OFFICE_OF]
    if missing:  # a newer package release changed the list: the table must be updated
        raise RuntimeError("communes without an office: " + ", ".join(w.name for w in missing))
    communes = []
    for w in official.communes:
        office = OFFICE_OF[w.code]
        kind = _commune_kind(office, w.name, w.kind.lower())
        # a little deterministic variety between communes of one kind (on the draft code)
        draft = int(DRAFT_CODE.get(w.code, w.code))
        spread = 0.75 + (draft * 7919 % 97) / 97 * 0.5
        weight = _BASE_WEIGHT[kind] * spread
        communes.append(DemoUnit(w.code, w.name, "commune", office, kind, weight))
    order = list(OFFICES)
    communes.sort(key=lambda u: (order.index(u.parent_code), DRAFT_CODE.get(u.code, u.code)))
    return out + communes


def communes() -> list[DemoUnit]:
    return [u for u in units() if u.level == "commune"]
