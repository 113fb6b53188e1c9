"""Restricted access (R4, D12): asking for access to a client's confidential section or to one document, the
head of sales' decision with an expiry date, direct grants and revocation.

Every function is keyword-only and atomic, checks the policy, validates every field before its first write
(a refusal writes nothing: no request, no grant, no notification, no audit line) and records what it did in
the audit log. A decision locks the request row (``select_for_update``), so two heads deciding at the same
moment cannot both win: the second finds it decided.

Who decides: ``access.decide_request`` (the head of sales and the administrator). Who is told: a new request
goes to every active head of sales (to the administrators when the department has no head); a decision, a
direct grant and a revocation go to the person concerned.

A grant works up to and including ``expires_on`` (Moscow time) and stops the day after; the expiry is
required, not in the past and at most ``KURATOR_ACCESS_GRANT_MAX_DAYS`` (90 by default) ahead.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from kurator.access.audit import audit_record
from kurator.access.confidential import clearance
from kurator.access.decorators import ensure
from kurator.access.models import AccessGrant, AccessRequest, AccessRequestStatus, AuditAction
from kurator.accounts.models import Role, User
from kurator.activities.services import notify
from kurator.companies.models import Company
from kurator.core.cleaning import clean_date
from kurator.core.errors import AccessDenied, FieldErrors
from kurator.documents.models import Document

__all__ = [
    "access_grant_create",
    "access_grant_revoke",
    "access_request_approve",
    "access_request_create",
    "access_request_refuse",
    "access_request_withdraw",
    "grant_max_days",
]

REASON_MAX = 2000
COMMENT_MAX = 2000
REVOKE_REASON_MAX = 500  # AccessGrant.revoke_reason


def grant_max_days() -> int:
    """How far ahead an expiry may be set (``KURATOR_ACCESS_GRANT_MAX_DAYS``, 90 by default)."""
    return int(getattr(settings, "KURATOR_ACCESS_GRANT_MAX_DAYS", 90))


def _heads() -> list[User]:
    """Who decides requests: the active heads of sales; the administrators when there is no head."""
    heads = list(User.objects.filter(role=Role.HEAD_OF_SALES, is_active=True).order_by("id"))
    if heads:
        return heads
    return list(User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id"))


def _text(value: Any, limit: int) -> str:
    """Free text as typed (line breaks kept), trimmed; ``limit`` characters at most."""
    return str(value or "").strip()[:limit]


def target_label(company: Company, document: Document | None, *, reveal: bool = True) -> str:
    """What a request or grant is for, in words. A document's name is itself confidential: with
    ``reveal=False`` it is «a document of <client>»."""
    if document is None:
        return gettext("the confidential section of %(company)s") % {"company": company.short_name}
    if not reveal:
        return gettext("a document of %(company)s") % {"company": company.short_name}
    return gettext("the document «%(name)s» of %(company)s") % {
        "name": document.name,
        "company": company.short_name,
    }


def _reverse_or_dossier(name: str, pk: int, company: Company) -> str:
    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:  # the documents pages are not mounted: the dossier
        return reverse("companies:detail", args=[company.pk])


def target_url(company: Company, document: Document | None) -> str:
    """Where the confidential thing opens: the solvency tab for a client's section, the document's page for
    one document."""
    if document is None:
        return reverse("finance:company_solvency", args=[company.pk])
    return _reverse_or_dossier("documents:detail", document.pk, company)


def back_url(company: Company, document: Document | None) -> str:
    """Where someone who asked goes back to: the solvency tab, or the client's documents tab."""
    if document is None:
        return reverse("finance:company_solvency", args=[company.pk])
    return _reverse_or_dossier("documents:company_documents", company.pk, company)


def _clean_document(errors: FieldErrors, company: Company, document: Any) -> Document | None:
    if document in (None, ""):
        return None
    if not isinstance(document, Document):
        try:
            document = Document.objects.filter(pk=int(document)).first()
        except (TypeError, ValueError):
            document = None
        if document is None:
            errors.add("document", _("The document was not found."), code="invalid")
            return None
    if document.company_id != company.pk:
        errors.add("document", _("The document belongs to another client."), code="other_company")
        return None
    if document.trashed_at is not None:
        errors.add("document", _("The document is in the trash."), code="trashed")
        return None
    return document


