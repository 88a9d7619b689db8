"""Official units and the reorganisation of 1 July 2025 (SPEC section 9, issue 16 item 1):
`ansinh units official`, the former units under keys of their own, `ansinh import successors`,
and what the pages show of them. Through the CLI and the HTTP client."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ansinh.accounts.access import SYSTEM
from ansinh.geography.models import Successor, Unit

# the seven codes in which the draft list of vietnam-provinces differs (SPEC section 9)
OFFICIAL = {
    "22411": "Phường Bắc Cam Ranh",
    "22780": "Phường Đông Hải",
    "22846": "Xã Vĩnh Hải",
    "22861": "Xã Xuân Hải",
    "22888": "Xã Phước Dinh",
    "22900": "Xã Phước Hà",
    "22909": "Xã Cà Ná",
}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _tree() -> list[tuple]:
    return sorted(
        Unit.objects.values_list("code", "name", "level", "parent_id", "path", "valid_to")
    )


@pytest.mark.django_db
def test_units_official_loads_the_65_communes_idempotently(cli) -> None:
    r = cli("units", "official", "--province", "56")
    assert r.code == 0, r.err
    assert "66" in r.out and "tạo mới 66" in r.out
    assert Unit.objects.filter(level="commune").count() == 65
    province = Unit.objects.get(code="56")
    assert (province.name, province.level, province.parent_id) == (
        "Tỉnh Khánh Hòa",
        "province",
        None,
    )
    for code, name in OFFICIAL.items():
        u = Unit.objects.get(code=code)
        assert (u.name, u.level, u.parent_id, u.path) == (name, "commune", "56", f"56/{code}/")
    assert Unit.objects.filter(name="Đặc khu Trường Sa", level="commune").exists()
    before = _tree()
    r = cli("units", "official", "--province", "56")
    assert r.code == 0 and "tạo mới 0, cập nhật 0, không đổi 66" in r.out
    assert _tree() == before
    assert not Unit.objects.filter(code__contains="@").exists()  # no former unit without --legacy


@pytest.mark.django_db
def test_units_official_refuses_an_unknown_province(cli) -> None:
    r = cli("units", "official", "--province", "99")
    assert r.code == 1
    assert "99" in r.err and "Traceback" not in r.err
    assert not Unit.objects.exists()
    r = cli("units", "official", "--province", "5x")
    assert r.code == 1 and not Unit.objects.exists()
    r = cli("units", "official")
    assert r.code == 2


@pytest.mark.django_db
def test_units_already_loaded_keep_their_offices(cli, tmp_path: Path) -> None:
    f = _write(
        tmp_path / "units.csv",
        "code,name,level,parent_code\n"
        "56,Tỉnh Khánh Hòa,province,\n"
        "BHXH-CR,BHXH cơ sở Cam Ranh,office,56\n"
        "22411,Phường Bắc Cam Ranh,commune,BHXH-CR\n"
        "22408,Phường Bắc Cam Ranh (dự thảo),commune,BHXH-CR\n",
    )
    assert cli("import", "units", str(f)).code == 0
    r = cli("units", "official", "--province", "56", "--legacy")
    assert r.code == 0, r.err
    assert "tạo mới 64, cập nhật 0, không đổi 2" in r.out
    moved = Unit.objects.get(code="22411")
    assert (moved.parent_id, moved.path) == ("BHXH-CR", "56/BHXH-CR/22411/")
    assert Unit.objects.get(code="22780").parent_id == "56"
    # a draft code in today's tree is named, not deleted
    assert "22408" in r.err and "không có trong danh mục chính thức" in r.err
    assert Unit.objects.filter(code="22408", level="commune").exists()


@pytest.mark.django_db
def test_legacy_units_are_records_of_their_own(cli) -> None:
    r = cli("units", "official", "--province", "56", "--legacy")
    assert r.code == 0, r.err
    assert "xã cũ được gán đơn vị kế thừa: 194" in r.out
    # 22411 was Phường Cam Phúc Bắc until 30 June 2025 and is Phường Bắc Cam Ranh since
    today, former = Unit.objects.get(code="22411"), Unit.objects.get(code="22411@2025")
    assert today.name == "Phường Bắc Cam Ranh" and today.valid_to is None
    assert (former.name, former.level, str(former.valid_to)) == (
        "Phường Cam Phúc Bắc",
        "commune",
        "2025-06-30",
    )
    district = former.parent
    assert (district.code, district.level, district.name) == (
        "569@2025",
        "district",
        "Thành phố Cam Ranh",
    )
    assert former.path == "56@2025/569@2025/22411@2025/"
    assert Unit.objects.filter(level="district").count() == 16
    assert Unit.objects.filter(level="commune", code__endswith="@2025").count() == 194
    assert set(Unit.objects.filter(level="province").values_list("code", "valid_to")) == {
        ("56", None),
        ("56@2025", former.valid_to),
        ("58@2025", former.valid_to),
    }
    # Bắc Cam Ranh took Cam Phúc Bắc, Cam Nghĩa (22408) and Cam Thành Nam (22468) whole
    takers = Successor.objects.filter(successor_id="22411", share=1)
    assert set(takers.values_list("legacy_id", flat=True)) == {
        "22411@2025",
        "22408@2025",
        "22468@2025",
    }
    # a divided commune: the whole to the main successor by default, 0 to the others
    split = {
        s.successor_id: (s.share, s.main) for s in Successor.objects.filter(legacy_id="22435@2025")
    }
    assert split == {
        "22708": (Decimal(1), True),
        "22435": (Decimal(0), False),
        "22453": (Decimal(0), False),
    }
    # idempotent
    before = (_tree(), sorted(Successor.objects.values_list("legacy_id", "successor_id", "share")))
    r = cli("units", "official", "--province", "56", "--legacy")
    assert r.code == 0 and "tạo mới 0, cập nhật 0, không đổi 212" in r.out
    assert (
        _tree(),
        sorted(Successor.objects.values_list("legacy_id", "successor_id", "share")),
    ) == before
    # the province stays the default scope; its children are today's communes only
    r = cli("kpi", "--as-of", "2025-09-30", "--by", "unit", "--format", "json")
    assert r.code == 0, r.err
    data = json.loads(r.out)
    assert data["unit"] == "56"
    assert {row["unit"] for row in data["rows"]} == set(
        Unit.objects.filter(parent_id="56").values_list("code", flat=True)
    )
    assert not any("@" in row["unit"] for row in data["rows"])


@pytest.mark.django_db
def test_legacy_units_change_no_figure(cli, tmp_path: Path) -> None:
    assert cli("units", "official", "--province", "56").code == 0
    _write(
        tmp_path / "counts.csv",
        "as_of,unit_code,scheme,participants\n"
        "2025-09-30,22411,hi,1200\n2025-09-30,22780,hi,800\n2025-09-30,22411,si_voluntary,30\n",
    )
    _write(
        tmp_path / "population.csv", "year,unit_code,population\n2025,22411,1500\n2025,22780,900\n"
    )
    _write(
        tmp_path / "targets.csv",
        "year,unit_code,indicator,target\n2025,22411,hi,1300\n2025,22780,hi,850\n",
    )
    for kind in ("counts", "population", "targets"):
        r = cli("import", kind, str(tmp_path / f"{kind}.csv"))
        assert r.code == 0, r.err

    def figures() -> list[str]:
        return [
            cli("kpi", "--as-of", d, *extra, "--format", "json").out
            for d in ("2024-09-30", "2025-09-30")
            for extra in ((), ("--by", "unit"), ("--unit", "22411"))
        ]

    before = figures()
    assert json.loads(before[3])["indicators"][3]["participants"] == 2000
    r = cli("units", "official", "--province", "56", "--legacy")
    assert r.code == 0, r.err
    assert figures() == before
    assert cli("kpi", "--rebuild").code == 0
    assert figures() == before


@pytest.mark.django_db
def test_import_successors(cli, tmp_path: Path) -> None:
    assert cli("units", "official", "--province", "56", "--legacy").code == 0
    good = _write(
        tmp_path / "s.csv",
        "legacy_code,successor_code,share\n"
        "22435,22708,0.5\n"
        '22435,22453,"0,3"\n'
        "22435,22435,0.2\n"
        "22768@2025,22780,0.75\n"
        "22768,22888,0.25\n",
    )
    r = cli("import", "successors", str(good))
    assert r.code == 0, r.err
    assert r.out.strip() == "successors: đọc 5 dòng, tạo mới 0, cập nhật 5, không đổi 0"
    shares = dict(
        Successor.objects.filter(legacy_id__in=["22435@2025", "22768@2025"]).values_list(
            "successor_id", "share"
        )
    )
    assert shares == {
        "22708": Decimal("0.5"),
        "22453": Decimal("0.3"),
        "22435": Decimal("0.2"),
        "22780": Decimal("0.75"),
        "22888": Decimal("0.25"),
    }
    # the main successor stays the one the official conversion names
    assert Successor.objects.get(legacy_id="22435@2025", main=True).successor_id == "22708"
    r = cli("import", "successors", str(good))
    assert r.out.strip() == "successors: đọc 5 dòng, tạo mới 0, cập nhật 0, không đổi 5"
    # a former commune given again in full: a successor left out gets share 0
    again = _write(tmp_path / "a.csv", "legacy_code,successor_code,share\n22435,22708,1\n")
    r = cli("import", "successors", str(again))
    assert r.code == 0, r.err
    assert dict(
        Successor.objects.filter(legacy_id="22435@2025").values_list("successor_id", "share")
    ) == {"22708": Decimal(1), "22453": Decimal(0), "22435": Decimal(0)}
    # `units official --legacy` again keeps the shares set by the import
    assert cli("units", "official", "--province", "56", "--legacy").code == 0
    assert Successor.objects.get(legacy_id="22768@2025", successor_id="22888").share == Decimal(
        "0.25"
    )


@pytest.mark.django_db
def test_import_successors_refuses_bad_rows(cli, tmp_path: Path) -> None:
    f = _write(tmp_path / "s.csv", "legacy_code,successor_code,share\n22435,22708,1\n")
    r = cli("import", "successors", str(f))
    assert r.code == 1  # no former units loaded yet
    assert "dòng 2, cột legacy_code" in r.err and "--legacy" in r.err
    assert cli("units", "official", "--province", "56", "--legacy").code == 0
    stored = sorted(Successor.objects.values_list("legacy_id", "successor_id", "share"))
    bad = _write(
        tmp_path / "bad.csv",
        "legacy_code,successor_code,share\n"
        "22435,22708,0.5\n"  # 2: fine
        "99999,22708,1\n"  # 3: no such former commune
        "22411,22408,1\n"  # 4: 22408 is a former commune, not one of today
        "22411,BHXH-X,1\n"  # 5: no such unit
        "22768,22780,1.5\n"  # 6: above 1
        "22768,22888,abc\n"  # 7: not a number
        "22768,22780,0.1234567\n"  # 8: too many decimals
        "22435,22708,0.5\n",  # 9: duplicate of row 2
    )
    errors = tmp_path / "errors.csv"
    r = cli("import", "successors", str(bad), "--errors", str(errors))
    assert r.code == 1
    assert r.out.strip() == "successors: bị từ chối, 7 lỗi"
    for line in (
        "dòng 3, cột legacy_code",
        "dòng 4, cột successor_code",
        "dòng 5, cột successor_code",
        "dòng 6, cột share",
        "dòng 7, cột share",
        "dòng 8, cột share",
        "dòng 9, cột successor_code: trùng khóa với dòng 2",
    ):
        assert line in r.err
    assert errors.read_text(encoding="utf-8").startswith("row,column,value,message")
    # shares of one former commune must add up to 1
    short = _write(
        tmp_path / "short.csv",
        "legacy_code,successor_code,share\n22411,22411,1\n22435,22708,0.5\n22435,22453,0.3\n",
    )
    r = cli("import", "successors", str(short))
    assert r.code == 1
    assert "dòng 3, cột share: tỉ lệ của xã cũ 22435 cộng lại bằng 0,8, phải bằng 1" in r.err
    missing = _write(tmp_path / "m.csv", "legacy_code,share\n22435,1\n")
    r = cli("import", "successors", str(missing))
    assert r.code == 1 and "successor_code" in r.err
    assert sorted(Successor.objects.values_list("legacy_id", "successor_id", "share")) == stored


@pytest.mark.django_db
def test_english_cli(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANSINH_LANG", "en")
    r = cli("units", "official", "--province", "56", "--legacy")
    assert r.code == 0, r.err
    assert "66 units, 66 created, 0 updated, 0 unchanged" in r.out
    assert "former communes given successors: 194" in r.out
    short = _write(
        tmp_path / "s.csv", "legacy_code,successor_code,share\n22435,22708,0.5\n22435,22453,0.3\n"
    )
    r = cli("import", "successors", str(short))
    assert r.code == 1
    assert "row 2, column share: the shares of former commune 22435 add up to 0.8, not 1" in r.err


@pytest.fixture
def legacy(db: None) -> None:
    from ansinh.geography.services import units_official_load

    assert units_official_load(province="56", legacy=True, actor=SYSTEM) is not None


def _user(role: str, unit: str) -> object:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        username=f"u-{role}", password="pw", role=role, unit=Unit.objects.get(code=unit)
    )


def test_unit_pages_show_former_units_and_their_successors(client, legacy: None) -> None:
    client.force_login(_user("province", "56"))
    page = client.get("/units/22411@2025/").content.decode()
    assert "Phường Cam Phúc Bắc" in page
    assert "22411 (đến 30/06/2025)" in page
    assert 'id="unit-successors"' in page
    assert 'href="/units/22411/"' in page and "Phường Bắc Cam Ranh" in page
    page = client.get("/units/22411/").content.decode()
    assert "Phường Bắc Cam Ranh" in page and "· 22411)</span>" in page
    assert 'id="unit-predecessors"' in page
    for name in ("Phường Cam Phúc Bắc", "Phường Cam Nghĩa", "Xã Cam Thành Nam"):
        assert name in page
    assert 'href="/units/22408@2025/"' in page
    # a divided former commune lists every successor with its share
    page = client.get("/units/22435@2025/").content.decode()
    assert "100,00 %" in page and "0,00 %" in page
    # the API lists former units with their end date
    units = client.get("/api/units?limit=1000").json()["items"]
    former = next(u for u in units if u["code"] == "22411@2025")
    assert (former["valid_to"], former["level"], former["parent"]) == (
        "2025-06-30",
        "commune",
        "569@2025",
    )


def test_former_units_are_out_of_an_office_scope(client, legacy: None) -> None:
    from ansinh.geography.services import unit_paths_rebuild

    office = Unit.objects.create(
        code="BHXH-CR", name="BHXH Cam Ranh", level="office", parent_id="56"
    )
    Unit.objects.filter(code="22411").update(parent=office)
    unit_paths_rebuild(actor=SYSTEM)
    client.force_login(_user("office", "BHXH-CR"))
    assert client.get("/units/22411/").status_code == 200
    assert client.get("/units/22411@2025/").status_code == 404
    page = client.get("/units/22411/").content.decode()
    # the former communes are named, not linked, for an actor who may not open them
    assert "Phường Cam Phúc Bắc" in page and 'href="/units/22411@2025/"' not in page


def test_english_label(client, legacy: None) -> None:
    client.force_login(_user("admin", "56"))
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/units/22411@2025/").content.decode()
    assert "22411 (until 2025-06-30)" in page


def test_pickers_offer_only_units_in_force(client, legacy: None) -> None:
    client.force_login(_user("province", "56"))
    pickers = ("/reports/", "/plans/new/", "/activities/new/", "/arrears/", "/outbox/")
    pickers += ("/arrears/review/", "/arrears/legal/", "/arrears/offenders/", "/arrears/interest/")
    pickers += ("/worklists/", "/documents/", "/funnel/", "/field/")
    for url in pickers:
        resp = client.get(url)
        assert resp.status_code == 200, url
        page = resp.content.decode()
        assert 'value="56"' in page or url == "/field/", url  # the field form: communes only
        assert "@2025" not in page, url


def test_import_page_takes_successors_for_the_province_only(
    client, legacy: None, settings, tmp_path: Path
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ansinh.core.models import Job
    from ansinh.geography.services import unit_paths_rebuild

    settings.UPLOAD_DIR = tmp_path / "uploads"
    content = "legacy_code,successor_code,share\n22435,22708,0.5\n22435,22453,0.5\n"

    def upload() -> object:
        return client.post(
            "/imports/",
            {
                "kind": "successors",
                "file": SimpleUploadedFile("s.csv", content.encode("utf-8"), "text/csv"),
            },
        )

    client.force_login(_user("province", "56"))
    assert "successors" in client.get("/imports/").content.decode()
    assert upload().status_code == 302
    job = Job.objects.latest("pk")
    assert job.result["summary"] == "successors: đọc 2 dòng, tạo mới 0, cập nhật 2, không đổi 0"
    assert Successor.objects.get(legacy_id="22435@2025", successor_id="22453").share == Decimal(
        "0.5"
    )
    # an office may not change successors: every row refused, nothing written
    office = Unit.objects.create(
        code="BHXH-CL", name="BHXH Cam Lâm", level="office", parent_id="56"
    )
    Unit.objects.filter(code__in=["22708", "22453"]).update(parent=office)
    unit_paths_rebuild(actor=SYSTEM)
    client.force_login(_user("office", "BHXH-CL"))
    content = "legacy_code,successor_code,share\n22435,22708,1\n"
    assert upload().status_code == 302
    job = Job.objects.latest("pk")
    assert job.result["refused"] is True
    assert job.result["errors"][0]["message"] == "bạn không được sửa đơn vị kế thừa"
    assert Successor.objects.get(legacy_id="22435@2025", successor_id="22453").share == Decimal(
        "0.5"
    )


@pytest.mark.django_db
def test_official_names_show_at_once_on_cached_pages(cli, client, tmp_path: Path) -> None:
    """`units official` renames a unit loaded under a draft name: a page cached before it
    shows the official name on the next request (the data version moves), and a second run
    that changes nothing leaves the version (and the cache) alone."""
    from ansinh.monitoring.selectors import data_version

    f = _write(
        tmp_path / "units.csv",
        "code,name,level,parent_code\n"
        "56,Tỉnh Khánh Hòa,province,\n"
        "BHXH-CR,BHXH cơ sở Cam Ranh,office,56\n"
        "22411,Phường Cam Phúc Bắc (dự thảo),commune,BHXH-CR\n",
    )
    assert cli("import", "units", str(f)).code == 0
    p = _write(
        tmp_path / "p.csv",
        "person_id,unit_code,scheme,group,start_date\n"
        + "".join(f"p{i},22411,si_voluntary,freelancer,2025-08-0{i + 1}\n" for i in range(6)),
    )
    assert cli("import", "participations", str(p)).code == 0
    client.force_login(_user("province", "56"))
    page = client.get("/units/BHXH-CR/", {"as_of": "2025-09-30"}).content.decode()
    assert "Phường Cam Phúc Bắc (dự thảo)" in page
    before = data_version()
    assert cli("units", "official", "--province", "56").code == 0
    assert data_version() != before
    page = client.get("/units/BHXH-CR/", {"as_of": "2025-09-30"}).content.decode()
    assert "(dự thảo)" not in page and "Phường Bắc Cam Ranh" in page
    after = data_version()
    assert cli("units", "official", "--province", "56").code == 0
    assert data_version() == after
