"""Revocable API tokens (R4): the writes and reads of ``ApiToken``.

A token is made for the signed-in user only (on the «API tokens» page or by ``POST /api/v1/auth/token/``
with a password); its key is returned once and only its SHA-256 is kept. Its owner, the head of sales and the
administrator (``accounts.manage_users``) see and revoke it. The app's services.py and selectors.py belong to
the users pages; tokens keep their own module.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from kurator.access.audit import audit_record
from kurator.access.models import AuditAction
from kurator.access.policy import can
from kurator.accounts.models import ApiToken
from kurator.core.errors import AccessDenied, FieldErrors

# Keys start with this, so a key pasted into a chat or a repository is recognisable (and greppable).
KEY_PREFIX = "krt_"
VISIBLE_CHARS = 12  # "krt_" and 8 random characters, shown in lists to tell tokens apart
NAME_MAX_LENGTH = ApiToken._meta.get_field("name").max_length or 100


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(30)  # 240 random bits


@transaction.atomic
def api_token_create(
    *,
    actor: Any,
    name: str = "",
    expires_at: datetime | None = None,
    request: HttpRequest | None = None,
) -> tuple[ApiToken, str]:
    """A new token of ``actor`` and its key (the only time the key is known)."""
    if not (actor and actor.is_authenticated and actor.is_active):
        raise AccessDenied
    name = (name or "").strip()
    errors = FieldErrors()
    if len(name) > NAME_MAX_LENGTH:
        errors.add(
            "name",
            _("The name is longer than %(max)d characters.") % {"max": NAME_MAX_LENGTH},
            code="max_length",
        )
    if expires_at is not None and expires_at <= timezone.now():
        errors.add("expires_at", _("The expiry must be in the future."), code="past")
    errors.raise_if_any()
    key = generate_key()
    token = ApiToken.objects.create(
        user=actor, name=name, prefix=key[:VISIBLE_CHARS], key_hash=hash_key(key), expires_at=expires_at
    )
    audit_record(
        action=AuditAction.TOKEN_CREATED,
        allowed=True,
        user=actor,
        obj=token,
        request=request,
        detail=f"{token.prefix} {name}".strip(),
    )
    return token, key


@transaction.atomic
def api_token_revoke(*, actor: Any, token: ApiToken, request: HttpRequest | None = None) -> ApiToken:
    """Revoke ``token`` at once (its owner, the head of sales or the administrator). Revoking a revoked token
    changes nothing."""
    if not _may_manage(actor, token):
        raise AccessDenied
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is not None:
        return locked
    locked.revoked_at = timezone.now()
    locked.revoked_by = actor
    locked.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        action=AuditAction.TOKEN_REVOKED,
        allowed=True,
        user=actor,
        obj=locked,
        request=request,
        detail=f"{locked.prefix} {locked.name}".strip(),
    )
    return locked


def api_tokens_revoke_all(*, actor: Any, user: Any, request: HttpRequest | None = None) -> int:
    """Revoke every live token of ``user`` (when someone leaves); how many were revoked."""
    count = 0
    for token in ApiToken.objects.live().filter(user=user).order_by("pk"):
        api_token_revoke(actor=actor, token=token, request=request)
        count += 1
    return count


def _may_manage(actor: Any, token: ApiToken) -> bool:
    if not (actor and actor.is_authenticated and actor.is_active):
        return False
    return token.user_id == actor.pk or can(actor, "accounts.manage_users")


def visible_api_tokens(actor: Any) -> QuerySet[ApiToken]:
    """Tokens ``actor`` may see: its own; everyone's for the head of sales and the administrator."""
    if not (actor and actor.is_authenticated and actor.is_active):
        return ApiToken.objects.none()
    tokens = ApiToken.objects.select_related("user", "revoked_by")
    if can(actor, "accounts.manage_users"):
        return tokens
    return tokens.filter(user=actor)


def api_token_list(*, actor: Any, owner_id: int | None = None, others: bool = False) -> QuerySet[ApiToken]:
    """The actor's own tokens, newest first; ``owner_id``: one user's (empty unless the actor may see them);
    ``others=True``: the tokens of everyone else the actor may see."""
    tokens = visible_api_tokens(actor)
    if others:
        tokens = tokens.exclude(user=actor)
    elif owner_id is not None:
        tokens = tokens.filter(user_id=owner_id)
    else:
        tokens = tokens.filter(user=actor)
    return tokens.order_by("-created_at", "-id")


def api_token_get(*, actor: Any, token_id: Any) -> ApiToken:
    """One token the actor may see (404 otherwise, whoever's it is)."""
    try:
        return visible_api_tokens(actor).get(pk=int(token_id))
    except (ApiToken.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404 from None