def _clean_expiry(errors: FieldErrors, value: Any) -> date | None:
    """Required; today at the earliest; at most ``grant_max_days()`` ahead."""
    if value in (None, ""):
        errors.add("expires_on", _("Say until which day access is given."), code="required")
        return None
    expires_on = clean_date(errors, "expires_on", value)
    if expires_on is None:
        return None
    today = timezone.localdate()
    latest = today + timedelta(days=grant_max_days())
    if expires_on < today:
        errors.add("expires_on", _("The last day of access cannot be in the past."), code="past")
        return None
    if expires_on > latest:
        errors.add(
            "expires_on",
            ngettext(
                "Access is given for at most %(days)d day: until %(latest)s at the latest.",
                "Access is given for at most %(days)d days: until %(latest)s at the latest.",
                grant_max_days(),
            )
            % {"days": grant_max_days(), "latest": date_format(latest, "SHORT_DATE_FORMAT")},
            code="too_far",
        )
        return None
    return expires_on


def _pending_for(user: Any, company: Company, document: Document | None) -> AccessRequest | None:
    qs = AccessRequest.objects.filter(
        requester_id=user.pk, company_id=company.pk, status=AccessRequestStatus.PENDING
    )
    qs = qs.filter(document__isnull=True) if document is None else qs.filter(document_id=document.pk)
    return qs.first()


def _rule(actor: User) -> str:
    """The rule a head's decision is recorded under: their office (``head_of_sales`` or ``admin``)."""
    return str(actor.role)


# Requests -------------------------------------------------------------------------------------------------


@transaction.atomic
def access_request_create(
    *,
    actor: User,
    company: Company,
    document: Any = None,
    reason: Any,
    ip: str | None = None,
) -> AccessRequest:
    """R4: ask the head of sales for access to ``company``'s confidential section, or to one ``document`` of
    it, with a ``reason``. Refused (nothing written) when the reason is blank, the document is another
    client's or in the trash, the actor already sees it, or the same request is already waiting."""
    ensure(actor, "access.request_access")
    errors = FieldErrors()
    reason = _text(reason, REASON_MAX)
    if not reason:
        errors.add("reason", _("Say why you need access: the head of sales reads it."), code="required")
    doc = _clean_document(errors, company, document)
    target_field = "document" if doc is not None else "company"
    if "document" not in errors.errors:
        if clearance(actor, doc or company).allowed:
            errors.add(
                target_field,
                _("You already have access to this: there is nothing to ask for."),
                code="already_cleared",
            )
        else:
            waiting = _pending_for(actor, company, doc)
            if waiting is not None:
                errors.add(
                    target_field,
                    _("Your request of %(date)s is already waiting for the head of sales' decision.")
                    % {"date": date_format(timezone.localtime(waiting.created_at), "SHORT_DATE_FORMAT")},
                    code="pending",
                )
    errors.raise_if_any()
    try:
        with transaction.atomic():
            access_request = AccessRequest.objects.create(
                requester=actor, company=company, document=doc, reason=reason
            )
    except IntegrityError:
        # A twin request committed between the check above and this insert (a double click).
        errors.add(
            target_field,
            _("Your request is already waiting for the head of sales' decision."),
            code="pending",
        )
        errors.raise_if_any()
        raise  # pragma: no cover - raise_if_any raised
    text = gettext("%(who)s asks for access to %(what)s: %(reason)s") % {
        "who": actor.full_name,
        "what": target_label(company, doc),
        "reason": reason,
    }
    for head in _heads():
        notify(
            recipient=head,
            kind="access_request",
            text=text,
            url=reverse("access:requests"),
            dedup_key=f"access-request:{access_request.pk}:{head.pk}",
        )
    audit_record(
        action=AuditAction.REQUEST_ACCESS,
        allowed=True,
        rule=_rule(actor),
        user=actor,
        obj=access_request,
        company=company,
        ip=ip,
        detail=f"document:{doc.pk}" if doc is not None else "",
    )
    return access_request


def _locked_request(access_request: AccessRequest) -> AccessRequest:
    return (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("requester", "company", "document")
        .get(pk=access_request.pk)
    )


def _must_be_pending(errors: FieldErrors, access_request: AccessRequest) -> None:
    if access_request.status != AccessRequestStatus.PENDING:
        errors.add(
            "status",
            _("This request has already been decided: %(status)s.")
            % {"status": access_request.get_status_display().lower()},
            code="decided",
        )


