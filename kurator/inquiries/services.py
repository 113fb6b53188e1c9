"""Every write to inquiries (R2 one curator per client, R1 response standard, S2 sources).

An inquiry arrives (:func:`inquiry_create`), the matcher (:mod:`kurator.inquiries.matching`) says which client
it comes from and why, and the inquiry is routed:

- certain or strong match: attached to the company and given to its curator, who is notified;
- possible match: it waits for the head of sales (``needs_review``), who is notified and confirms the company
  or declares a new client (:func:`inquiry_confirm_match`);
- no match: a prospect company is opened when the inquiry identifies one (a valid INN, or a company name with
  a phone or an e-mail) and a curator is chosen by the distribution rules (:mod:`kurator.inquiries.routing`);
  otherwise the inquiry alone goes to the curator the rules choose.

Statuses: new → taken → qualified → converted; rejected (with a reason) from new, taken or qualified.
Services validate everything first and raise one ValidationError naming each bad field (nothing is written),
kurator.core.errors.AccessDenied when the policy refuses (HTTP 403, with a message naming the curator when a
colleague's client is concerned).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kurator.access.decorators import ensure
from kurator.access.policy import can, may_curate
from kurator.accounts.models import User
from kurator.activities.services import notify
from kurator.companies import services as company_services
from kurator.companies.models import Company, Contact, ContactSource
from kurator.core.cleaning import one_line, record_by_id
from kurator.core.errors import AccessDenied, FieldErrors
from kurator.core.requisites import normalize_phone, validate_inn, validate_kpp
from kurator.core.text import normalize_company_name
from kurator.inquiries import matching, routing
from kurator.inquiries.models import (
    Channel,
    Inquiry,
    InquiryStatus,
    MatchConfidence,
    ResponseStandard,
)

__all__ = [
    "inquiry_confirm_match",
    "inquiry_convert",
    "inquiry_create",
    "inquiry_qualify",
    "inquiry_reassign",
    "inquiry_reject",
    "inquiry_take",
    "resolve_company",
]

# Which status may follow which (R1, R2). Converted needs a deal: see inquiry_convert.
TRANSITIONS: dict[str, frozenset[str]] = {
    InquiryStatus.NEW: frozenset({InquiryStatus.TAKEN, InquiryStatus.REJECTED}),
    InquiryStatus.TAKEN: frozenset({InquiryStatus.QUALIFIED, InquiryStatus.REJECTED}),
    InquiryStatus.QUALIFIED: frozenset({InquiryStatus.CONVERTED, InquiryStatus.REJECTED}),
    InquiryStatus.CONVERTED: frozenset(),
    InquiryStatus.REJECTED: frozenset(),
}
MAX_TEXT = 10_000


def _inquiry_url(inquiry: Inquiry) -> str:
    try:
        return reverse("inquiries:detail", args=[inquiry.pk])
    except NoReverseMatch:  # the pages are optional for the service (API-only deployments, tests)
        return f"/inquiries/{inquiry.pk}/"


def resolve_company(company: Company | None) -> Company | None:
    """A merged duplicate stands for its survivor (merges may chain: follow them to the end)."""
    seen: set[int] = set()
    while company is not None and company.merged_into_id is not None and company.pk not in seen:
        seen.add(company.pk)
        company = Company.objects.select_related("curator").get(pk=company.merged_into_id)
    return company


# Creation ---------------------------------------------------------------------------------------------------


def _clean_received_at(errors: FieldErrors, value: Any) -> datetime:
    if value in (None, ""):
        return timezone.now()
    if isinstance(value, str):
        parsed = parse_datetime(value.strip())
        if parsed is None:
            errors.add("received_at", _("Enter a valid date and time."), code="invalid_datetime")
            return timezone.now()
        value = parsed
    if not isinstance(value, datetime):
        errors.add("received_at", _("Enter a valid date and time."), code="invalid_datetime")
        return timezone.now()
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + timedelta(minutes=5):
        errors.add("received_at", _("An inquiry cannot arrive in the future."), code="future_datetime")
    return value


def _clean_inquiry(errors: FieldErrors, data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    channel = data.get("channel") or ""
    if channel not in Channel.values:
        errors.add("channel", _("Choose a channel from the list."), code="invalid_choice")
    cleaned["channel"] = channel

    source = data.get("source")
    if source not in (None, ""):
        found = record_by_id(ContactSource, source)
        if found is None:
            errors.add("source", _("Choose a value from the list."), code="invalid_choice")
        source = found
    cleaned["source"] = source or None

    referrer = data.get("referred_by")
    if referrer not in (None, ""):
        found = resolve_company(record_by_id(Company, referrer))
        if found is None:
            errors.add("referred_by", _("The recommending client was not found."), code="invalid_choice")
        referrer = found
    cleaned["referred_by"] = referrer or None

    cleaned["company_name"] = one_line(data.get("company_name"), 500)
    cleaned["city"] = one_line(data.get("city"), 120)
    cleaned["contact_name"] = one_line(data.get("contact_name"), 255)
    cleaned["text"] = str(data.get("text") or "").strip()[:MAX_TEXT]

    inn = one_line(data.get("inn"), 40)
    kpp = one_line(data.get("kpp"), 40)
    cleaned["inn"] = (errors.check("inn", validate_inn, inn) or "") if inn else ""
    cleaned["kpp"] = (errors.check("kpp", validate_kpp, kpp) or "") if kpp else ""
    if len(cleaned["inn"]) == 12 and cleaned["kpp"]:
        errors.add(
            "kpp", _("A sole trader (12-digit INN) has no KPP: leave KPP empty."), code="kpp_for_person"
        )
    if cleaned["kpp"] and not inn:
        errors.add("inn", _("A KPP is given: enter the INN too."), code="inn_required")

    phone = one_line(data.get("phone"), 64)
    cleaned["phone"] = (errors.check("phone", normalize_phone, phone) or "") if phone else ""
    email = str(data.get("email") or "").strip().lower()
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
            email = ""
    cleaned["email"] = email

    if not (cleaned["company_name"] or inn or phone or email):
        errors.add(
            NON_FIELD_ERRORS,
            _("Give at least a company name, an INN, a phone or an e-mail: otherwise nobody can answer."),
            code="identity_required",
        )
    cleaned["received_at"] = _clean_received_at(errors, data.get("received_at"))
    return cleaned


def _respond_by(channel: str, received_at: datetime) -> datetime | None:
    minutes = ResponseStandard.objects.filter(channel=channel).values_list("minutes", flat=True).first()
    return received_at + timedelta(minutes=minutes) if minutes is not None else None


def _match(inquiry: Inquiry) -> matching.MatchResult:
    return matching.match_company(
        inn=inquiry.inn,
        kpp=inquiry.kpp,
        phones=[inquiry.phone] if inquiry.phone else [],
        emails=[inquiry.email] if inquiry.email else [],
        name=inquiry.company_name,
    )


def _store_match(inquiry: Inquiry, result: matching.MatchResult) -> None:
    inquiry.match_confidence = result.confidence
    inquiry.match_reasons = result.reasons
    inquiry.match_candidates = result.candidates


def _identifies_company(inquiry: Inquiry) -> bool:
    """Enough to open a prospect's dossier: a valid INN, or a company name with a phone or an e-mail."""
    return bool(inquiry.inn) or bool(inquiry.company_name and (inquiry.phone or inquiry.email))


