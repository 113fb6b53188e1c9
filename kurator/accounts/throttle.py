"""Sign-in throttling with lock-out (R4, D12): the login page and ``POST /api/v1/auth/token/`` both sign in
through ``authenticate_throttled``.

- After ``KURATOR_LOGIN_MAX_FAILURES`` (5) failed sign-ins for one username (in any letter case) within
  ``KURATOR_LOGIN_LOCKOUT_MINUTES`` (15), sign-in for that username is refused for that many minutes, without
  the password being checked: a guesser learns nothing more, and Argon2 is not run for it.
- After ``KURATOR_LOGIN_MAX_FAILURES_PER_IP`` (20) failures from one address within the same window, every
  sign-in from that address is refused likewise (against password spraying: one guess for each of many
  usernames). Behind a reverse proxy set ``KURATOR_TRUSTED_PROXY_COUNT``, or the whole office shares the
  proxy's counter.
- A successful sign-in resets the username's counter; the head of sales or the administrator lifts a lock
  earlier (``login_unlock``; ``manage.py unlock_user``).
- Every failed sign-in is in the audit log (``login_failed``, rule ``bad_password``; or ``locked_out`` /
  ``ip_locked_out`` for one refused during a lock-out), and so is each lock-out (``lockout``, rule
  ``locked_out`` / ``ip_locked_out``) and each early unlock (``lockout``, allowed, rule ``unlocked``).

The counters live in the database (``SignInFailure``, ``SignInLock``), not the cache: the default cache is
per process, so several web workers would each allow their own five tries and ``manage.py unlock_user``
(another process) could not reach them; a restart must not forgive a running attack either. It costs a few
indexed writes per sign-in, which is nothing next to the password hash.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db.models import Q
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kurator.access.audit import audit_record
from kurator.access.models import AuditAction
from kurator.access.policy import can
from kurator.accounts.models import SignInFailure, SignInLock, SignInLockScope
from kurator.core.errors import AccessDenied
from kurator.core.net import client_ip

RULE_BAD_PASSWORD = "bad_password"  # noqa: S105 (an audit rule name)
RULE_LOCKED_OUT = "locked_out"
RULE_IP_LOCKED_OUT = "ip_locked_out"
RULE_UNLOCKED = "unlocked"


def max_failures() -> int:
    return int(getattr(settings, "KURATOR_LOGIN_MAX_FAILURES", 5))


def max_failures_per_ip() -> int:
    return int(getattr(settings, "KURATOR_LOGIN_MAX_FAILURES_PER_IP", 20))


def lockout_period() -> timedelta:
    return timedelta(minutes=float(getattr(settings, "KURATOR_LOGIN_LOCKOUT_MINUTES", 15)))


def username_key(username: str) -> str:
    """The counter's name for a typed username: «Ivanov», «IVANOV» and « ivanov » count together."""
    return username.strip().casefold()[:150]


@dataclass(frozen=True)
class Lockout:
    scope: SignInLockScope
    until: datetime

    @property
    def rule(self) -> str:
        return RULE_LOCKED_OUT if self.scope == SignInLockScope.USERNAME else RULE_IP_LOCKED_OUT

    @property
    def retry_after(self) -> int:
        """Seconds until the lock ends (for the API's Retry-After header)."""
        return max(1, int((self.until - timezone.now()).total_seconds()) + 1)

    @property
    def message(self) -> str:
        """What the person sees, in their language, with the local time the lock ends."""
        until = timezone.localtime(self.until)
        when = until.strftime("%H:%M")
        if until.date() != timezone.localdate():
            when = f"{formats.date_format(until.date(), 'SHORT_DATE_FORMAT')} {when}"
        if self.scope == SignInLockScope.USERNAME:
            return _(
                "Too many failed sign-in attempts. Sign-in to this account is locked until %(time)s. "
                "Try again then, or ask the head of sales or the administrator to unlock it."
            ) % {"time": when}
        return _(
            "Too many failed sign-in attempts from your network address. Sign-in from it is locked until "
            "%(time)s. Try again then, or ask the administrator to unlock it."
        ) % {"time": when}


class SignInLocked(Exception):
    """Sign-in is refused by a lock-out; the password was not checked."""

    def __init__(self, lockout: Lockout) -> None:
        super().__init__(lockout.message)
        self.lockout = lockout

    @property
    def message(self) -> str:
        return self.lockout.message


def _live_locks(now: datetime) -> Any:
    return SignInLock.objects.filter(locked_until__gt=now, unlocked_at__isnull=True)


def active_lockout(*, username: str, ip: str | None = None, now: datetime | None = None) -> Lockout | None:
    """The lock-out in force for this username or address (the one ending last), or None."""
    now = now or timezone.now()
    which = Q(scope=SignInLockScope.USERNAME, key=username_key(username))
    if ip:
        which |= Q(scope=SignInLockScope.IP, key=ip)
    lock = _live_locks(now).filter(which).order_by("-locked_until").first()
    return Lockout(scope=SignInLockScope(lock.scope), until=lock.locked_until) if lock else None


def _lock(*, scope: SignInLockScope, key: str, now: datetime, typed: str, ip: str | None) -> Lockout:
    lock = _live_locks(now).filter(scope=scope, key=key).order_by("-locked_until").first()
    if lock is None:
        lock = SignInLock.objects.create(
            scope=scope, key=key, locked_at=now, locked_until=now + lockout_period()
        )
        lockout = Lockout(scope=scope, until=lock.locked_until)
        audit_record(
            action=AuditAction.LOCKOUT,
            allowed=False,
            username=typed,
            rule=lockout.rule,
            ip=ip,
            # Machine form, the time in UTC; the audit page and export show it in words and local time
            # (kurator/access/labels.py).
            detail=f"until:{lock.locked_until.isoformat()}",
        )
        return lockout
    return Lockout(scope=scope, until=lock.locked_until)


