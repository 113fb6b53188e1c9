"""Every write to the department's users: adding and editing people, handing a leaver's work over, and
deactivating (R2, R4, D12).

Someone who leaves is never deleted: their name stays on every record and in the history. Deactivation needs
their work handed over first — clients, open deals, open tasks and open inquiries — so that each client keeps
one active curator (R2); :func:`user_deactivate` does both in one step when given a successor. It ends the
user's sessions, withdraws their pending access requests, revokes their live grants and API tokens (R4), and
writes the audit log (D12).

Services check the policy (``accounts.manage_users``, with the user acted on as the object: only an
administrator manages administrators), validate the whole input first and raise one ValidationError naming
each bad field (nothing is written), and run in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY, password_validation
from django.contrib.sessions.models import Session
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from kurator.access.audit import audit_record
from kurator.access.decorators import ensure
from kurator.access.models import AccessRequestStatus, AuditAction
from kurator.access.policy import may_curate
from kurator.access.services import access_grant_revoke
from kurator.accounts.models import Role, User
from kurator.accounts.selectors import (
    clients_of,
    live_access_grants_of,
    open_deals_of,
    open_inquiries_of,
    open_tasks_of,
    pending_access_requests_of,
    user_workload,
)
from kurator.accounts.tokens import api_tokens_revoke_all
from kurator.core.cleaning import one_line, record_by_id, reject_unknown
from kurator.core.errors import FieldErrors
from kurator.core.requisites import normalize_phone

logger = logging.getLogger(__name__)

__all__ = [
    "clean_password",
    "clean_username",
    "user_create",
    "user_deactivate",
    "user_handover",
    "user_reactivate",
    "user_set_password",
    "user_update",
]

MANAGE = "accounts.manage_users"
# What user_update changes; the username is the sign-in name and stays.
PROFILE_FIELDS = ("first_name", "last_name", "patronymic", "email", "phone", "role")
# simple-history's change-reason column, where the handover's reason goes on every record it moves.
REASON_MAX_LENGTH = 100
NAME_MAX_LENGTH = 150


# Cleaning (shared with the adduser command) ----------------------------------------------------------------


def clean_username(errors: FieldErrors, value: Any, *, field: str = "username") -> str:
    """A new sign-in name: Django's letters, digits and @/./+/-/_, unique whatever its case."""
    username = str(value or "").strip()
    if not username:
        errors.add(field, _("Enter the sign-in name."), code="required")
        return username
    if len(username) > NAME_MAX_LENGTH:
        errors.add(
            field,
            ValidationError(
                _("Keep the sign-in name within %(limit)d characters."),
                code="max_length",
                params={"limit": NAME_MAX_LENGTH},
            ),
        )
        return username
    try:
        User.username_validator(username)
    except ValidationError as exc:
        errors.add(field, exc)
        return username
    if User.objects.filter(username__iexact=username).exists():
        errors.add(
            field,
            ValidationError(
                _("A user named “%(username)s” already exists."),
                code="unique",
                params={"username": username},
            ),
        )
    return username


def clean_password(errors: FieldErrors, password: Any, user: User, *, field: str = "password") -> str:
    """A password that passes Django's validators (AUTH_PASSWORD_VALIDATORS: length, likeness to the
    user's names, common and all-digit passwords)."""
    password = "" if password is None else str(password)
    if not password:
        errors.add(field, _("Enter a password."), code="required")
        return password
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        errors.add(field, exc)
    return password


def _clean_role(errors: FieldErrors, value: Any) -> str:
    role = str(value or "").strip()
    if role not in Role.values:
        errors.add(
            "role",
            ValidationError(
                _("Unknown role “%(role)s”. Valid roles: %(valid)s."),
                code="invalid_choice",
                params={"role": role, "valid": ", ".join(f"{c.value} ({c.label})" for c in Role)},
            ),
        )
    return role


