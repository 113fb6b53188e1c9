"""Reads of the department's users."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from kurator.access.policy import can
from kurator.accounts.models import User


def user_list(*, actor: Any, include_inactive: bool = False) -> QuerySet[User]:
    """Colleagues an actor may see: the whole department for its members (R3), nobody for outsiders."""
    if not can(actor, "accounts.view_user"):
        return User.objects.none()
    qs = User.objects.all()
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("last_name", "first_name", "username", "id")


def user_get(*, actor: Any, user_id: Any) -> User:
    # Former employees stay readable by id: history entries and old records still point at them.
    try:
        return user_list(actor=actor, include_inactive=True).get(pk=int(user_id))
    except (User.DoesNotExist, TypeError, ValueError, OverflowError):
        raise Http404 from None