@transaction.atomic
def access_request_approve(
    *,
    actor: User,
    request: AccessRequest,
    expires_on: Any,
    comment: Any = "",
    ip: str | None = None,
) -> AccessGrant:
    """R4: the head of sales approves a waiting request until ``expires_on`` (inclusive): the requester gets a
    grant tied to the request and is told."""
    ensure(actor, "access.decide_request")
    access_request = _locked_request(request)
    errors = FieldErrors()
    _must_be_pending(errors, access_request)
    expiry = _clean_expiry(errors, expires_on)
    if not access_request.requester.is_active:
        errors.add("requester", _("The requester no longer works here."), code="inactive")
    errors.raise_if_any()
    assert expiry is not None
    now = timezone.now()
    access_request.status = AccessRequestStatus.APPROVED
    access_request.decided_by = actor
    access_request.decided_at = now
    access_request.decision_comment = _text(comment, COMMENT_MAX)
    access_request.expires_on = expiry
    access_request.save(
        update_fields=["status", "decided_by", "decided_at", "decision_comment", "expires_on", "updated_at"]
    )
    grant = AccessGrant.objects.create(
        user=access_request.requester,
        company=access_request.company,
        document=access_request.document,
        request=access_request,
        granted_by=actor,
        expires_on=expiry,
    )
    text = gettext("%(who)s gave you access to %(what)s until %(date)s.") % {
        "who": actor.full_name,
        "what": target_label(access_request.company, access_request.document),
        "date": date_format(expiry, "SHORT_DATE_FORMAT"),
    }
    if access_request.decision_comment:
        text += " " + gettext("Comment: %(comment)s") % {"comment": access_request.decision_comment}
    notify(
        recipient=access_request.requester,
        kind="access_approved",
        text=text,
        url=target_url(access_request.company, access_request.document),
        dedup_key=f"access-decision:{access_request.pk}",
    )
    audit_record(
        action=AuditAction.APPROVE_ACCESS,
        allowed=True,
        rule=_rule(actor),
        user=actor,
        obj=grant,
        company=access_request.company,
        ip=ip,
        detail=f"request:{access_request.pk} user:{access_request.requester_id} until:{expiry.isoformat()}",
    )
    return grant


@transaction.atomic
def access_request_refuse(
    *, actor: User, request: AccessRequest, comment: Any, ip: str | None = None
) -> AccessRequest:
    """R4: the head of sales refuses a waiting request, saying why (the requester reads it)."""
    ensure(actor, "access.decide_request")
    access_request = _locked_request(request)
    errors = FieldErrors()
    _must_be_pending(errors, access_request)
    comment = _text(comment, COMMENT_MAX)
    if not comment:
        errors.add("comment", _("Say why access is refused: the requester reads it."), code="required")
    errors.raise_if_any()
    access_request.status = AccessRequestStatus.REFUSED
    access_request.decided_by = actor
    access_request.decided_at = timezone.now()
    access_request.decision_comment = comment
    access_request.save(
        update_fields=["status", "decided_by", "decided_at", "decision_comment", "updated_at"]
    )
    notify(
        recipient=access_request.requester,
        kind="access_refused",
        text=gettext("%(who)s refused you access to %(what)s: %(comment)s")
        % {
            "who": actor.full_name,
            # Refused: the document's name stays confidential.
            "what": target_label(access_request.company, access_request.document, reveal=False),
            "comment": comment,
        },
        url=reverse("access:my_requests"),
        dedup_key=f"access-decision:{access_request.pk}",
    )
    audit_record(
        action=AuditAction.REFUSE_ACCESS,
        allowed=True,
        rule=_rule(actor),
        user=actor,
        obj=access_request,
        company=access_request.company,
        ip=ip,
        detail=f"user:{access_request.requester_id}",
    )
    return access_request


@transaction.atomic
def access_request_withdraw(*, actor: User, request: AccessRequest) -> AccessRequest:
    """The requester takes back a request still waiting for a decision."""
    ensure(actor, "access.request_access")
    access_request = _locked_request(request)
    if access_request.requester_id != actor.pk:
        raise AccessDenied(gettext("Only the person who asked may withdraw a request."))
    errors = FieldErrors()
    _must_be_pending(errors, access_request)
    errors.raise_if_any()
    access_request.status = AccessRequestStatus.WITHDRAWN
    access_request.decided_at = timezone.now()
    access_request.save(update_fields=["status", "decided_at", "updated_at"])
    return access_request


# Grants ---------------------------------------------------------------------------------------------------


