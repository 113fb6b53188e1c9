"""The accounts pages are Django's LoginView and LogoutView (see urls.py); only the form is tuned here."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm


class KuratorLoginForm(AuthenticationForm):
    """Django's login form with browser hints for password managers and mobile keyboards."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        )
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})
