"""Acceptance: bad input and wrong usage of the command line (SPEC section 1).

Refused files exit 1 with ``KIND: refused, E errors`` on stdout and at most 20 lines
``row R, column C: message`` on stderr (Vietnamese ``dòng R, cột C:`` by default),
``--errors`` writes every problem to a CSV, nothing is written (the database is compared
before and after), ``--dry-run`` writes nothing; wrong usage exits 2; never a traceback."""

from __future__ import annotations

import csv
import io
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.acceptance.conftest import ANSINH, Result, Site
from tests.acceptance.files import write_xlsx

UNITS = (
    "code,name,level,parent_code\n"
    "KH,Khánh Hòa,province,\nO1,BHXH cơ sở Một,office,KH\n"
    "C1,Xã Một,commune,O1\nC2,Xã Hai,commune,O1\n"
)
P = "person_id,unit_code,scheme,group,start_date,end_date\n"
C = "as_of,unit_code,scheme,group,participants\n"

# kind, file text, the (row, column) of every expected problem
CASES: list[tuple[str, str, list[tuple[int, str]]]] = [
    ("units", "code,name,level,parent_code\nC9,Xã Chín,commune,NOPE\n", [(2, "parent_code")]),
    (
        "units",
        "code,name,level,parent_code\nC9,Xã Chín,ward,O1\nC8,,commune,O1\n",
        [(2, "level"), (3, "name")],
    ),
    ("units", "code,name,level,parent_code\nC9,Xã Chín,commune,\n", [(2, "parent_code")]),
    (
        "units",
        "code,name,level,parent_code,valid_from,valid_to\nC9,Xã,commune,O1,2025-07-01,2025-06-30\n",
        [(2, "valid_to")],
    ),
    (
        "units",
        "code,name,level,parent_code\nC9,Xã Chín,commune,O1\nC9,Xã Chín,commune,O1\n",
        [(3, "code")],
    ),
    ("units", "code,name,level\nC9,Xã Chín,commune\n", [(1, "parent_code")]),
    (
        "population",
        "year,unit_code,population\n2025,C1,-5\n20x5,C1,5\n2025,NOPE,5\n",
        [(2, "population"), (3, "year"), (4, "unit_code")],
    ),
    ("population", "year,unit_code,population,group\n2025,C1,5,teacher\n", [(2, "group")]),
    (
        "targets",
        "year,unit_code,indicator,target\n2025,C1,hi_cov,5\n2025,C1,hi_coverage,101\n2025,C1,si_voluntary,12.5\n2025,C1,hi,\n",
        [(2, "indicator"), (3, "target"), (4, "target"), (5, "target")],
    ),
    (
        "counts",
        C
        + "2025-02-30,C1,hi,,5\n09-30-2025,C1,hi,,5\n2025-09-30,C1,bhyt,,5\n2025-09-30,C1,hi,,-1\n2025-09-30,C2,hi,,abc\n",
        [(2, "as_of"), (3, "as_of"), (4, "scheme"), (5, "participants"), (6, "participants")],
    ),
    (
        "counts",
        C + "2025-09-30,C1,hi,,5\n2025-09-30,C1,hi,,6\n",
        [(3, "as_of, unit_code, scheme, group")],
    ),
    (
        "participations",
        P
        + "P1,C1,hi,household,2025-05-01,2025-04-30\n,C1,hi,household,2025-05-01,\nP3,C1,hi,teacher,2025-05-01,\nP4,C7,hi,household,2025-05-01,\nP5,C1,hi,household,2025-13-01,\n",
        [(2, "end_date"), (3, "person_id"), (4, "group"), (5, "unit_code"), (6, "start_date")],
    ),
    (
        "participations",
        "person_id,unit_code,scheme,group\nP1,C1,hi,household\n",
        [(1, "start_date")],
    ),
]


def _error_lines(err: str, lang: str) -> list[str]:
    word = ("row", "column") if lang == "en" else ("dòng", "cột")
    pattern = re.compile(rf"^{word[0]} (\d+), {word[1]} ([^:]*): .+$")
    lines = err.splitlines()
    # stderr repeats the refusal line first (for scripts that read only stderr)
    refused = ("refused", "errors") if lang == "en" else ("bị từ chối", "lỗi")
    assert re.fullmatch(rf"\w+: {refused[0]}, \d+ {refused[1]}", lines[0]), lines[:1]
    lines = lines[1:]
    for line in lines:
        assert pattern.match(line), line
    return lines


def _check_refused(res: Result, kind: str, expected: list[tuple[int, str]], lang: str) -> None:
    assert res.code == 1, (res.out, res.err)
    assert "Traceback" not in res.err
    n = len(expected)
    assert res.out == (
        f"{kind}: refused, {n} errors\n" if lang == "en" else f"{kind}: bị từ chối, {n} lỗi\n"
    )
    lines = _error_lines(res.err, lang)
    word = ("row", "column") if lang == "en" else ("dòng", "cột")
    got = [
        (int(m.group(1)), m.group(2))
        for m in (re.match(rf"^{word[0]} (\d+), {word[1]} ([^:]*):", ln) for ln in lines)
        if m
    ]
    assert got == expected


