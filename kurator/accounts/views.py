"""The accounts pages are Django's LoginView and LogoutView (see urls.py); only the form is tuned here."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from kurator.accounts.throttle import SignInLocked, authenticate_throttled


class KuratorLoginForm(AuthenticationForm):
    """Django's login form behind the sign-in lock-out (kurator.accounts.throttle), with browser hints for
    password managers and mobile keyboards."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        )
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            if self.request is None:
                raise RuntimeError("KuratorLoginForm needs the request (the lock-out counts by address)")
            try:
                self.user_cache = authenticate_throttled(
                    request=self.request, username=username, password=password
                )
            except SignInLocked as exc:
                raise ValidationError(exc.message, code="locked_out") from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
