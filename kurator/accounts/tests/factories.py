"""Test helpers for the accounts app."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from kurator.accounts.models import ApiToken
from kurator.accounts.tokens import generate_key, hash_key


def api_token_key(user: Any, *, name: str = "tests", in_use: bool = True) -> str:
    """The key of a new live API token of ``user`` (``Authorization: Token <key>``).

    ``in_use`` (the default) marks it as used just now, like a token an integration already calls with, so a
    test counting a request's queries counts the request's own and not the first-use write of last_used_at
    (made at most once a minute per token, see kurator.accounts.authentication)."""
    key = generate_key()
    ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:12],
        key_hash=hash_key(key),
        last_used_at=timezone.now() if in_use else None,
    )
    return key