def _clean_profile(errors: FieldErrors, data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for name in ("first_name", "last_name", "patronymic"):
        if name in data:
            cleaned[name] = one_line(data[name], NAME_MAX_LENGTH)
    if "email" in data:
        email = str(data["email"] or "").strip().lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.add(
                    "email",
                    ValidationError(
                        _("“%(value)s” is not a valid e-mail address."),
                        code="email_invalid",
                        params={"value": email},
                    ),
                )
        cleaned["email"] = email
    if "phone" in data:
        phone = str(data["phone"] or "").strip()
        cleaned["phone"] = (errors.check("phone", normalize_phone, phone) or "") if phone else ""
    if "role" in data:
        cleaned["role"] = _clean_role(errors, data["role"])
    return cleaned


def _clean_reason(errors: FieldErrors, reason: Any) -> str:
    reason = one_line(reason, 500)
    if not reason:
        errors.add("reason", _("Give the reason: it is kept in the history."), code="required")
    elif len(reason) > REASON_MAX_LENGTH:
        errors.add(
            "reason",
            ValidationError(
                _("Keep the reason within %(limit)d characters."),
                code="max_length",
                params={"limit": REASON_MAX_LENGTH},
            ),
        )
    return reason


def _as_user(value: Any) -> User | None:
    return value if isinstance(value, User) else record_by_id(User, value)


# Adding and editing people ---------------------------------------------------------------------------------


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    role: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    patronymic: str = "",
    email: str = "",
    phone: str = "",
    ip: str | None = None,
) -> User:
    """Add a member of the department (R4) with a role and a password that passes the validators. The head
    of sales adds anyone but an administrator; an administrator adds anyone. Written to the audit log."""
    ensure(actor, MANAGE)
    errors = FieldErrors()
    name = clean_username(errors, username)
    cleaned = _clean_profile(
        errors,
        {
            "first_name": first_name,
            "last_name": last_name,
            "patronymic": patronymic,
            "email": email,
            "phone": phone,
            "role": role,
        },
    )
    user = User(username=name, **cleaned)
    clean_password(errors, password, user)
    if "role" not in errors.errors:
        ensure(actor, MANAGE, user)
    errors.raise_if_any()
    user.set_password(password)
    user.save()
    audit_record(
        action=AuditAction.USER_CREATED,
        allowed=True,
        rule=MANAGE,
        user=actor,
        obj=user,
        ip=ip,
        detail=f"user:{user.pk} role:{user.role}",
    )
    return user


def work_summary(remaining: dict[str, int]) -> str:
    """«3 clients, 2 open deals and 1 open task» from ``Workload.remaining`` (kinds with a count of 0 are
    left out)."""
    remaining = {kind: n for kind, n in remaining.items() if n}
    words = {
        "clients": lambda n: ngettext("%(count)d client", "%(count)d clients", n),
        "deals": lambda n: ngettext("%(count)d open deal", "%(count)d open deals", n),
        "tasks": lambda n: ngettext("%(count)d open task", "%(count)d open tasks", n),
        "inquiries": lambda n: ngettext("%(count)d open inquiry", "%(count)d open inquiries", n),
    }
    parts = [words[kind](n) % {"count": n} for kind, n in remaining.items()]
    if len(parts) == 1:
        return parts[0]
    return gettext("%(items)s and %(last)s") % {"items": ", ".join(parts[:-1]), "last": parts[-1]}


@transaction.atomic
def user_update(*, actor: User, user: User, ip: str | None = None, **fields: Any) -> User:
    """Change a user's role, names and contacts. Only an administrator gives or takes the administrator role;
    nobody changes their own role. A role that may not curate (finance) is refused while the user still
    holds clients, open deals, tasks or inquiries: hand them over first (R2). A change of role or name is
    written to the audit log."""
    reject_unknown(fields, PROFILE_FIELDS)
    ensure(actor, MANAGE, user)
    user = User.objects.select_for_update().get(pk=user.pk)
    ensure(actor, MANAGE, user)
    errors = FieldErrors()
    cleaned = _clean_profile(errors, fields)
    role = cleaned.get("role", user.role)
    if role != user.role and "role" not in errors.errors:
        if user.pk == actor.pk:
            errors.add("role", _("You cannot change your own role."), code="own_role")
        else:
            ensure(actor, MANAGE, User(role=role))
            if not may_curate(User(role=role, is_active=True)) and user.is_active:
                remaining = user_workload(user).remaining
                if remaining:
                    errors.add(
                        "role",
                        ValidationError(
                            _(
                                "%(name)s still has %(work)s; this role cannot keep them. Hand them over "
                                "first (Deactivate hands them over in one step)."
                            ),
                            code="work_remains",
                            params={"name": user.full_name, "work": work_summary(remaining)},
                        ),
                    )
    errors.raise_if_any()
    changed = [name for name, value in cleaned.items() if getattr(user, name) != value]
    if changed:
        old_role = user.role
        for name in changed:
            setattr(user, name, cleaned[name])
        user.save(update_fields=changed)
        audited = [f"role:{old_role}>{user.role}"] if "role" in changed else []
        if set(changed) & {"first_name", "last_name", "patronymic"}:
            audited.append("names")
        if audited:
            audit_record(
                action=AuditAction.USER_CHANGED,
                allowed=True,
                rule=MANAGE,
                user=actor,
                obj=user,
                ip=ip,
                detail=" ".join([f"user:{user.pk}", *audited]),
            )
    return user


