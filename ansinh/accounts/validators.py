"""Django's password validators, with the one message Django's Vietnamese catalogue lacks."""

from __future__ import annotations

from django.contrib.auth import password_validation
from django.utils.translation import gettext as _


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's minimum length (8), its message in Vietnamese (English in our catalogue)."""

    def get_error_message(self) -> str:
        return _("Mật khẩu này quá ngắn: cần ít nhất %(n)s ký tự.") % {"n": self.min_length}

    def get_help_text(self) -> str:
        return _("Mật khẩu cần ít nhất %(n)s ký tự.") % {"n": self.min_length}