def _lock_keys(inquiry: Inquiry) -> list[str]:
    keys = []
    if inquiry.inn:
        keys.append(f"inn:{inquiry.inn}")
    name = normalize_company_name(inquiry.company_name)
    if name:
        keys.append(f"name:{name}")
    # Sorted, so that two transactions never wait for each other's second lock.
    return sorted(keys)


def _attach(inquiry: Inquiry, company: Company, explanation: str) -> None:
    inquiry.company = company
    inquiry.curator = company.curator
    inquiry.needs_review = False
    inquiry.routing_explanation = explanation


def _notify_curator(inquiry: Inquiry, actor: User | None, text: Any) -> None:
    curator = inquiry.curator
    if curator is None or (actor is not None and curator.pk == actor.pk):
        return
    notify(
        recipient=curator,
        kind="inquiry_assigned",
        text=text,
        url=_inquiry_url(inquiry),
        dedup_key=f"inquiry:{inquiry.pk}:curator:{curator.pk}",
    )


def _reviewers() -> list[User]:
    # Few people; the policy (not a role check) says who confirms matches.
    return [u for u in User.objects.filter(is_active=True) if can(u, "inquiries.review_match")]


def _inquiry_label(inquiry: Inquiry) -> str:
    return str(inquiry)


def _route_matched(inquiry: Inquiry, result: matching.MatchResult) -> None:
    company = result.company
    assert company is not None
    reasons = "; ".join(r["text"] for r in result.reasons) or "—"
    if not may_curate(company.curator):
        # The client's curator has left: the head of sales gives the client to someone first.
        inquiry.company = company
        inquiry.curator = None
        inquiry.needs_review = True
        inquiry.routing_explanation = gettext(
            "The client is already in the base: %(company)s (%(reasons)s), but its curator %(curator)s no "
            "longer works with clients: the head of sales decides who takes it."
        ) % {"company": company.short_name, "reasons": reasons, "curator": company.curator.full_name}
        return
    _attach(
        inquiry,
        company,
        gettext(
            "The client is already in the base: %(company)s (%(reasons)s). The inquiry goes to its curator "
            "%(curator)s."
        )
        % {"company": company.short_name, "reasons": reasons, "curator": company.curator.full_name},
    )