@transaction.atomic
def user_set_password(*, actor: User, user: User, password: str) -> User:
    """Give a user a new password (a forgotten one): it passes the validators; the user's other sessions
    end (Django's session hash changes with the password)."""
    ensure(actor, MANAGE, user)
    errors = FieldErrors()
    clean_password(errors, password, user)
    errors.raise_if_any()
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


# Handover and deactivation (R2, R4, D12) -------------------------------------------------------------------


@dataclass(frozen=True)
class Handover:
    """How many records a handover moved: the clients to the successor, and every open deal, open task and
    open inquiry the user held — with their clients, or on their own (a colleague's client's deal or
    inquiry to that client's curator)."""

    clients: int = 0
    deals: int = 0
    tasks: int = 0
    inquiries: int = 0

    @property
    def total(self) -> int:
        return self.clients + self.deals + self.tasks + self.inquiries

    def as_counts(self) -> dict[str, int]:
        return {
            "clients": self.clients,
            "deals": self.deals,
            "tasks": self.tasks,
            "inquiries": self.inquiries,
        }


def _clean_successor(errors: FieldErrors, user: User, successor: Any) -> User | None:
    found = _as_user(successor) if successor not in (None, "") else None
    if found is None:
        if successor in (None, ""):
            errors.add("successor", _("Choose who takes the work over."), code="required")
        else:
            errors.add("successor", _("The user was not found."), code="invalid_choice")
        return None
    if found.pk == user.pk:
        errors.add("successor", _("Choose someone other than the user who leaves."), code="same_user")
        return None
    if not may_curate(found):
        errors.add(
            "successor",
            ValidationError(
                _("%(name)s cannot take clients over: choose an active sales employee or administrator."),
                code="invalid_successor",
                params={"name": found.full_name},
            ),
        )
        return None
    return found


