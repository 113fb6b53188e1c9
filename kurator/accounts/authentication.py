"""``Authorization: Token <key>`` for the API, checked against ``ApiToken`` (R4).

The header is DRF's (this class extends its TokenAuthentication, so the OpenAPI schema still names the
``tokenAuth`` scheme); the key is looked up by its SHA-256. A revoked or expired token, and any token of a
deactivated user, is refused with 401 at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from kurator.accounts.models import ApiToken, ApiTokenStatus
from kurator.accounts.tokens import hash_key

# last_used_at is written at most this often per token: a busy integration must not write on every call.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiTokenAuthentication(TokenAuthentication):
    keyword = "Token"
    model = ApiToken

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        try:
            token = ApiToken.objects.select_related("user").get(key_hash=hash_key(key))
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        now = timezone.now()
        status = token.status(now)
        if status == ApiTokenStatus.REVOKED:
            raise exceptions.AuthenticationFailed(_("This API token has been revoked."))
        if status == ApiTokenStatus.EXPIRED:
            raise exceptions.AuthenticationFailed(_("This API token has expired."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return token.user, token