def _open_prospect(inquiry: Inquiry, actor: User | None, decision: routing.RoutingDecision) -> Company:
    """A prospect company for the inquiry, curated by the routing's choice (raises ValidationError)."""
    curator = decision.curator
    # A seller may only open a company for themselves; the routing may choose a colleague, so the company is
    # opened on the chosen curator's behalf unless the actor may give companies to others.
    creator = actor if actor is not None and can(actor, "companies.change_curator") else curator
    fields: dict[str, Any] = {
        "full_name": inquiry.company_name or gettext("Company with INN %(inn)s") % {"inn": inquiry.inn},
        "inn": inquiry.inn,
        "kpp": inquiry.kpp,
        "city": inquiry.city,
        "source": inquiry.source,
        "referred_by": inquiry.referred_by,
        "curator": curator,
    }
    # The caller's phone and e-mail belong to the person when one is named, else to the company.
    if not inquiry.contact_name:
        fields["phones"] = [inquiry.phone] if inquiry.phone else []
        fields["emails"] = [inquiry.email] if inquiry.email else []
    company = company_services.company_create(actor=creator, **fields)
    if inquiry.contact_name:
        company_services.contact_create(
            actor=creator,
            company=company,
            full_name=inquiry.contact_name,
            phones=[inquiry.phone] if inquiry.phone else [],
            emails=[inquiry.email] if inquiry.email else [],
        )
    return company