def _lock(*users: User) -> list[User]:
    """Lock the users' rows in the order of their ids (two handovers at once never deadlock)."""
    ids = sorted({u.pk for u in users})
    locked = {u.pk: u for u in User.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    return [locked[u.pk] for u in users]


def _client_curator_or(record_company: Any, user: User, successor: User) -> User:
    """R2: a client's deal or inquiry goes to the client's curator; to the successor when that is the leaver
    or someone who no longer works with clients."""
    curator = getattr(record_company, "curator", None)
    if curator is not None and curator.pk != user.pk and may_curate(curator):
        return curator
    return successor


# What each record's own notice is about, as ``work_summary`` counts it.
_NOTICE_WORK = {
    "curator_changed": "clients",
    "deal_handed_over": "deals",
    "task_assigned": "tasks",
    "inquiry_assigned": "inquiries",
}


def _tell_about_handover(
    *, actor: User, user: User, successor: User, reason: str, moved: Handover, notices: list[tuple[User, str]]
) -> None:
    """One notice per person instead of one per client, deal, task and inquiry (a leaver with 300 clients
    must not bury the successor under 300 notices): the leaver and the successor get the totals, and each
    colleague who got a deal or an inquiry of their own client back gets their count."""
    from kurator.activities.services import notify

    total = asdict(moved)
    others: dict[int, tuple[User, dict[str, int]]] = {}
    for recipient, kind in notices:
        if recipient.pk in (user.pk, successor.pk) or kind not in _NOTICE_WORK:
            continue
        work = others.setdefault(recipient.pk, (recipient, dict.fromkeys(total, 0)))[1]
        work[_NOTICE_WORK[kind]] += 1
    to_successor = {kind: max(0, n - sum(w[kind] for _, w in others.values())) for kind, n in total.items()}
    names = {
        "actor": actor.full_name,
        "user": user.full_name,
        "successor": successor.full_name,
        "reason": reason,
    }
    told = [(user, total, "")] if any(total.values()) else []
    told.append((successor, to_successor, _my_clients_url(successor)))
    told += [(person, work, _my_clients_url(person)) for person, work in others.values()]
    for recipient, work, url in told:
        if recipient.pk == actor.pk or not any(work.values()):
            continue
        words = {**names, "work": work_summary(work)}
        if recipient.pk == user.pk:
            text = _("%(actor)s handed your work to %(successor)s: %(work)s. Reason: %(reason)s") % words
        else:
            text = _("%(actor)s handed you the work of %(user)s: %(work)s. Reason: %(reason)s") % words
        notify(recipient=recipient, kind="work_handed_over", text=text, url=url)


def _my_clients_url(user: User) -> str:
    return f"{reverse('companies:list')}?curator={user.pk}"


def _hand_over(*, actor: User, user: User, successor: User, reason: str) -> Handover:
    from kurator.activities.services import notifications_batched, task_update
    from kurator.companies.services import company_reassign
    from kurator.inquiries.services import inquiry_reassign
    from kurator.sales.services import deal_change_owners

    moved = Handover(
        clients=clients_of(user).count(),
        deals=open_deals_of(user).count(),
        tasks=open_tasks_of(user).count(),
        inquiries=open_inquiries_of(user).count(),
    )
    with notifications_batched() as notices:
        # Clients first: their open deals and open inquiries follow the new curator (company_reassign), and
        # each client's history keeps the reason.
        for company in clients_of(user).order_by("pk"):
            company_reassign(actor=actor, company=company, curator=successor, reason=reason)
        # Whatever is left: deals of other curators' clients that the user owns or co-owns.
        for deal in (
            open_deals_of(user).select_related("company__curator", "owner", "co_owner").order_by("pk")
        ):
            owner = deal.owner
            if owner.pk == user.pk or not may_curate(owner):
                owner = _client_curator_or(deal.company, user, successor)
            co_owner = successor if deal.co_owner_id == user.pk else deal.co_owner
            if co_owner is not None and (co_owner.pk == owner.pk or not may_curate(co_owner)):
                co_owner = None
            deal_change_owners(actor=actor, deal=deal, owner=owner, co_owner=co_owner, reason=reason)
        for task in open_tasks_of(user).order_by("pk"):
            task_update(actor=actor, task=task, assignee=successor, reason=reason)
        for inquiry in open_inquiries_of(user).select_related("company__curator").order_by("pk"):
            curator = _client_curator_or(inquiry.company, user, successor)
            inquiry_reassign(actor=actor, inquiry=inquiry, curator=curator, reason=reason)
    _tell_about_handover(
        actor=actor, user=user, successor=successor, reason=reason, moved=moved, notices=notices
    )
    return moved


@transaction.atomic
def user_handover(*, actor: User, user: User, successor: User | int | None, reason: str) -> Handover:
    """Hand everything ``user`` works on to ``successor`` in one transaction (R2): their clients (through
    ``company_reassign``: the history keeps the reason, both curators are notified, the clients' open deals
    and inquiries follow), their remaining open deals as owner or co-owner, their open tasks and their open
    inquiries — a client's deal or inquiry to the client's curator. Every moved record's history names the
    actor and the reason (D11); nothing is deleted (D12). The successor is an active user who may curate
    clients, other than ``user``."""
    ensure(actor, MANAGE, user)
    errors = FieldErrors()
    reason = _clean_reason(errors, reason)
    found = _clean_successor(errors, user, successor)
    errors.raise_if_any()
    assert found is not None
    user, found = _lock(user, found)
    if not may_curate(found):  # deactivated meanwhile
        _clean_successor(errors, user, found)
        errors.raise_if_any()
    return _hand_over(actor=actor, user=user, successor=found, reason=reason)


def _end_sessions(user: User) -> int:
    """Delete the user's sessions (database-backed engines keep them in Session rows, found by decoding;
    the cache engines' rows, if any, go with them). With any engine an inactive user is signed out at the
    next request anyway: Django's ModelBackend does not load an inactive user from a session."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    now = timezone.now()
    for key, data in Session.objects.filter(expire_date__gt=now).values_list("session_key", "session_data"):
        try:
            decoded = store().decode(data)
        except Exception:  # a row another engine wrote, or a damaged one: not ours to judge
            logger.debug("session %s not decoded", key[:8])
            continue
        if str(decoded.get(SESSION_KEY)) == str(user.pk):
            store(session_key=key).delete()
            ended += 1
    return ended


def _close_access(*, actor: User, user: User, reason: str, ip: str | None) -> tuple[int, int]:
    """Withdraw the user's pending access requests and revoke their live grants (R4) through
    ``access_grant_revoke`` (each revocation in the audit log); the rows stay with who closed them, when and
    why. Requests are withdrawn here: the access service lets only the requester withdraw."""
    now = timezone.now()
    withdrawn = pending_access_requests_of(user).update(
        status=AccessRequestStatus.WITHDRAWN,
        decided_by=actor,
        decided_at=now,
        decision_comment=reason,
        updated_at=now,
    )
    revoked = 0
    for grant in live_access_grants_of(user).order_by("pk"):
        access_grant_revoke(actor=actor, grant=grant, reason=reason, ip=ip)
        revoked += 1
    return withdrawn, revoked


@dataclass(frozen=True)
class Deactivation:
    handover: Handover
    sessions: int
    tokens: int
    requests_withdrawn: int
    grants_revoked: int


@transaction.atomic
def user_deactivate(
    *, actor: User, user: User, successor: User | int | None = None, reason: str, ip: str | None = None
) -> Deactivation:
    """Deactivate someone who leaves (R2, R4, D12). Refused for oneself, and while the user still holds
    clients, open deals, open tasks or open inquiries and no ``successor`` is given (the error lists what
    remains, with counts); with a successor their work is handed over first (:func:`user_handover`) in the
    same transaction. Then the user can no longer sign in, their sessions end, their API tokens are
    revoked, their pending access requests are withdrawn and their live grants revoked; the audit log
    records it. Nothing is deleted: their name stays on every record and in the history."""
    ensure(actor, MANAGE, user)
    errors = FieldErrors()
    reason = _clean_reason(errors, reason)
    if user.pk == actor.pk:
        errors.add(
            NON_FIELD_ERRORS,
            _("You cannot deactivate yourself: another head of sales or an administrator can."),
            code="self",
        )
    elif not user.is_active:
        errors.add(NON_FIELD_ERRORS, _("This user is already inactive."), code="inactive")
    found: User | None = None
    if successor not in (None, ""):
        found = _clean_successor(errors, user, successor)
    elif not errors.errors.get(NON_FIELD_ERRORS):
        remaining = user_workload(user).remaining
        if remaining:
            errors.add(
                "successor",
                ValidationError(
                    _("%(name)s still has %(work)s: choose who takes them over."),
                    code="work_remains",
                    params={"name": user.full_name, "work": work_summary(remaining)},
                ),
            )
    errors.raise_if_any()

    handover = Handover()
    if found is not None:
        user, found = _lock(user, found)
        if not may_curate(found):
            _clean_successor(errors, user, found)
            errors.raise_if_any()
        handover = _hand_over(actor=actor, user=user, successor=found, reason=reason)
    else:
        (user,) = _lock(user)
    # Checked again under the lock: a client given to the user meanwhile would be left without a curator.
    remaining = user_workload(user).remaining
    if remaining:
        raise ValidationError(
            {
                "successor": [
                    ValidationError(
                        _("%(name)s still has %(work)s: choose who takes them over."),
                        code="work_remains",
                        params={"name": user.full_name, "work": work_summary(remaining)},
                    )
                ]
            }
        )
    user.is_active = False
    user.save(update_fields=["is_active"])
    withdrawn, revoked = _close_access(actor=actor, user=user, reason=reason, ip=ip)
    tokens = api_tokens_revoke_all(actor=actor, user=user)
    sessions = _end_sessions(user)
    audit_record(
        action=AuditAction.USER_DEACTIVATED,
        allowed=True,
        rule=MANAGE,
        user=actor,
        obj=user,
        ip=ip,
        detail=(
            f"user:{user.pk} successor:{found.pk if found else '-'} clients:{handover.clients} "
            f"deals:{handover.deals} tasks:{handover.tasks} inquiries:{handover.inquiries} "
            f"grants:{revoked} requests:{withdrawn} {reason}"
        ),
    )
    return Deactivation(
        handover=handover,
        sessions=sessions,
        tokens=tokens,
        requests_withdrawn=withdrawn,
        grants_revoked=revoked,
    )


@transaction.atomic
def user_reactivate(*, actor: User, user: User, ip: str | None = None) -> User:
    """Let a former employee sign in again (with their old password, or a new one the head sets). They
    come back with no clients: whatever was handed over stays where it went. Written to the audit log."""
    ensure(actor, MANAGE, user)
    (user,) = _lock(user)
    if user.is_active:
        raise ValidationError(
            {NON_FIELD_ERRORS: [ValidationError(_("This user is already active."), code="active")]}
        )
    user.is_active = True
    user.save(update_fields=["is_active"])
    audit_record(
        action=AuditAction.USER_REACTIVATED,
        allowed=True,
        rule=MANAGE,
        user=actor,
        obj=user,
        ip=ip,
        detail=f"user:{user.pk}",
    )
    return user
