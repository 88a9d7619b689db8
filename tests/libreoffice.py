"""Open a produced file in LibreOffice (headless) and print it to PDF, as an office would
before sending it; then read the PDF back with poppler (pdfinfo, pdftotext).

Skipped, with the reason, only where ``soffice`` is not installed and CI is not set; under
CI=true (``.ci/run`` installs libreoffice-writer-nogui and libreoffice-calc-nogui) it runs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest


def need_soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("soffice is missing under CI (.ci/run installs LibreOffice)")
        pytest.skip("LibreOffice (soffice) is not installed on this machine")
    for tool in ("pdfinfo", "pdftotext"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} (poppler-utils) is not installed on this machine")
    return exe


def to_pdf(data: bytes, name: str, tmp_path: Path) -> Path:
    """Write ``data`` as ``name`` and convert it with LibreOffice; the PDF's path."""
    exe = need_soffice()
    src = tmp_path / name
    src.write_bytes(data)
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            exe,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = src.with_suffix(".pdf")
    assert pdf.exists(), f"LibreOffice wrote no PDF for {name}"
    return pdf


def pages(pdf: Path) -> int:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True).stdout
    match = re.search(r"^Pages:\s+(\d+)", out, re.M)
    assert match, out
    return int(match.group(1))


def page_size_mm(pdf: Path) -> tuple[float, float]:
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True, text=True).stdout
    match = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", out, re.M)
    assert match, out
    return float(match.group(1)) * 25.4 / 72, float(match.group(2)) * 25.4 / 72


def page_texts(pdf: Path) -> list[str]:
    """The text of each page, whitespace collapsed."""
    out = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, check=True, text=True
    ).stdout
    return [" ".join(p.split()) for p in out.split("\f")][: pages(pdf)]