def _route_new(inquiry: Inquiry, actor: User | None, *, head: User | None = None) -> None:
    """No known company: a prospect when the inquiry identifies one, and a curator by the rules.

    Runs under advisory locks on the INN and the name, and matches again once it holds them: a parallel
    inquiry may have opened the company meanwhile (R2: twenty inquiries, one company). The unique INN/KPP
    constraint is the last line: a clash re-matches instead of failing."""
    for key in _lock_keys(inquiry):
        routing.advisory_lock(key)
    again = _match(inquiry)
    if again.is_match:
        _store_match(inquiry, again)
        _route_matched(inquiry, again)
        return
    if again.confidence == MatchConfidence.POSSIBLE and head is None:
        _store_match(inquiry, again)
        _route_possible(inquiry)
        return

    decision = routing.choose_curator(city=inquiry.city)
    if decision is None:
        inquiry.curator = None
        inquiry.routing_explanation = gettext(
            "Nobody in the department may curate clients: the inquiry waits without a curator."
        )
        return
    prefix = (
        gettext("The head of sales %(head)s declared a new client.") % {"head": head.full_name} + " "
        if head is not None
        else ""
    )
    if not _identifies_company(inquiry):
        inquiry.curator = decision.curator
        inquiry.routing_explanation = prefix + gettext(
            "No client in the base matches, and the inquiry does not name a company with an INN, a phone or "
            "an e-mail, so no dossier was opened. %(rule)s"
        ) % {"rule": decision.explanation}
        return
    try:
        with transaction.atomic():
            company = _open_prospect(inquiry, actor, decision)
    except ValidationError as exc:
        clash = getattr(exc, "error_dict", {}).get("inn", [])
        if not any(e.code in ("duplicate_inn", "conflict") for e in clash):
            raise
        # Another transaction opened the same company in between: give the inquiry to it.
        again = _match(inquiry)
        if not again.is_match:
            raise
        _store_match(inquiry, again)
        _route_matched(inquiry, again)
        return
    inquiry.company = company
    inquiry.curator = decision.curator
    inquiry.needs_review = False
    inquiry.routing_explanation = prefix + gettext(
        "No client in the base matches: a prospect, %(company)s, was opened. %(rule)s"
    ) % {"company": company.short_name, "rule": decision.explanation}


def _route_possible(inquiry: Inquiry) -> None:
    inquiry.company = None
    inquiry.curator = None
    inquiry.needs_review = True
    names = ", ".join(f"“{c['name']}”" for c in inquiry.match_candidates[:3])
    inquiry.routing_explanation = gettext(
        "The client may already be in the base (%(names)s): the head of sales confirms the client or "
        "declares a new one before anyone takes the inquiry."
    ) % {"names": names}


@transaction.atomic
def inquiry_create(
    *,
    actor: User | None,
    channel: str,
    source: ContactSource | int | None = None,
    referred_by: Company | int | None = None,
    company_name: str = "",
    inn: str = "",
    kpp: str = "",
    city: str = "",
    contact_name: str = "",
    phone: str = "",
    email: str = "",
    text: str = "",
    client_ip: str | None = None,
    received_at: datetime | str | None = None,
) -> Inquiry:
    """Register an inquiry, match it with the base and route it (R2, R1, S2).

    ``actor`` is None for the public web form. Validates INN/KPP/phone/e-mail like the dossier does, and
    needs at least one of company name, INN, phone or e-mail (a non-field error); on any error nothing is
    written. Sets ``respond_by`` from the channel's response standard, stores the matcher's confidence,
    reasons and candidates, and routes (see the module docstring); the curator or the head of sales is
    notified once the transaction commits. Returns the saved inquiry.
    """
    if actor is not None:
        ensure(actor, "inquiries.add_inquiry")
    errors = FieldErrors()
    cleaned = _clean_inquiry(
        errors,
        {
            "channel": channel,
            "source": source,
            "referred_by": referred_by,
            "company_name": company_name,
            "inn": inn,
            "kpp": kpp,
            "city": city,
            "contact_name": contact_name,
            "phone": phone,
            "email": email,
            "text": text,
            "received_at": received_at,
        },
    )
    errors.raise_if_any()

    inquiry = Inquiry(**cleaned, created_by=actor, client_ip=client_ip or None, status=InquiryStatus.NEW)
    inquiry.respond_by = _respond_by(inquiry.channel, inquiry.received_at)
    result = _match(inquiry)
    _store_match(inquiry, result)
    if result.is_match:
        _route_matched(inquiry, result)
    else:
        # A possible match is decided again under the locks as well: the matcher reads phones and names in
        # separate queries, and a parallel inquiry's new company may commit between them (seen as only a
        # similar name, the inquiry went to review while its nineteen twins went to the new company).
        _route_new(inquiry, actor)
    inquiry._history_user = actor  # type: ignore[attr-defined]
    inquiry.save()
    _announce(inquiry, actor)
    return inquiry