WHOLE = [
    ("units", "empty.csv"),
    ("units", "binary.csv"),
    ("units", "latin.csv"),
    ("counts", "broken.xlsx"),
    ("counts", "header.csv"),
]
OK = P + "Q1,C1,hi,household,2025-01-01,\nQ2,C2,ui,employee,2025-02-01,2025-12-31\n"


def _write_files(s: Site) -> None:
    for i, (_kind, text, _exp) in enumerate(CASES):
        s.write(f"bad{i}.csv", text, bom=i % 2 == 1)
    (s.home / "empty.csv").write_bytes(b"")
    (s.home / "binary.csv").write_bytes(b"\x00\x01\x02\xff" * 200)
    (s.home / "latin.csv").write_bytes(
        "code,name,level,parent_code\nC9,Xã Chín,commune,O1\n".encode("latin-1", "replace")
    )
    (s.home / "broken.xlsx").write_bytes(b"PK\x03\x04" + b"no zip" * 30)
    s.write("header.csv", C)
    counts = [
        {"as_of": "2025-09-30", "unit_code": "C1", "scheme": "hi", "participants": 5},
        {"as_of": "2025.09.30", "unit_code": "C1", "scheme": "hi", "participants": 5},
    ]
    write_xlsx(s.home / "dates.xlsx", counts, ["as_of", "unit_code", "scheme", "participants"])
    s.write("ok.csv", OK)


