"""Words kept in the database and read in either language.

A message decided while nobody reads it (why a reminder was skipped or failed, written by the
sender job in the language it runs in) is stored as its Vietnamese msgid and its values
(``stored``; the msgid marked with ``gettext_noop`` where it is written, so that it is in the
catalogue) and put into the reader's language when shown (``shown``). Text in any other form
(a server's own words, rows written before) is shown as it is."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils.translation import gettext

from ansinh.core.formats import fmt_date

_START = '{"msgid": '
# longest value kept (a server's answer, an address): the stored text stays within its column
VALUE_MAX = 150


def stored(msgid: str, /, **values: object) -> str:
    """``msgid`` with its ``%(name)s`` values as stored: dates kept as dates (shown in the
    reader's form), anything else as its text, at most VALUE_MAX characters."""
    kept: dict[str, Any] = {
        k: {"date": v.isoformat()} if isinstance(v, dt.date) else str(v)[:VALUE_MAX]
        for k, v in values.items()
    }
    return json.dumps({"msgid": msgid, "values": kept}, ensure_ascii=False)


def shown(text: str) -> str:
    """The words of ``text`` (``stored``) in the active language; other text as it is."""
    if not text.startswith(_START):
        return text
    try:
        data = json.loads(text)
        msgid = str(data["msgid"])
        values = {
            k: fmt_date(dt.date.fromisoformat(v["date"])) if isinstance(v, dict) else v
            for k, v in dict(data.get("values") or {}).items()
        }
        return gettext(msgid) % values if values else gettext(msgid)
    except (ValueError, KeyError, TypeError):
        return text
