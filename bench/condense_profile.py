"""Cut a pyinstrument text profile to the frames taking at least SHARE of the root (default
0.5 %), keeping the tree: ``python bench/condense_profile.py FILE.txt [SHARE]``, in place."""

from __future__ import annotations

import re
import sys
from pathlib import Path

LINE = re.compile(r"^[\s│├└─]*(\d+\.\d+)\s")


def condense(path: Path, share: float = 0.005) -> None:
    out, root = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        m = LINE.match(line)
        if m is None:
            out.append(line)
            continue
        t = float(m.group(1))
        root = t if root is None else root
        if t >= root * share:
            out.append(line)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


if __name__ == "__main__":
    condense(Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 0.005)