def _announce(inquiry: Inquiry, actor: User | None) -> None:
    label = _inquiry_label(inquiry)
    if inquiry.needs_review:
        for head in _reviewers():
            notify(
                recipient=head,
                kind="inquiry_review",
                text=gettext("Inquiry “%(inquiry)s” may come from a client in the base: confirm the client.")
                % {"inquiry": label},
                url=_inquiry_url(inquiry),
                dedup_key=f"inquiry:{inquiry.pk}:review:{head.pk}",
            )
        return
    if inquiry.company_id is not None:
        text = gettext("New inquiry from your client %(company)s.") % {"company": inquiry.company}
    else:
        text = gettext("New inquiry “%(inquiry)s” is given to you.") % {"inquiry": label}
    _notify_curator(inquiry, actor, text)


# Work on an inquiry ----------------------------------------------------------------------------------------


def _locked(inquiry: Inquiry) -> Inquiry:
    # Only the inquiry's row is locked (PostgreSQL cannot lock the nullable side of the joins), then read
    # afresh with its company and curator.
    Inquiry.objects.select_for_update().filter(pk=inquiry.pk).values_list("pk", flat=True).get()
    return Inquiry.objects.select_related("company__curator", "curator").get(pk=inquiry.pk)


def _curator_of(inquiry: Inquiry) -> User | None:
    if inquiry.curator_id is not None:
        return inquiry.curator
    if inquiry.company_id is not None:
        return inquiry.company.curator  # type: ignore[union-attr]
    return None


def ensure_may_work(actor: User, inquiry: Inquiry) -> None:
    """R2: only the curator of the client (or the head of sales) works an inquiry; the refusal names the
    curator so that the colleague knows whom to talk to."""
    if can(actor, "inquiries.work_inquiry", inquiry):
        return
    curator = _curator_of(inquiry)
    if curator is not None and can(actor, "inquiries.add_inquiry"):
        raise AccessDenied(
            gettext(
                "This client is curated by %(curator)s: only the curator or the head of sales works this "
                "inquiry."
            )
            % {"curator": curator.full_name}
        )
    raise AccessDenied(gettext("You may not work on inquiries."))


def _check_transition(inquiry: Inquiry, target: str) -> None:
    if target not in TRANSITIONS.get(inquiry.status, frozenset()):
        raise ValidationError(
            {
                "status": [
                    ValidationError(
                        _("An inquiry in status “%(current)s” cannot become “%(target)s”."),
                        code="invalid_transition",
                        params={
                            "current": InquiryStatus(inquiry.status).label,
                            "target": InquiryStatus(target).label,
                        },
                    )
                ]
            }
        )


def _save(inquiry: Inquiry, actor: User, reason: str = "") -> None:
    inquiry._history_user = actor  # type: ignore[attr-defined]
    inquiry._change_reason = reason or None  # type: ignore[attr-defined]
    inquiry.save()


@transaction.atomic
def inquiry_take(*, actor: User, inquiry: Inquiry) -> Inquiry:
    """The curator (or, for an unassigned inquiry, any seller; or the head of sales) takes a new inquiry.

    Refused with AccessDenied naming the curator for a colleague's client (R2), and with a ValidationError
    while the head of sales has still to confirm the client. Records ``taken_at``/``taken_by`` (the first
    response, R1) and makes the taker the curator of an unassigned inquiry."""
    inquiry = _locked(inquiry)
    ensure_may_work(actor, inquiry)
    if inquiry.needs_review:
        raise ValidationError(
            {
                "status": [
                    ValidationError(
                        _("The head of sales has to confirm the client first: it may already be curated."),
                        code="needs_review",
                    )
                ]
            }
        )
    _check_transition(inquiry, InquiryStatus.TAKEN)
    inquiry.status = InquiryStatus.TAKEN
    inquiry.taken_at = timezone.now()
    inquiry.taken_by = actor
    if inquiry.curator_id is None:
        inquiry.curator = _curator_of(inquiry) or actor
    _save(inquiry, actor)
    return inquiry