def _refusals(s: Site) -> list[tuple[list[str], dict[str, str]]]:
    en = {"ANSINH_LANG": "en"}
    calls: list[tuple[list[str], dict[str, str]]] = []
    for i, (kind, _text, _exp) in enumerate(CASES):
        path, errors = str(s.home / f"bad{i}.csv"), str(s.home / f"errors{i}.csv")
        calls.append((["import", kind, path, "--errors", errors], en))
        calls.append((["import", kind, path], {}))  # Vietnamese by default
        calls.append((["import", kind, path, "--dry-run"], en))
    calls += [(["import", k, str(s.home / n)], en) for k, n in WHOLE]
    calls.append((["import", "counts", str(s.home / "dates.xlsx")], en))
    calls.append((["import", "participations", str(s.home / "ok.csv"), "--dry-run"], en))
    return calls


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Units loaded; then every refused file, --dry-run, wrong usage and --help run at once
    (one process), with the database compared before and after (``site.unchanged``)."""
    s = Site(tmp_path_factory.mktemp("bad"))
    try:
        r = s.run("import", "units", str(s.write("units.csv", UNITS)))
        assert r.code == 0, r.err
        _write_files(s)
        before = s.fingerprint()
        s.prefetch(
            [
                *_refusals(s),
                *USAGE,
                _bad_errors_path(s),
                *HELP,
                (["kpi", "--help"], {"ANSINH_LANG": "en"}),
            ]
        )
        s.unchanged = s.fingerprint() == before  # type: ignore[attr-defined]
        yield s
    finally:
        s.drop()


def test_refused_files_write_nothing(site: Site) -> None:
    results = site.many(_refusals(site))
    for i, (kind, text, expected) in enumerate(CASES):
        en, vi, dry = results[3 * i : 3 * i + 3]
        _check_refused(en, kind, expected, "en")
        _check_refused(vi, kind, expected, "vi")
        _check_refused(dry, kind, expected, "en")
        rows = list(csv.reader(io.StringIO((site.home / f"errors{i}.csv").read_text("utf-8"))))
        assert rows[0] == ["row", "column", "value", "message"]
        assert [(int(r[0]), r[1]) for r in rows[1:]] == expected
        for r in rows[1:]:
            assert r[3]  # a message in the user's words
            if r[0] != "1":
                raw = next(csv.reader(io.StringIO(text.splitlines()[int(r[0]) - 1])))
                # the value as it was in the file (a repeated key: its values joined)
                assert all(v.strip() in raw for v in r[2].split(" | ") if v.strip()), (r, raw)
    assert site.unchanged  # type: ignore[attr-defined]


def test_whole_file_problems(site: Site) -> None:
    results = site.many(_refusals(site))[3 * len(CASES) :]
    for (kind, name), r in zip(WHOLE, results, strict=False):
        assert r.code == 1, (name, r.out, r.err)
        assert re.fullmatch(rf"{kind}: refused, [1-9]\d* errors\n", r.out), (name, r.out)
        assert "Traceback" not in r.err and r.err.strip(), name
        _error_lines(r.err, "en")
    # a text date of no accepted form where an XLSX has date cells: row 3 refused, the date
    # cell of row 2 is fine
    _check_refused(results[len(WHOLE)], "counts", [(3, "as_of")], "en")
    assert site.unchanged  # type: ignore[attr-defined]


def test_twenty_lines_at_most_and_all_in_the_errors_csv(site: Site) -> None:
    rows = "".join(f"P{i},C1,hi,household,2025-01-{i + 1:02d},2024-01-01\n" for i in range(27))
    path = site.write("many.csv", P + rows)
    out = site.home / "many-errors.csv"
    before = site.fingerprint()
    res = site.run("import", "participations", str(path), "--errors", str(out), lang="en")
    assert res.code == 1 and res.out == "participations: refused, 27 errors\n"
    lines = _error_lines(res.err, "en")
    assert len(lines) == 20
    records = list(csv.reader(io.StringIO(out.read_text("utf-8"))))
    assert len(records) == 28 and records[27][:3] == ["28", "end_date", "2024-01-01"]
    assert site.fingerprint() == before


def test_dry_run_reports_and_writes_nothing(site: Site) -> None:
    dry = site.many(_refusals(site))[-1]
    assert dry.code == 0, dry.err
    assert dry.out == "participations: 2 rows read, 2 created, 0 updated, 0 unchanged\n"
    assert site.unchanged  # type: ignore[attr-defined]
    before = site.fingerprint()
    path = str(site.home / "ok.csv")
    real, again = site.many([(["import", "participations", path], {"ANSINH_LANG": "en"})] * 2)
    assert real.out == dry.out
    assert again.out == "participations: 2 rows read, 0 created, 0 updated, 2 unchanged\n"
    assert site.fingerprint() != before


USAGE = [
    ["import", "nope", "x.csv"],
    ["import", "units"],
    ["import", "units", "does-not-exist.csv"],
    ["import"],
    ["kpi"],
    ["kpi", "--as-of", "2025-13-01"],
    ["kpi", "--as-of", "2025-9-30"],
    ["kpi", "--as-of", "30/09/2025"],
    ["kpi", "--as-of", "2025-09-30", "--by", "commune"],
    ["kpi", "--as-of", "2025-09-30", "--format", "xml"],
    ["kpi", "--as-of"],
    ["frobnicate"],
    [],
    ["--no-such-flag"],
]


def _bad_errors_path(s: Site) -> tuple[list[str], dict[str, str]]:
    """A good file with an --errors path that cannot be written: refused before importing."""
    ok = str(s.home / "ok.csv")
    return (["import", "participations", ok, "--errors", "/nonexistent/dir/e.csv"], {})


def test_wrong_usage_exits_2(site: Site) -> None:
    calls = [*USAGE, _bad_errors_path(site)]
    for args, r in zip(calls, site.many(calls), strict=True):
        assert r.code == 2, (args, r.out, r.err)
        assert r.err.strip() and "Traceback" not in r.err, args
    assert site.unchanged  # type: ignore[attr-defined]


def _shell(command: str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    e = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("ANSINH_") and k != "DJANGO_SETTINGS_MODULE"
    }
    e.update(env, ANSINH_HOME=str(home))
    return subprocess.run(
        ["bash", "-c", command],
        env=e,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=home.parent,
    )


HELP = [
    ["-h"],
    *([c, "--help"] for c in ("init", "demo", "serve", "generate", "import", "kpi", "report")),
    *(
        [c, "--help"]
        for c in ("plan", "outreach", "arrears", "worklists", "user", "backup", "restore")
    ),
    ["report", "progress", "--help"],
    ["plan", "build", "--help"],
    ["outreach", "funnel", "--help"],
    ["user", "add", "--help"],
    ["user", "token", "--help"],
]


def test_help_of_every_command(site: Site) -> None:
    for args, r in zip(HELP, site.many(HELP), strict=True):
        assert r.code == 0 and r.out.startswith("usage: ansinh"), (args, r.err)
        assert not r.err, (args, r.err)
    en = site.many([(["kpi", "--help"], {"ANSINH_LANG": "en"})])[0]
    for flag in ("--as-of", "--unit", "--by", "--format"):
        assert flag in en.out


def test_help_and_unknown_command_from_a_real_shell(tmp_path: Path) -> None:
    home = tmp_path / "never-used-home"
    assert not home.exists()
    ans = shlex.quote(ANSINH)
    top = _shell(f"{ans} --help", home, ANSINH_LANG="en")
    assert top.returncode == 0 and not top.stderr, top.stderr
    for command in ("init", "import", "kpi", "user"):
        assert command in top.stdout
    bad = _shell(f"{ans} frobnicate", home)
    assert bad.returncode == 2 and "frobnicate" in bad.stderr and "Traceback" not in bad.stderr
    url = _shell(f"{ans} kpi --as-of 2025-09-30", home, ANSINH_DATABASE_URL="nonsense://x")
    assert url.returncode == 2 and "ANSINH_DATABASE_URL" in url.stderr
    assert "Traceback" not in url.stderr
    # a fresh home works for a real command too: the database is created on first use
    units = tmp_path / "units.csv"
    units.write_text(UNITS, encoding="utf-8")
    first = _shell(
        f"{ans} import units {shlex.quote(str(units))} && {ans} kpi --as-of 2025-09-30 --unit O1",
        home,
        ANSINH_LANG="en",
    )
    assert first.returncode == 0, first.stderr
    summary, figures = first.stdout.split("\n", 1)
    assert summary == "units: 4 rows read, 4 created, 0 updated, 0 unchanged"
    assert '"unit": "O1"' in figures and "Traceback" not in first.stderr
