"""Fixtures of the import tests: a small unit tree loaded through the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

UNITS = (
    "code,name,level,parent_code\n"
    # children before their parents: the importer resolves them
    "C1,Xã Một,commune,O1\n"
    "C2,Xã Hai,commune,O1\n"
    "C3,Phường Ba,commune,O2\n"
    "O1,BHXH cơ sở Một,office,KH\n"
    "O2,BHXH cơ sở Hai,office,KH\n"
    "KH,Khánh Hòa,province,\n"
)


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write a text file (UTF-8 unless told) in the test's folder and return its path."""

    def _write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return _write


@pytest.fixture
def units(cli: Callable, write: Callable) -> None:
    res = cli("import", "units", str(write("units.csv", UNITS)))
    assert res.code == 0, res.err
