from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    MANAGER = "manager", _("Manager")
    SENIOR_MANAGER = "senior_manager", _("Senior manager (key accounts)")
    HEAD_OF_SALES = "head_of_sales", _("Head of sales")
    FINANCE = "finance", _("Finance")
    ADMIN = "admin", _("Administrator")


class User(AbstractUser):
    """A member of the department. What a role may do is decided in kurator.access, never here."""

    role = models.CharField(_("role"), max_length=32, choices=Role.choices, default=Role.MANAGER)
    patronymic = models.CharField(_("patronymic"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["last_name", "first_name", "username"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[choice.value for choice in Role]), name="user_role_valid"
            )
        ]

    @property
    def full_name(self) -> str:
        parts = [self.last_name, self.first_name, self.patronymic]
        name = " ".join(p for p in parts if p)
        return name or self.username

    @property
    def short_name(self) -> str:
        """Surname and initials, as Russian offices write names in tight places: «Петров А. В.»."""
        if not self.last_name:
            return self.full_name
        initials = " ".join(f"{name[0]}." for name in (self.first_name, self.patronymic) if name)
        return f"{self.last_name} {initials}".strip()

    def __str__(self) -> str:
        return self.full_name


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def live(self, now: Any = None) -> ApiTokenQuerySet:
        """Tokens that still open the API: not revoked, not expired (the owner's is_active is checked too)."""
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiTokenStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("api token", "active")
    EXPIRED = "expired", _("expired")
    REVOKED = "revoked", _("revoked")


class ApiToken(models.Model):
    """A revocable API key of one user (R4): ``Authorization: Token <key>``.

    Only the SHA-256 of the key is stored (the key is random and long, so a slow hash adds nothing) with its
    first characters to tell tokens apart; the key itself is shown once, when the token is made. A user has
    as many tokens as integrations (each named); revoking one leaves the others working."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("prefix"), max_length=16)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user_id})"

    def status(self, now: Any = None) -> ApiTokenStatus:
        if self.revoked_at is not None:
            return ApiTokenStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= (now or timezone.now()):
            return ApiTokenStatus.EXPIRED
        return ApiTokenStatus.ACTIVE


class SignInFailure(models.Model):
    """One sign-in attempt not (yet) known to succeed: the counter behind the lock-out (R4).

    Stored in the database, not the cache: the default cache is per process (several web workers would each
    allow their own five tries, and ``manage.py unlock_user`` could never reach them), and a restart must not
    forgive a running attack. The table stays small: rows older than the window are deleted as new ones come,
    and a successful sign-in deletes the user's rows."""

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    # The typed username, case-folded: «Ivanov» and «ivanov» are one account's counter.
    username = models.CharField(_("user name"), max_length=150)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("failed sign-in")
        verbose_name_plural = _("failed sign-ins")
        indexes = [
            models.Index(fields=["username", "at"], name="signinfailure_user_at"),
            models.Index(fields=["ip", "at"], name="signinfailure_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} {self.ip or ''} {self.at:%Y-%m-%d %H:%M:%S}"


class SignInLockScope(models.TextChoices):
    USERNAME = "username", _("user name")
    IP = "ip", _("IP address")


class SignInLock(models.Model):
    """A lock-out: sign-in for one username (or from one address) is refused until ``locked_until``,
    unless someone lifts it earlier (``unlocked_at``). Rows are kept as the record of lock-outs."""

    scope = models.CharField(_("scope"), max_length=16, choices=SignInLockScope.choices)
    key = models.CharField(_("user name or address"), max_length=150)
    locked_at = models.DateTimeField(_("locked"), default=timezone.now)
    locked_until = models.DateTimeField(_("locked until"))
    unlocked_at = models.DateTimeField(_("unlocked"), null=True, blank=True)
    unlocked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("unlocked by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("sign-in lock-out")
        verbose_name_plural = _("sign-in lock-outs")
        indexes = [models.Index(fields=["scope", "key", "locked_until"], name="signinlock_key_until")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(scope__in=[choice.value for choice in SignInLockScope]),
                name="signinlock_scope_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key} until {self.locked_until:%Y-%m-%d %H:%M}"