@transaction.atomic
def access_grant_create(
    *,
    actor: User,
    user: Any,
    company: Company,
    document: Any = None,
    expires_on: Any,
    reason: Any,
    ip: str | None = None,
) -> AccessGrant:
    """R4: the head of sales gives ``user`` access without a request (to the client's section or to one
    document) until ``expires_on``. A request of the user for exactly this, still waiting, is approved by
    it."""
    ensure(actor, "access.decide_request")
    errors = FieldErrors()
    reason = _text(reason, COMMENT_MAX)
    if not reason:
        errors.add("reason", _("Say why access is given: it is recorded."), code="required")
    if not isinstance(user, User):
        try:
            user = User.objects.filter(pk=int(user)).first()
        except (TypeError, ValueError):
            user = None
    if user is None or not user.is_active:
        errors.add("user", _("Choose an active member of the department."), code="invalid")
        user = None
    doc = _clean_document(errors, company, document)
    expiry = _clean_expiry(errors, expires_on)
    if user is not None and "document" not in errors.errors:
        allowed = clearance(user, doc or company)
        if allowed.allowed and allowed.grant is None:
            errors.add(
                "user",
                _("%(name)s already sees it by their office or as the curator.") % {"name": user.full_name},
                code="already_cleared",
            )
    errors.raise_if_any()
    assert user is not None and expiry is not None
    waiting = _pending_for(user, company, doc)
    if waiting is not None:
        waiting = _locked_request(waiting)
        if waiting.status != AccessRequestStatus.PENDING:
            waiting = None
    if waiting is not None:
        waiting.status = AccessRequestStatus.APPROVED
        waiting.decided_by = actor
        waiting.decided_at = timezone.now()
        waiting.decision_comment = reason
        waiting.expires_on = expiry
        waiting.save(
            update_fields=[
                "status",
                "decided_by",
                "decided_at",
                "decision_comment",
                "expires_on",
                "updated_at",
            ]
        )
    grant = AccessGrant.objects.create(
        user=user, company=company, document=doc, request=waiting, granted_by=actor, expires_on=expiry
    )
    notify(
        recipient=user,
        kind="access_approved",
        text=gettext("%(who)s gave you access to %(what)s until %(date)s.")
        % {
            "who": actor.full_name,
            "what": target_label(company, doc),
            "date": date_format(expiry, "SHORT_DATE_FORMAT"),
        }
        + " "
        + gettext("Comment: %(comment)s") % {"comment": reason},
        url=target_url(company, doc),
        dedup_key=f"access-grant:{grant.pk}",
    )
    audit_record(
        action=AuditAction.APPROVE_ACCESS,
        allowed=True,
        rule=_rule(actor),
        user=actor,
        obj=grant,
        company=company,
        ip=ip,
        detail=(f"request:{waiting.pk} " if waiting else "direct ")
        + f"user:{user.pk} until:{expiry.isoformat()} {reason}",
    )
    return grant


@transaction.atomic
def access_grant_revoke(
    *, actor: User, grant: AccessGrant, reason: Any, ip: str | None = None
) -> AccessGrant:
    """R4: the head of sales ends a grant before its expiry, saying why; the user is told. The grant row stays
    (with who revoked it, when and why)."""
    ensure(actor, "access.decide_request")
    grant = (
        AccessGrant.objects.select_for_update(of=("self",))
        .select_related("user", "company", "document")
        .get(pk=grant.pk)
    )
    errors = FieldErrors()
    reason = _text(reason, REVOKE_REASON_MAX)
    if grant.revoked_at is not None:
        errors.add("grant", _("This access has already been revoked."), code="revoked")
    elif grant.expires_on < timezone.localdate():
        errors.add("grant", _("This access has already expired."), code="expired")
    if not reason:
        errors.add("reason", _("Say why access is revoked: the user reads it."), code="required")
    errors.raise_if_any()
    grant.revoked_at = timezone.now()
    grant.revoked_by = actor
    grant.revoke_reason = reason
    grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "updated_at"])
    notify(
        recipient=grant.user,
        kind="access_revoked",
        text=gettext("%(who)s revoked your access to %(what)s: %(reason)s")
        % {
            "who": actor.full_name,
            "what": target_label(grant.company, grant.document, reveal=False),
            "reason": reason,
        },
        url=reverse("access:my_requests"),
        dedup_key=f"access-revoked:{grant.pk}",
    )
    audit_record(
        action=AuditAction.REVOKE_ACCESS,
        allowed=True,
        rule=_rule(actor),
        user=actor,
        obj=grant,
        company=grant.company,
        ip=ip,
        detail=f"user:{grant.user_id} {reason}",
    )
    return grant