# The longest reason the history keeps (simple-history's change-reason column).
REASON_MAX_LENGTH = 100


@transaction.atomic
def inquiry_reassign(*, actor: User, inquiry: Inquiry, curator: User, reason: str) -> Inquiry:
    """Give an open inquiry to another curator (head of sales), with the reason kept in its history; the new
    curator is notified. R2: an inquiry of a client goes to the client's curator, so a client's inquiry may
    go elsewhere only while its curator no longer works with clients (hand the client over instead:
    ``company_reassign`` takes its open inquiries along)."""
    ensure(actor, "companies.change_curator")
    errors = FieldErrors()
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
    if not may_curate(curator):
        errors.add("curator", _("The curator must be an active sales employee."), code="invalid_curator")
    inquiry = _locked(inquiry)
    if inquiry.status not in (InquiryStatus.NEW, InquiryStatus.TAKEN, InquiryStatus.QUALIFIED):
        errors.add("inquiry", _("The inquiry is closed: its curator stays as it was."), code="closed")
    client_curator = inquiry.company.curator if inquiry.company_id is not None else None  # type: ignore[union-attr]
    if client_curator is not None and client_curator.pk != curator.pk and may_curate(client_curator):
        errors.add(
            "curator",
            _("The client of this inquiry is curated by %(curator)s, who works it.")
            % {"curator": client_curator.full_name},
            code="client_curated",
        )
    errors.raise_if_any()
    if inquiry.curator_id == curator.pk:
        return inquiry
    inquiry.curator = curator
    _save(inquiry, actor, reason)
    _notify_curator(
        inquiry,
        actor,
        _("%(actor)s gave you the inquiry %(inquiry)s. Reason: %(reason)s")
        % {"actor": actor.full_name, "inquiry": _inquiry_label(inquiry), "reason": reason},
    )
    return inquiry


@transaction.atomic
def inquiry_qualify(*, actor: User, inquiry: Inquiry) -> Inquiry:
    """A taken inquiry is a real need of a real client (next: a deal)."""
    inquiry = _locked(inquiry)
    ensure_may_work(actor, inquiry)
    _check_transition(inquiry, InquiryStatus.QUALIFIED)
    inquiry.status = InquiryStatus.QUALIFIED
    _save(inquiry, actor)
    return inquiry


@transaction.atomic
def inquiry_reject(*, actor: User, inquiry: Inquiry, reason: str) -> Inquiry:
    """Close an inquiry that leads nowhere (spam, not our product, …); the reason is required.

    Rejecting a new inquiry is its first response: ``taken_at``/``taken_by`` record it (R1)."""
    inquiry = _locked(inquiry)
    ensure_may_work(actor, inquiry)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": [ValidationError(_("Say why the inquiry is rejected."), code="required")]}
        )
    _check_transition(inquiry, InquiryStatus.REJECTED)
    inquiry.status = InquiryStatus.REJECTED
    inquiry.reject_reason = reason[:MAX_TEXT]
    inquiry.needs_review = False
    if inquiry.taken_at is None:
        inquiry.taken_at = timezone.now()
        inquiry.taken_by = actor
    _save(inquiry, actor, reason)
    return inquiry


def _inquiry_people(inquiry: Inquiry, company: Company) -> list[Contact]:
    """The client's people the inquiry came from (same phone or e-mail): the deal starts with them."""
    try:
        phone = normalize_phone(inquiry.phone) if inquiry.phone else ""
    except ValidationError:
        phone = ""
    email = inquiry.email.strip().lower()
    if not phone and not email:
        return []
    return [
        contact
        for contact in company.contacts.filter(is_active=True)
        if (phone and phone in contact.phones) or (email and email in (e.lower() for e in contact.emails))
    ]