def _address(request: HttpRequest) -> str | None:
    """The client's address, or None when it is not one (a misconfigured proxy passing on a forged header
    must not break sign-in: PostgreSQL's inet column refuses anything else)."""
    raw = client_ip(request)
    try:
        return str(ipaddress.ip_address(raw.strip())) if raw else None
    except ValueError:
        return None


def authenticate_throttled(*, request: HttpRequest, username: str, password: str) -> Any:
    """Django's ``authenticate`` behind the lock-out: the user, or None for a wrong username or password.

    Raises ``SignInLocked`` (the password unchecked) while a lock-out holds, and on the failure that starts
    one. Audit lines carry the typed username and the address, never the session's user."""
    now = timezone.now()
    key = username_key(username)
    ip = _address(request)
    lockout = active_lockout(username=username, ip=ip, now=now)
    if lockout is not None:
        audit_record(
            action=AuditAction.LOGIN_FAILED, allowed=False, username=username, rule=lockout.rule, ip=ip
        )
        raise SignInLocked(lockout)

    # The attempt counts before the password is checked, so guesses sent in parallel cannot all pass the
    # check above before the first failure is written; a success takes it back.
    window_start = now - lockout_period()
    SignInFailure.objects.create(at=now, username=key, ip=ip)
    SignInFailure.objects.filter(at__lt=window_start).delete()
    failures = SignInFailure.objects.filter(username=key, at__gte=window_start).count()
    ip_failures = SignInFailure.objects.filter(ip=ip, at__gte=window_start).count() if ip else 0
    if failures > max_failures() or (ip and ip_failures > max_failures_per_ip()):
        # Parallel attempts used up the allowance while this one was on its way.
        scope = SignInLockScope.USERNAME if failures > max_failures() else SignInLockScope.IP
        lockout = _lock(scope=scope, key=key if scope == SignInLockScope.USERNAME else str(ip), now=now,
                        typed=username, ip=ip)  # fmt: skip
        audit_record(
            action=AuditAction.LOGIN_FAILED, allowed=False, username=username, rule=lockout.rule, ip=ip
        )
        raise SignInLocked(lockout)

    user = authenticate(request, username=username, password=password)
    if user is not None:
        SignInFailure.objects.filter(username=key).delete()
        return user

    audit_record(
        action=AuditAction.LOGIN_FAILED, allowed=False, username=username, rule=RULE_BAD_PASSWORD, ip=ip
    )
    if failures >= max_failures():
        raise SignInLocked(_lock(scope=SignInLockScope.USERNAME, key=key, now=now, typed=username, ip=ip))
    if ip and ip_failures >= max_failures_per_ip():
        raise SignInLocked(_lock(scope=SignInLockScope.IP, key=ip, now=now, typed=username, ip=ip))
    return None


def _unlock(*, scope: SignInLockScope, key: str, actor: Any, request: HttpRequest | None) -> bool:
    if actor is not None and not can(actor, "accounts.manage_users"):
        raise AccessDenied
    now = timezone.now()
    lifted = (
        _live_locks(now)
        .filter(scope=scope, key=key)
        .update(unlocked_at=now, unlocked_by=actor if getattr(actor, "pk", None) else None)
    )
    if scope == SignInLockScope.USERNAME:
        SignInFailure.objects.filter(username=key).delete()
    else:
        SignInFailure.objects.filter(ip=key).delete()
    if lifted:
        audit_record(
            action=AuditAction.UNLOCK,
            allowed=True,
            rule=RULE_UNLOCKED,
            user=actor if getattr(actor, "pk", None) else None,
            request=request,
            detail=f"{scope}: {key}",
        )
    return bool(lifted)


def login_unlock(username: str, *, actor: Any = None, request: HttpRequest | None = None) -> bool:
    """Lift the lock-out of ``username`` (any letter case) and reset its counter; True if one was in force.

    ``actor`` (the head of sales or the administrator; None for ``manage.py unlock_user`` on the server) must
    be allowed ``accounts.manage_users``. The unlock is written to the audit log."""
    return _unlock(scope=SignInLockScope.USERNAME, key=username_key(username), actor=actor, request=request)


def login_unlock_ip(ip: str, *, actor: Any = None, request: HttpRequest | None = None) -> bool:
    """Lift the lock-out of an address and reset its counter; True if one was in force."""
    return _unlock(scope=SignInLockScope.IP, key=ip.strip(), actor=actor, request=request)


def login_locked_until(username: str) -> datetime | None:
    """When the lock-out of ``username`` ends, or None when sign-in is open (for the users pages)."""
    lockout = active_lockout(username=username)
    return lockout.until if lockout and lockout.scope == SignInLockScope.USERNAME else None


def locked_usernames() -> dict[str, datetime]:
    """Every username locked out now (case-folded) → when its lock ends; one query, for a list page."""
    found: dict[str, datetime] = {}
    locks = (
        _live_locks(timezone.now()).filter(scope=SignInLockScope.USERNAME).values_list("key", "locked_until")
    )
    for key, until in locks:
        found[key] = max(until, found.get(key, until))
    return found
