"""The official administrative units, read from the PyPI package ``vietnamadminunits``.

Since 1 July 2025 (Decision 19/2025/QĐ-TTg): 34 provinces and their commune-level units (xã,
phường, đặc khu), with the official codes. Until 30 June 2025: 63 provinces, their districts
and communes. The package's conversion table says, for each former commune, the new commune it
merged into wholly, or the new communes it was divided between and which of them is the main
one (``isDefaultNewWard``). Nothing here is kept by hand (DOMAIN.md section 2).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class OfficialUnit:
    code: str
    name: str
    kind: str = ""  # Phường | Xã | Đặc khu | Thành phố | Huyện | …
    lat: float | None = None
    lon: float | None = None
    area_km2: float | None = None


@dataclass
class LegacyDistrict:
    code: str
    name: str
    province_code: str
    communes: list[OfficialUnit] = field(default_factory=list)


@dataclass
class OfficialProvince:
    code: str
    name: str
    communes: list[OfficialUnit]
    # until 30 June 2025 (``legacy()``): former provinces (code -> name), their districts,
    # and each former commune's successors: [(new commune code, main?)]
    legacy_provinces: dict[str, str] = field(default_factory=dict)
    legacy_districts: list[LegacyDistrict] = field(default_factory=list)
    successors: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)


@functools.cache
def _converter() -> dict[str, Any]:
    data = resources.files("vietnamadminunits").joinpath("data/converter_2025.json")
    return dict(json.loads(data.read_text(encoding="utf-8")))


def _q(sql: str, *params: str) -> list[dict[str, Any]]:
    # the package's query() takes no parameters: the values are codes checked to be digits
    assert all(p.isdigit() or p.isalpha() for p in params)
    # imported here: the package loads its address parser and geopy (≈ 1 s), which every
    # `ansinh` command and page process would pay for a table only `units official` reads
    from vietnamadminunits.database.main import query

    return list(query(sql % tuple(f"'{p}'" for p in params)))


def province_codes() -> list[str]:
    return [r["provinceCode"] for r in _q("SELECT DISTINCT provinceCode FROM admin_units")]


def official_province(code: str, *, legacy: bool = False) -> OfficialProvince | None:
    """The province of official code ``code`` with its communes (ordered by code), and with
    ``legacy`` the units it was made of until 30 June 2025; None for an unknown code."""
    if not code.isdigit():
        return None
    rows = _q(
        "SELECT province, provinceKey, ward, wardType, wardCode, wardLat, wardLon, wardAreaKm2 "
        "FROM admin_units WHERE provinceCode = %s ORDER BY wardCode",
        code,
    )
    if not rows:
        return None
    communes = [
        OfficialUnit(
            code=r["wardCode"],
            name=r["ward"],
            kind=r["wardType"] or "",
            lat=r["wardLat"],
            lon=r["wardLon"],
            area_km2=r["wardAreaKm2"],
        )
        for r in rows
        if r["wardCode"]
    ]
    out = OfficialProvince(code=code, name=rows[0]["province"], communes=communes)
    if legacy:
        _add_legacy(out, new_key=rows[0]["provinceKey"])
    return out


def _add_legacy(out: OfficialProvince, *, new_key: str) -> None:
    conv = _converter()
    old_keys = conv["DICT_PROVINCE"].get(new_key, [new_key])
    new_codes = {
        r["wardKey"]: r["wardCode"]
        for r in _q("SELECT wardKey, wardCode FROM admin_units WHERE provinceKey = %s", new_key)
    }
    whole = {
        old: new_codes[new]
        for new, olds in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].get(new_key, {}).items()
        if new in new_codes
        for old in olds
    }
    divided = conv["DICT_PROVINCE_WARD_DIVIDED"].get(new_key, {})
    districts: dict[str, LegacyDistrict] = {}
    for pkey in old_keys:
        rows = _q(
            "SELECT province, provinceKey, provinceCode, district, districtKey, districtCode, "
            "ward, wardKey, wardCode, wardType, wardLat, wardLon FROM admin_units_legacy "
            "WHERE provinceKey = %s ORDER BY districtCode, wardCode",
            pkey,
        )
        for r in rows:
            out.legacy_provinces.setdefault(r["provinceCode"], r["province"])
            dcode = r["districtCode"]
            if not dcode:
                continue
            district = districts.setdefault(
                dcode, LegacyDistrict(dcode, r["district"], r["provinceCode"])
            )
            if not r["wardCode"]:
                continue
            district.communes.append(
                OfficialUnit(
                    code=r["wardCode"],
                    name=r["ward"],
                    kind=r["wardType"] or "",
                    lat=r["wardLat"],
                    lon=r["wardLon"],
                )
            )
            key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}"
            if key in whole:
                out.successors[r["wardCode"]] = [(whole[key], True)]
            elif key in divided:
                succ = [
                    (new_codes[w["newWardKey"]], bool(w["isDefaultNewWard"]))
                    for w in divided[key]
                    if w["newWardKey"] in new_codes
                ]
                if succ and not any(main for _c, main in succ):
                    succ[0] = (succ[0][0], True)
                if succ:
                    out.successors[r["wardCode"]] = sorted(succ)
    out.legacy_districts = sorted(districts.values(), key=lambda d: d.code)
