"""Refused files stay small (issue 21 item 4): the installed command line, in its own process,
refuses a 50 MB one-line CSV and a zip-bomb XLSX (a few MB that decompress to 2.5 GB) in
seconds, under 512 MiB of memory, writing nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

BIN = Path(sys.executable).parent

# runs the command given and prints the peak memory (KiB) of it alone: this test's own
# RUSAGE_CHILDREN would also count every process the suite started before
MEASURE = (
    "import resource, subprocess, sys; "
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "sys.stderr.write(p.stderr); sys.stdout.write(p.stdout); "
    "sys.stderr.write('\\nPEAK_KIB=%d\\n' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
    "sys.exit(p.returncode)"
)


def test_refused_big_files_in_bounded_time_and_memory(tmp_path: Path) -> None:
    one = tmp_path / "one.csv"
    one.write_bytes(b"as_of,unit_code,scheme,participants\n" + b"x," * (25 << 20) + b"\n")
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            block = b"<c>0</c>" * (1 << 17)
            for _i in range(2500):
                member.write(block)
    assert bomb.stat().st_size < 8 << 20
    env = {k: v for k, v in os.environ.items() if k != "ANSINH_DATABASE_URL"}
    env["ANSINH_HOME"] = str(tmp_path / "home")
    env["ANSINH_LANG"] = "en"
    subprocess.run([str(BIN / "ansinh"), "init"], env=env, check=True, capture_output=True)
    for path, words in ((one, "longer than 1 MB"), (bomb, "decompresses to more than")):
        t0 = time.monotonic()
        p = subprocess.run(
            [sys.executable, "-c", MEASURE, str(BIN / "ansinh"), "import", "counts", str(path)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert time.monotonic() - t0 < 60
        assert p.returncode == 1, p.stderr
        assert p.stdout == "counts: refused, 1 errors\n"
        assert words in p.stderr and "Traceback" not in p.stderr
        peak_kib = int(p.stderr.rsplit("PEAK_KIB=", 1)[1])
        assert peak_kib < 512 * 1024, (path.name, peak_kib)