@transaction.atomic
def inquiry_convert(*, actor: User, inquiry: Inquiry, **deal_fields: Any) -> Any:
    """Convert a taken or qualified inquiry of a known client into a deal (S3) and mark it converted.

    The deal is opened by :func:`kurator.sales.services.deal_create` with the inquiry's source and a title
    from the inquiry; ``deal_fields`` are passed on (amount, contacts, …). Refused, with nothing written,
    while the client is not settled (no company, or the head of sales has to confirm it) or when the status
    does not allow it. Returns the deal."""
    from kurator.sales.services import deal_create

    inquiry = _locked(inquiry)
    ensure_may_work(actor, inquiry)
    if inquiry.status not in (InquiryStatus.TAKEN, InquiryStatus.QUALIFIED):
        raise ValidationError(
            {
                "status": [
                    ValidationError(
                        _("Only a taken or qualified inquiry becomes a deal; this one is “%(current)s”."),
                        code="invalid_transition",
                        params={"current": InquiryStatus(inquiry.status).label},
                    )
                ]
            }
        )
    company = resolve_company(inquiry.company)
    if company is None or inquiry.needs_review:
        raise ValidationError(
            {
                "company": [
                    ValidationError(
                        _("Settle the client of the inquiry first: a deal is opened with a known company."),
                        code="no_company",
                    )
                ]
            }
        )
    fields = dict(deal_fields)
    if not fields.get("title"):
        fields["title"] = gettext("%(company)s: inquiry of %(date)s") % {
            "company": company.short_name,
            "date": timezone.localtime(inquiry.received_at).strftime("%d.%m.%Y"),
        }
    fields.setdefault("source", inquiry.source)
    if "contacts" not in fields:
        fields["contacts"] = _inquiry_people(inquiry, company)
    deal = deal_create(actor=actor, company=company, inquiry=inquiry, **fields)
    inquiry.status = InquiryStatus.CONVERTED
    inquiry.needs_review = False
    _save(inquiry, actor)
    return deal


@transaction.atomic
def inquiry_confirm_match(*, actor: User, inquiry: Inquiry, company: Company | int | None) -> Inquiry:
    """The head of sales settles a possible match (R2): ``company`` is the client the inquiry comes from (its
    curator gets the inquiry and is notified; a merged company stands for its survivor), or None to declare
    a new client (a prospect is opened when the inquiry identifies one, and the rules choose the curator).

    Only for an inquiry that is new or taken and waits for review or has no company."""
    ensure(actor, "inquiries.review_match")
    inquiry = _locked(inquiry)
    if inquiry.status not in (InquiryStatus.NEW, InquiryStatus.TAKEN) or not (
        inquiry.needs_review or inquiry.company_id is None
    ):
        raise ValidationError(
            {
                "company": [
                    ValidationError(
                        _("The client of this inquiry is already settled."), code="already_settled"
                    )
                ]
            }
        )
    if company is not None:
        target = resolve_company(record_by_id(Company, company))
        if target is None:
            raise ValidationError(
                {"company": [ValidationError(_("The company was not found."), code="invalid_choice")]}
            )
        if not may_curate(target.curator):
            raise ValidationError(
                {
                    "company": [
                        ValidationError(
                            _(
                                "The curator of %(company)s no longer works with clients: reassign the "
                                "client first."
                            ),
                            code="curator_inactive",
                            params={"company": target.short_name},
                        )
                    ]
                }
            )
        _attach(
            inquiry,
            target,
            gettext(
                "The head of sales %(head)s confirmed the client %(company)s; the inquiry goes to its "
                "curator %(curator)s."
            )
            % {"head": actor.full_name, "company": target.short_name, "curator": target.curator.full_name},
        )
        # The matcher's verdict stays as found; the reasons shown are those about the confirmed company.
        inquiry.match_reasons = [
            r for c in inquiry.match_candidates if c.get("company") == target.pk for r in c.get("reasons", [])
        ]
    else:
        inquiry.needs_review = False
        _route_new(inquiry, actor, head=actor)
    inquiry.needs_review = False
    _save(inquiry, actor)
    _announce(inquiry, actor)
    return inquiry
