"""Every read of the dossier. Each starts from the actor's visible set (kurator.access.scoping)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import F, Field, Model, Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from kurator.access.scoping import access_company_by_id, visible_companies
from kurator.accounts.models import User
from kurator.companies.models import BankAccount, Company, CompanyStatus, Contact, ContactSource
from kurator.core.history import (
    ACTION_CODES,
    ACTIONS,
    SKIPPED_FIELDS,
    Change,
    HistoryEntry,
    display_value,
    foreign_key_labels,
)
from kurator.core.requisites import normalize_phone
from kurator.core.text import fold, search_digits

SORTS: dict[str, tuple[str, ...]] = {
    "name": ("sort_name", "id"),
    "-name": ("-sort_name", "-id"),
    "completeness": ("completeness", "id"),
    "-completeness": ("-completeness", "id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "id"),
    "curator": ("curator__last_name", "curator__first_name", "sort_name", "id"),
}


_NUMBER_RE = re.compile(r"^[\d\s()+\-.\u2010-\u2015]+$")


def _number_alternatives(text: str) -> list[str]:
    digits = search_digits(text)
    alternatives = [digits]
    if len(digits) >= 10:
        try:
            phone = search_digits(normalize_phone(text, keep_extension=False))
        except ValidationError:
            phone = ""
        if phone and phone != digits:
            alternatives.append(phone)
    return alternatives


# What separates the words of a name inside a search token: hyphens, quotes, dots, slashes, … (not digits,
# letters or the underscore).
_PUNCTUATION_RE = re.compile(r"[^\w]+")


def _word_pieces(token: str) -> list[str]:
    """``бетонмонтаж-сервис`` -> ``бетонмонтаж``, ``сервис``; a token of punctuation alone (``%``) stays
    itself, so it is searched literally instead of matching everything."""
    return [piece for piece in _PUNCTUATION_RE.split(token) if piece] or [token]


def search_terms(query: str) -> list[list[str]]:
    """Search tokens, all of which must match; each token is a list of folded alternatives.

    Words are split on spaces and on punctuation, so «Бетонмонтаж-Сервис» finds «Бетонмонтаж Сервис» and
    the other way round, and quotes or a legal form's dots do not get in the way.
    A number (digits with spaces, dashes, brackets) is searched by its digits, so `555-00-11` finds
    `+7 812 555 00 11`; a whole phone number in any Russian spelling also by its E.164 digits, so
    `8 (495) 123-45-67` finds `+7 495 123 45 67`. Both alternatives are kept because a number like an INN
    of Crimea (91…) is at once a valid phone number and an INN.
    """
    query = (query or "").strip()
    if not query:
        return []
    if _NUMBER_RE.match(query) and search_digits(query):
        return [_number_alternatives(query)]
    terms: list[list[str]] = []
    for token in fold(query).split(" "):
        if not token:
            continue
        if _NUMBER_RE.match(token) and search_digits(token):
            terms.append(_number_alternatives(token))
        else:
            terms += [[piece] for piece in _word_pieces(token)]
    return terms


def city_spellings(city: str) -> list[str]:
    """The ways a typed city name is written in the base: `москва` is stored as `Москва`,
    `санкт-петербург` as `Санкт-Петербург`. SQLite (and PostgreSQL under the C locale) cannot fold
    Cyrillic case in SQL, so the filter matches these spellings exactly, which the city index serves."""
    city = " ".join(city.split())
    return list(dict.fromkeys([city, city.capitalize(), city.title(), city.lower(), city.upper()]))


def company_list(
    *,
    actor: User,
    search: str = "",
    curator: int | None = None,
    status: str = "",
    source: int | None = None,
    city: str = "",
    sort: str = "name",
) -> QuerySet[Company]:
    qs = visible_companies(actor).select_related("curator", "source")
    for alternatives in search_terms(search):
        # search_text is folded (lower case, ё → е) by the services, so a plain LIKE works for Cyrillic on
        # SQLite too; on PostgreSQL a trigram GIN index serves it.
        match = Q()
        for term in alternatives:
            match |= Q(search_text__contains=term)
        qs = qs.filter(match)
    if curator:
        qs = qs.filter(curator_id=curator)
    if status:
        qs = qs.filter(status=status)
    if source:
        qs = qs.filter(source_id=source)
    if city:
        qs = qs.filter(city__in=city_spellings(city))
    return qs.order_by(*SORTS.get(sort, SORTS["name"]))


# How many clients a "which client?" picker offers at once (the bank review, a new invoice or payment).
COMPANY_CHOICES = 20


def company_choices(*, actor: User, query: str) -> list[Company]:
    """Live clients whose name or INN holds ``query``, for a picker: the company list's own search. Nothing
    for a query shorter than two characters (it would match half the base)."""
    if len(" ".join((query or "").split())) < 2:
        return []
    return list(company_list(actor=actor, search=query)[:COMPANY_CHOICES])


def sources_in_tree_order(queryset: QuerySet[ContactSource] | None = None) -> QuerySet[ContactSource]:
    """Contact sources as the dictionary shows them (S2): top-level sources by position and name, each
    followed by its own sub-sources by position and name. One query, ordered by the database."""
    qs = ContactSource.objects.all() if queryset is None else queryset
    return qs.select_related("parent").order_by(
        Coalesce("parent__position", "position"),
        Coalesce("parent__name", "name"),
        Coalesce("parent_id", "id"),
        F("parent_id").asc(nulls_first=True),
        "position",
        "name",
    )


def company_get(*, actor: User, company_id: Any) -> Company:
    qs = (
        visible_companies(actor)
        .select_related(
            "curator",
            "source",
            "referred_by",
            "application_sphere",
            "delivery_method",
            "sales_technology",
            "created_by",
        )
        .prefetch_related(
            "product_categories",
            Prefetch("bank_accounts", queryset=BankAccount.objects.order_by("-is_primary", "id")),
            Prefetch(
                "contacts", queryset=Contact.objects.select_related("reports_to").order_by("full_name", "id")
            ),
        )
    )
    return access_company_by_id(actor, company_id, queryset=qs)


@dataclass
class OrgNode:
    contact: Contact
    children: list[OrgNode] = field(default_factory=list)


def contact_tree(contacts: list[Contact]) -> list[OrgNode]:
    """The org structure (D2) as a forest: people who report to nobody in the dossier are roots."""
    nodes = {c.pk: OrgNode(c) for c in contacts}
    roots: list[OrgNode] = []
    for contact in contacts:
        parent = nodes.get(contact.reports_to_id) if contact.reports_to_id else None
        (parent.children if parent else roots).append(nodes[contact.pk])
    return roots


def contact_list(*, actor: User, company: Company | None = None) -> QuerySet[Contact]:
    from kurator.access.scoping import visible_contacts

    qs = visible_contacts(actor).select_related("company", "reports_to")
    if company is not None:
        qs = qs.filter(company=company)
    return qs.order_by("full_name", "id")


def bank_account_list(*, actor: User, company: Company | None = None) -> QuerySet[BankAccount]:
    from kurator.access.scoping import visible_bank_accounts

    qs = visible_bank_accounts(actor).select_related("company")
    if company is not None:
        qs = qs.filter(company=company)
    return qs.order_by("company_id", "-is_primary", "id")


# History (D11) ------------------------------------------------------------------------------------------


OBJECT_TYPES = {"company": _("Company"), "bank_account": _("Bank account"), "contact": _("Person")}


def _categories_of(record: Any) -> list[str]:
    return sorted(str(link.productcategory) for link in record.historicalcompany_product_categories_set.all())


def company_history(*, company: Company, limit: int | None = None) -> list[HistoryEntry]:
    """Who changed what in the dossier, newest first: the company, its bank accounts and its people, and
    those of the duplicates merged into it (D12: a merge loses no history)."""
    # A subquery, not a list: the history costs the same number of queries with or without merges.
    merged = Company.objects.filter(merged_into=company.pk).values("pk")
    sources: list[tuple[type[Model], QuerySet[Any], str]] = [
        (
            Company,
            Company.history.filter(Q(id=company.pk) | Q(id__in=merged)).prefetch_related(
                "historicalcompany_product_categories_set__productcategory"
            ),
            "company",
        ),
        (
            BankAccount,
            BankAccount.history.filter(Q(company_id=company.pk) | Q(company_id__in=merged)),
            "bank_account",
        ),
        (
            Contact,
            Contact.history.filter(Q(company_id=company.pk) | Q(company_id__in=merged)),
            "contact",
        ),
    ]
    records: list[tuple[type[Model], Any, str]] = []
    for model, qs, object_type in sources:
        records += [
            (model, r, object_type)
            for r in qs.select_related("history_user").order_by("history_date", "history_id")
        ]

    records.sort(key=lambda item: (item[1].history_date, item[1].history_id))

    # Resolve every foreign key value with a fixed number of queries, whatever the history length.
    wanted: dict[type[Model], set[Any]] = {}
    loaded: dict[tuple[type[Model], Any], Any] = {}
    for model, record, _type in records:
        loaded[(model, record.id)] = record  # sorted by time: the last one written wins
        for model_field in model._meta.concrete_fields:
            if (
                model_field.is_relation
                and model_field.name not in SKIPPED_FIELDS
                and model_field.related_model
            ):
                value = getattr(record, model_field.attname, None)
                if value is not None:
                    wanted.setdefault(model_field.related_model, set()).add(value)  # type: ignore[arg-type]
    fk_labels = foreign_key_labels(wanted, loaded)

    entries: list[HistoryEntry] = []
    previous: dict[tuple[type[Model], int], Any] = {}
    for model, record, object_type in records:
        key = (model, record.id)
        before = previous.get(key)
        deleted = record.history_type == "-"
        changes: list[Change] = []
        fields = [f for f in model._meta.concrete_fields if f.name not in SKIPPED_FIELDS]
        tracked = {f.name for f in record.__class__._meta.fields}
        for model_field in fields:
            if model_field.name not in tracked:
                continue
            value = getattr(record, model_field.attname)
            if deleted:
                # The deletion row holds the last values: shown as old → nothing, so none is lost from view.
                old, new = value, None
                if old in (None, "", [], False):
                    continue
            else:
                new = value
                old = getattr(before, model_field.attname) if before is not None else None
                if before is not None and old == new:
                    continue
                if before is None and new in (None, "", [], False):
                    continue
            changes.append(
                Change(
                    model_field.name,
                    str(model_field.verbose_name),
                    display_value(model, model_field.name, old, fk_labels),
                    display_value(model, model_field.name, new, fk_labels),
                )
            )
        if model is Company:
            if deleted:
                old_categories, new_categories = _categories_of(record), []
            else:
                old_categories = _categories_of(before) if before is not None else []
                new_categories = _categories_of(record)
            if new_categories != old_categories:
                changes.append(
                    Change(
                        "product_categories",
                        str(_("product categories")),
                        ", ".join(old_categories),
                        ", ".join(new_categories),
                    )
                )
        previous[key] = record
        if record.history_type == "~" and not changes:
            continue
        action = ACTION_CODES[record.history_type]
        entries.append(
            HistoryEntry(
                when=record.history_date,
                user=record.history_user,
                object_type=object_type,
                object_type_label=str(OBJECT_TYPES[object_type]),
                object_label=str(
                    getattr(record, "short_name", None)
                    or getattr(record, "full_name", None)
                    or getattr(record, "settlement_account", "")
                ),
                object_id=record.id,
                action=action,
                action_label=str(ACTIONS[action]),
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
    entries.reverse()
    return entries[:limit] if limit else entries


# Merge (R2; D12) -------------------------------------------------------------------------------------------

# Inquiries still being worked: they follow the client's curator (R2).
OPEN_INQUIRY_STATUSES = ("new", "taken", "qualified")
# Filled on the survivor only where it has nothing; the duplicate's row keeps every value either way.
MERGE_FILL_FIELDS = (
    "legal_form",
    "ogrn",
    "legal_address",
    "actual_address",
    "city",
    "fax",
    "website",
    "founded_on",
    "source",
    "application_sphere",
    "delivery_method",
    "sales_technology",
)
# A merged client is a client: the status furthest along wins.
_STATUS_RANK: dict[str, int] = {CompanyStatus.PROSPECT: 0, CompanyStatus.FORMER: 1, CompanyStatus.CLIENT: 2}


def merge_field_fills(survivor: Company, duplicate: Company) -> dict[str, Any]:
    """What the survivor takes from the duplicate in a merge, as company_update arguments: its empty fields
    filled, phones, e-mails and product categories united, notes appended, the further status."""
    fills: dict[str, Any] = {}
    for name in MERGE_FILL_FIELDS:
        attname = cast(Field, Company._meta.get_field(name)).attname
        mine, theirs = getattr(survivor, attname), getattr(duplicate, attname)
        if mine in (None, "") and theirs not in (None, ""):
            fills[name] = theirs
    if survivor.referred_by_id == duplicate.pk:
        # "Recommended by itself" is refused: the survivor inherits who recommended the duplicate.
        fills["referred_by"] = duplicate.referred_by_id if duplicate.referred_by_id != survivor.pk else None
    elif survivor.referred_by_id is None and duplicate.referred_by_id not in (None, survivor.pk):
        fills["referred_by"] = duplicate.referred_by_id
    if not survivor.inn and duplicate.inn:
        fills["inn"], fills["kpp"] = duplicate.inn, duplicate.kpp
    elif survivor.inn == duplicate.inn and not survivor.kpp and duplicate.kpp:
        fills["kpp"] = duplicate.kpp
    for name in ("phones", "emails"):
        mine_list = list(getattr(survivor, name) or [])
        united = mine_list + [v for v in getattr(duplicate, name) or [] if v not in mine_list]
        if united != mine_list:
            fills[name] = united
    if duplicate.notes and duplicate.notes not in survivor.notes:
        fills["notes"] = "\n\n".join(n for n in (survivor.notes, duplicate.notes) if n)
    if _STATUS_RANK.get(duplicate.status, 0) > _STATUS_RANK.get(survivor.status, 0):
        fills["status"] = duplicate.status
    mine_ids = set(survivor.product_categories.values_list("pk", flat=True))
    theirs_ids = set(duplicate.product_categories.values_list("pk", flat=True))
    if theirs_ids - mine_ids:
        fills["product_categories"] = sorted(mine_ids | theirs_ids)
    return fills


@dataclass
class MergePreview:
    """What a merge will move and fill, shown before the head of sales confirms it."""

    survivor: Company
    duplicate: Company
    people: int
    bank_accounts: int
    inquiries: int
    open_inquiries: int
    referrals: int
    merged_duplicates: int
    history_records: int
    fills: list[Change]
    problems: list[str]


def company_merge_preview(*, actor: User, survivor: Company, duplicate: Company) -> MergePreview:
    """Counts of the records that move from ``duplicate`` to ``survivor`` and the fields it fills."""
    from kurator.inquiries.models import Inquiry

    problems: list[str] = []
    if survivor.pk == duplicate.pk:
        problems.append(str(_("A company cannot be merged into itself.")))
    if duplicate.merged_into_id is not None:
        problems.append(str(_("This company has already been merged.")))
    if survivor.merged_into_id is not None:
        problems.append(
            str(_("This company was itself merged into another one: merge into that one instead."))
        )
    inquiries = Inquiry.objects.filter(company=duplicate)
    fills = merge_field_fills(survivor, duplicate) if not problems else {}
    changes: list[Change] = []
    fk_labels: dict[tuple[type[Model], Any], str] = {}
    for name, value in fills.items():
        model_field: Any = Company._meta.get_field(name)
        if name == "product_categories":
            related = model_field.related_model
            old = ", ".join(str(c) for c in survivor.product_categories.all())
            new = ", ".join(str(c) for c in related.objects.filter(pk__in=value))
        else:
            if model_field.is_relation and value is not None:
                target = model_field.related_model._default_manager.filter(pk=value).first()
                fk_labels[(model_field.related_model, value)] = str(target)
            old = display_value(Company, name, getattr(survivor, model_field.attname), fk_labels)
            new = display_value(Company, name, value, fk_labels)
        changes.append(Change(name, str(model_field.verbose_name), old, new))
    return MergePreview(
        survivor=survivor,
        duplicate=duplicate,
        people=Contact.objects.filter(company=duplicate).count(),
        bank_accounts=BankAccount.objects.filter(company=duplicate).count(),
        inquiries=inquiries.count(),
        open_inquiries=inquiries.filter(status__in=OPEN_INQUIRY_STATUSES)
        .exclude(curator_id=survivor.curator_id)
        .count(),
        referrals=Company.objects.filter(referred_by=duplicate).count()
        + Inquiry.objects.filter(referred_by=duplicate).count(),
        merged_duplicates=Company.objects.filter(merged_into=duplicate).count(),
        history_records=Company.history.filter(id=duplicate.pk).count()
        + Contact.history.filter(company_id=duplicate.pk).count()
        + BankAccount.history.filter(company_id=duplicate.pk).count(),
        fills=changes,
        problems=problems,
    )
