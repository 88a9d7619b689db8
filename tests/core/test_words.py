"""Words kept in the database read in the reader's language (``ansinh.core.words``)."""

from __future__ import annotations

import datetime as dt

from django.utils import translation

from ansinh.core import words


def test_stored_words_are_read_in_either_language() -> None:
    text = words.stored("đã từ chối nhận tin nhắn ngày %(d)s", d=dt.date(2026, 3, 9))
    with translation.override("vi"):
        assert words.shown(text) == "đã từ chối nhận tin nhắn ngày 09/03/2026"
    with translation.override("en"):
        assert words.shown(text) == "opted out of messages on 2026-03-09"
        assert words.shown(words.stored("đã yêu cầu không liên hệ")) == "asked not to be contacted"


def test_other_text_is_shown_as_it_is() -> None:
    long = words.stored("Zalo ZNS trả lỗi %(c)s: %(t)s", c=-124, t="x" * 1000)
    assert len(long) < 500  # a server's long answer is cut to fit the column
    missing = '{"msgid": "a %(x)s", "values": {"y": "1"}}'
    for text in ("", "Access token invalid", '{"msgid": broken', missing):
        assert words.shown(text) == text
