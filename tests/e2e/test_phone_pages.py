"""Every page of every role at 390 × 844 (a phone), in both languages: no sideways scroll.

The pages are found as a user finds them: the links of the navigation, then the links of
those pages (one of each kind: a list's first detail page, not all of them)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from tests.e2e.conftest import form_login

LOGINS = {
    "admin": "BienXanh-HonChong-25",
    "tinh": "YenSao-ThapBa-2025",
    "coso.khanhson": "TramHuong-DaBan-25",
    "phunu": "VinhCamRanh-BinhBa-25",
    "xem.nhatrang": "NuiChua-TanhLinh-25",
}
# links that change something, download a file or leave the session are not followed
SKIP = re.compile(
    r"/(logout|delete|export|download|api|static|media|i18n|admin)\b|[?&](format|export)="
    r"|\.(csv|xlsx|pdf|docx|zip|json|png)\b"
)
WIDTH = 390
MAX_PAGES = 45  # per role and language


def _kind(path: str) -> str:
    """A page's kind: the path with its segments holding a digit made generic."""
    return "/".join("*" if any(c.isdigit() for c in p) else p for p in path.split("/"))


def _links(pg: Any, base: str) -> list[str]:
    hrefs = pg.eval_on_selector_all(
        "a[href]:not([download])", "els => els.map(e => e.getAttribute('href'))"
    )
    out = []
    for h in hrefs:
        if not h or h.startswith(("#", "mailto:", "tel:", "javascript:")):
            continue
        parts = urlsplit(h)
        if parts.netloc and parts.netloc != urlsplit(base).netloc:
            continue
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if not path.startswith("/") or SKIP.search(path):
            continue
        out.append(path)
    return out


def _overflow(pg: Any) -> str:
    """What sticks out to the right of a 390 px page (empty when nothing)."""
    return pg.evaluate(
        """(w) => {
        const out = [];
        // a box of its own that scrolls sideways (a table in an overflow-x:auto wrapper)
        for (const el of document.querySelectorAll("main *")) {
          const ox = getComputedStyle(el).overflowX;
          if ((ox === "auto" || ox === "scroll") && el.scrollWidth > el.clientWidth + 1
              && !["TEXTAREA", "SELECT", "INPUT"].includes(el.tagName))
            out.push("scrolls: " + el.tagName + "." + el.className + " " + el.scrollWidth + ">" + el.clientWidth);
          if (out.length > 3) break;
        }
        if (out.length) return out.join(" | ");
        if (document.documentElement.scrollWidth <= w) return "";
        for (const el of document.querySelectorAll("body *")) {
          const r = el.getBoundingClientRect();
          if (r.right > w + 1 && r.width > 0 && getComputedStyle(el).position !== "fixed")
            out.push(el.tagName + (el.id ? "#" + el.id : "") + "." + el.className + " " + Math.round(r.right));
          if (out.length > 5) break;
        }
        return document.documentElement.scrollWidth + ": " + out.join(" | ");
      }""",
        WIDTH,
    )


def test_every_page_fits_a_phone(browser: Any, demo_site: Any) -> None:
    problems: list[str] = []
    seen_total = 0
    for username, password in LOGINS.items():
        for lang in ("vi", "en"):
            ctx = browser.new_context(viewport={"width": WIDTH, "height": 844}, locale="vi-VN")
            pg = ctx.new_page()
            pg.set_default_timeout(30000)
            pg.base = demo_site.url
            form_login(pg, username, password)
            if lang == "en":  # the language switch sits behind the menu on a phone
                pg.click("button.menu")
                pg.click("form.lang button")
                pg.wait_for_load_state("load")
                assert pg.get_attribute("html", "lang") == "en"
            queue = ["/"] + _links(pg, demo_site.url)
            kinds: set[str] = set()
            depth = {p: 0 for p in queue}
            while queue and len(kinds) < MAX_PAGES:
                path = queue.pop(0)
                kind = _kind(urlsplit(path).path)
                if kind in kinds:
                    continue
                kinds.add(kind)
                try:
                    res = pg.goto(demo_site.url + path)
                except Exception as exc:  # a file download: not a page
                    if "Download" in str(exc):
                        continue
                    raise
                if (
                    res is None
                    or res.status >= 400
                    or "html" not in res.headers.get("content-type", "")
                ):
                    continue
                pg.wait_for_load_state("load")
                seen_total += 1
                bad = _overflow(pg)
                if bad:
                    problems.append(f"{username} {lang} {path}: {bad}")
                if depth[path] < 2:
                    for link in _links(pg, demo_site.url):
                        if link not in depth:
                            depth[link] = depth[path] + 1
                            queue.append(link)
            ctx.close()
    assert seen_total > 60, seen_total
    print(f"{seen_total} pages checked at {WIDTH} px")
    assert problems == [], "\n".join(problems)
