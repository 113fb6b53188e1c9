"""Every write to the dossier (D1, D2, D9, D10, D11; R2 curator; R4 roles).

Services validate the whole input first and raise one ValidationError naming every bad field, so nothing is
half-written; they run in a transaction, check the policy and stamp the dossier sections they touch.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _

from kurator.access.decorators import ensure
from kurator.access.policy import can, may_curate
from kurator.accounts.models import User
from kurator.companies.dossier import company_derived_fields
from kurator.companies.models import (
    ApplicationSphere,
    BankAccount,
    Company,
    CompanyStatus,
    Contact,
    ContactSource,
    DecisionRole,
    DeliveryMethod,
    LegalForm,
    ProductCategory,
    SalesTechnology,
)
from kurator.companies.selectors import OPEN_INQUIRY_STATUSES, merge_field_fills
from kurator.core.cleaning import reject_unknown
from kurator.core.errors import EditConflict, FieldErrors
from kurator.core.requisites import (
    normalize_phone,
    validate_bik,
    validate_correspondent_account,
    validate_inn,
    validate_kpp,
    validate_ogrn,
    validate_settlement_account,
)
from kurator.core.text import fold, split_legal_form
from kurator.sales.models import LostReason

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

GENERAL_FIELDS = (
    "full_name",
    "short_name",
    "legal_form",
    "legal_address",
    "actual_address",
    "city",
    "phones",
    "fax",
    "emails",
    "website",
    "founded_on",
    "status",
    "curator",
    "source",
    "referred_by",
    "notes",
)
REQUISITE_FIELDS = ("inn", "kpp", "ogrn")
PROFILE_FIELDS = ("application_sphere", "delivery_method", "sales_technology", "product_categories")
COMPANY_FIELDS = GENERAL_FIELDS + REQUISITE_FIELDS + PROFILE_FIELDS

CONTACT_FIELDS = (
    "full_name",
    "position",
    "department",
    "reports_to",
    "decision_role",
    "phones",
    "emails",
    "birthday",
    "is_leader",
    "is_active",
    "notes",
)
BANK_ACCOUNT_FIELDS = ("bank_name", "bik", "settlement_account", "correspondent_account", "is_primary")


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def _clean_phones(errors: FieldErrors, field: str, values: Iterable[str] | str | None) -> list[str]:
    items = _as_list(values)
    result: list[str] = []
    for item in items:
        phone = errors.check(field, normalize_phone, item)
        if phone and phone not in result:
            result.append(phone)
    return result


def _clean_emails(errors: FieldErrors, field: str, values: Iterable[str] | str | None) -> list[str]:
    result: list[str] = []
    for item in _as_list(values):
        email = item.strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            errors.add(
                field,
                ValidationError(
                    _("“%(value)s” is not a valid e-mail address."),
                    code="email_invalid",
                    params={"value": item},
                ),
            )
            continue
        if email not in result:
            result.append(email)
    return result


def _as_list(values: Iterable[str] | str | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        # Office lists put several numbers in one cell: split on , ; and new lines.
        values = values.replace(";", ",").replace("\n", ",").split(",")
    return [str(v).strip() for v in values if str(v).strip()]


def _clean_website(errors: FieldErrors, value: str | None) -> str:
    site = (value or "").strip()
    if not site:
        return ""
    if "://" not in site:
        site = "https://" + site
    try:
        URLValidator(schemes=["http", "https"])(site)
    except ValidationError:
        errors.add("website", _("The website address is not valid."), code="website_invalid")
    return site


def _by_id(model: Any, value: Any) -> Any:
    """The record with primary key ``value``; None for an unknown or malformed id (a 400, never a 500)."""
    try:
        return model._default_manager.filter(pk=value).first()
    except (TypeError, ValueError):
        return None


def _clean_past_date(
    errors: FieldErrors, field: str, value: Any, future_message: StrOrPromise
) -> date | None:
    """A date (or an ISO string) that is not in the future; empty means none."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = parse_date(str(value).strip())
        except ValueError:
            value = None
        if value is None:
            errors.add(field, _("Enter a valid date."), code="invalid_date")
            return None
    if value > timezone.localdate():
        errors.add(field, future_message, code="future_date")
    return value


_DETECTED_FORMS = {"ФГУП": LegalForm.GUP}


def derive_short_name(full_name: str) -> str:
    """The short name people use, made from the full legal name: the legal form abbreviated and put first,
    the name with its own quotes: «Публичное акционерное общество «Газпром»» -> «ПАО «Газпром»»,
    «Ромашка», ООО -> ООО «Ромашка». A name without a recognised form is kept as it is."""
    form, rest = split_legal_form(full_name)
    if not form or not rest:
        return full_name
    return f"{form} {rest}"


def _clean_company(errors: FieldErrors, data: dict[str, Any], *, current: Company | None) -> dict[str, Any]:
    """Validate and normalise company fields present in ``data``; returns cleaned values."""
    cleaned: dict[str, Any] = {}
    merged = {f: getattr(current, f, None) for f in COMPANY_FIELDS if f != "product_categories"}
    for field in COMPANY_FIELDS:
        if field in data:
            merged[field] = data[field]

    if "full_name" in data or current is None:
        full_name = _text(data.get("full_name"))
        if not full_name:
            errors.add("full_name", _("Enter the company's full legal name."), code="required")
        cleaned["full_name"] = full_name
        if "legal_form" not in data or not data.get("legal_form"):
            detected, _rest = split_legal_form(full_name)
            if detected and (current is None or not current.legal_form):
                # The name may carry a form the list does not have (ФГУП, ПК, LLC): keep the field a choice.
                cleaned["legal_form"] = _DETECTED_FORMS.get(
                    detected, detected if detected in LegalForm.values else LegalForm.OTHER
                )
    if "short_name" in data or current is None:
        short_name = _text(data.get("short_name")) or derive_short_name(
            _text(cleaned.get("full_name") or merged["full_name"])
        )
        cleaned["short_name"] = short_name[:255]
    if data.get("legal_form"):
        if data["legal_form"] not in LegalForm.values:
            errors.add("legal_form", _("Choose a legal form from the list."), code="invalid_choice")
        else:
            cleaned["legal_form"] = data["legal_form"]
    legal_form = cleaned.get("legal_form", merged.get("legal_form")) or ""

    for field in ("legal_address", "actual_address", "notes"):
        if field in data:
            cleaned[field] = (data[field] or "").strip()
    for field in ("city", "fax"):
        if field in data:
            cleaned[field] = _text(data[field])
    if "phones" in data:
        cleaned["phones"] = _clean_phones(errors, "phones", data["phones"])
    if "emails" in data:
        cleaned["emails"] = _clean_emails(errors, "emails", data["emails"])
    if "website" in data:
        cleaned["website"] = _clean_website(errors, data["website"])
    if "founded_on" in data:
        cleaned["founded_on"] = _clean_past_date(
            errors, "founded_on", data["founded_on"], _("The founding date cannot be in the future.")
        )
    if "status" in data:
        if data["status"] not in CompanyStatus.values:
            errors.add("status", _("Choose a status from the list."), code="invalid_choice")
        cleaned["status"] = data["status"]

    # Requisites: each number by its checksum, then the numbers against each other and the legal form.
    inn = kpp = ogrn = None
    if "inn" in data:
        inn = errors.check("inn", validate_inn, data["inn"]) if _text(data["inn"]) else ""
        if inn is not None:
            cleaned["inn"] = inn
    if "kpp" in data:
        kpp = errors.check("kpp", validate_kpp, data["kpp"]) if _text(data["kpp"]) else ""
        if kpp is not None:
            cleaned["kpp"] = kpp
    if "ogrn" in data:
        ogrn = errors.check("ogrn", validate_ogrn, data["ogrn"]) if _text(data["ogrn"]) else ""
        if ogrn is not None:
            cleaned["ogrn"] = ogrn
    final_inn = cleaned.get("inn", merged.get("inn")) or ""
    final_kpp = cleaned.get("kpp", merged.get("kpp")) or ""
    final_ogrn = cleaned.get("ogrn", merged.get("ogrn")) or ""
    if "inn" not in errors.errors and "kpp" not in errors.errors:
        if len(final_inn) == 12 and final_kpp:
            errors.add(
                "kpp", _("A sole trader (12-digit INN) has no KPP: leave KPP empty."), code="kpp_for_person"
            )
        if legal_form == LegalForm.IP and final_inn and len(final_inn) != 12:
            errors.add("inn", _("A sole trader's INN has 12 digits."), code="inn_kind_mismatch")
        if legal_form and legal_form != LegalForm.IP and len(final_inn) == 12:
            errors.add(
                "inn",
                _("An organisation's INN has 10 digits; 12 digits belong to a person."),
                code="inn_kind_mismatch",
            )
    kinds_differ = (len(final_inn) == 12) != (len(final_ogrn) == 15)
    if (
        "ogrn" not in errors.errors
        and "inn" not in errors.errors
        and final_ogrn
        and final_inn
        and kinds_differ
    ):
        errors.add(
            "ogrn",
            _(
                "OGRN has 13 digits for an organisation and OGRNIP 15 digits for a sole trader; "
                "it does not match the INN."
            ),
            code="ogrn_kind_mismatch",
        )

    # Dictionaries and relations.
    for field, model in (
        ("source", ContactSource),
        ("application_sphere", ApplicationSphere),
        ("delivery_method", DeliveryMethod),
        ("sales_technology", SalesTechnology),
    ):
        if field in data:
            value = data[field]
            if value is not None and not isinstance(value, model):
                value = _by_id(model, value)
                if value is None:
                    errors.add(field, _("Choose a value from the list."), code="invalid_choice")
            cleaned[field] = value
    if "product_categories" in data:
        categories = list(data["product_categories"] or [])
        ids = [c.pk if isinstance(c, ProductCategory) else c for c in categories]
        try:
            found = list(ProductCategory.objects.filter(pk__in=ids))
        except (TypeError, ValueError):
            found = []
        if len(found) != len(set(ids)):
            errors.add("product_categories", _("Choose categories from the list."), code="invalid_choice")
        cleaned["product_categories"] = found
    if "referred_by" in data:
        referrer = data["referred_by"]
        if referrer is not None and not isinstance(referrer, Company):
            referrer = _by_id(Company, referrer)
            if referrer is None:
                errors.add("referred_by", _("The recommending client was not found."), code="invalid_choice")
        if referrer is not None and current is not None and referrer.pk == current.pk:
            errors.add("referred_by", _("A company cannot recommend itself."), code="self_reference")
        cleaned["referred_by"] = referrer
    if "curator" in data:
        curator = data["curator"]
        if curator is not None and not isinstance(curator, User):
            curator = _by_id(User, curator)
        if not may_curate(curator):
            errors.add("curator", _("The curator must be an active sales employee."), code="invalid_curator")
        cleaned["curator"] = curator
    return cleaned


def _check_unique_requisites(errors: FieldErrors, cleaned: dict[str, Any], current: Company | None) -> None:
    inn = cleaned.get("inn", current.inn if current else "")
    kpp = cleaned.get("kpp", current.kpp if current else "")
    if not inn or "inn" in errors.errors or "kpp" in errors.errors:
        return
    clash = Company.objects.filter(inn=inn, kpp=kpp)
    if current is not None:
        clash = clash.exclude(pk=current.pk)
    other = clash.select_related("curator").first()
    if other is not None:
        errors.add(
            "inn",
            ValidationError(
                _("A company with this INN and KPP is already in the base: %(name)s (curator %(curator)s)."),
                code="duplicate_inn",
                params={"name": other.short_name, "curator": other.curator.full_name},
            ),
        )


def _refresh_derived(company: Company) -> None:
    """Recompute search text and completeness without writing a history record (they are derived).

    They are computed from the stored row, not from ``company``: callers of the people and bank account
    services pass whatever instance they hold, which may predate the last edit of the dossier."""
    values = company_derived_fields(Company.objects.get(pk=company.pk))
    Company.objects.filter(pk=company.pk).update(**values)
    for key, value in values.items():
        setattr(company, key, value)


def _stamp_sections(company: Company, fields: Iterable[str], now: Any) -> list[str]:
    stamps: list[str] = []
    fields = set(fields)
    for section, section_fields in (
        ("general_updated_at", GENERAL_FIELDS),
        ("requisites_updated_at", REQUISITE_FIELDS),
        ("profile_updated_at", PROFILE_FIELDS),
    ):
        if fields & set(section_fields):
            setattr(company, section, now)
            stamps.append(section)
    return stamps


def _save_integrity(obj: Any, field: str, message: Any, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            obj.save(**kwargs)
    except IntegrityError as exc:
        raise ValidationError({field: [ValidationError(message, code="conflict")]}) from exc


def _set_categories_quietly(company: Company, categories: list[ProductCategory]) -> None:
    """Set product categories without simple-history's own records: it writes one per m2m signal (a
    ``set()`` is a removal and an addition), i.e. intermediate states nobody saw. One edit is one history
    entry (D11): the company's record of the save carries the categories."""
    company.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        company.product_categories.set(categories)
    finally:
        del company.skip_history_when_saving  # type: ignore[attr-defined]


def _attach_categories_to_last_record(company: Company) -> None:
    """Give the creation record the categories set just after the insert (an m2m needs the row first)."""
    record = Company.history.filter(id=company.pk).order_by("-history_date", "-history_id").first()
    history_model: Any = Company.history.model
    m2m_model = history_model.product_categories.model
    through = Company.product_categories.through
    m2m_model.objects.bulk_create(
        m2m_model(
            history=record, id=row.id, company_id=row.company_id, productcategory_id=row.productcategory_id
        )
        for row in through.objects.filter(company=company)
    )


@transaction.atomic
def company_create(*, actor: User, **fields: Any) -> Company:
    """Create a company. A manager becomes its curator; the head of sales may name another (R2)."""
    ensure(actor, "companies.add_company")
    reject_unknown(fields, COMPANY_FIELDS)
    errors = FieldErrors()
    requested_curator = fields.get("curator")
    if requested_curator is None:
        fields["curator"] = actor
    elif (
        not can(actor, "companies.change_curator")
        and getattr(requested_curator, "pk", requested_curator) != actor.pk
    ):
        errors.add(
            "curator",
            _("Only the head of sales may give a new company to another curator."),
            code="curator_forbidden",
        )
        fields["curator"] = actor
    cleaned = _clean_company(errors, fields, current=None)
    _check_unique_requisites(errors, cleaned, None)
    errors.raise_if_any()

    categories = cleaned.pop("product_categories", [])
    company = Company(**cleaned, created_by=actor)
    now = timezone.now()
    company.general_updated_at = company.requisites_updated_at = now
    if any(cleaned.get(f) for f in PROFILE_FIELDS) or categories:
        company.profile_updated_at = now
    company._history_user = actor  # type: ignore[attr-defined]
    _save_integrity(company, "inn", _("A company with this INN and KPP is already in the base."))
    if categories:
        _set_categories_quietly(company, categories)
        _attach_categories_to_last_record(company)
    _refresh_derived(company)
    return company


@transaction.atomic
def company_update(
    *, actor: User, company: Company, expected_version: int | None = None, reason: str = "", **fields: Any
) -> Company:
    """Edit the dossier. ``expected_version`` guards against overwriting a colleague's edit (409)."""
    ensure(actor, "companies.change_company", company)
    reject_unknown(fields, COMPANY_FIELDS)
    company = Company.objects.select_for_update().get(pk=company.pk)
    # Checked again on the locked row: the caller's copy may predate a change of curator.
    ensure(actor, "companies.change_company", company)
    if expected_version is not None and company.version != expected_version:
        raise EditConflict
    errors = FieldErrors()
    if "curator" in fields:
        new_curator = fields["curator"]
        if getattr(new_curator, "pk", new_curator) == company.curator_id:
            fields.pop("curator")
        elif not can(actor, "companies.change_curator"):
            errors.add(
                "curator", _("Only the head of sales may change the curator."), code="curator_forbidden"
            )
            fields.pop("curator")
    cleaned = _clean_company(errors, fields, current=company)
    _check_unique_requisites(errors, cleaned, company)
    errors.raise_if_any()

    categories = cleaned.pop("product_categories", None)
    changed = [f for f, v in cleaned.items() if getattr(company, f) != v]
    categories_changed = categories is not None and {c.pk for c in categories} != set(
        company.product_categories.values_list("pk", flat=True)
    )
    if not changed and not categories_changed:
        return company
    for field in changed:
        setattr(company, field, cleaned[field])
    now = timezone.now()
    _stamp_sections(company, changed + (["product_categories"] if categories_changed else []), now)
    company.version = F("version") + 1
    company._history_user = actor  # type: ignore[attr-defined]
    company._change_reason = reason or None  # type: ignore[attr-defined]
    if categories_changed:
        # Set before the save, whose history record then holds the new categories with the other changes.
        _set_categories_quietly(company, categories or [])
    _save_integrity(company, "inn", _("A company with this INN and KPP is already in the base."))
    company.refresh_from_db()
    _refresh_derived(company)
    if "curator" in changed:
        # R2: the client's open deals follow its curator.
        from kurator.sales.services import deals_follow_curator

        deals_follow_curator(company=company, new_owner=company.curator, actor=actor)
    return company


def company_change_curator(*, actor: User, company: Company, curator: User, reason: str = "") -> Company:
    """Give a client to another curator (head of sales only; recorded in the history with the reason)."""
    ensure(actor, "companies.change_curator")
    return company_update(actor=actor, company=company, curator=curator, reason=reason)


# People (D2) --------------------------------------------------------------------------------------------


def _clean_contact(
    errors: FieldErrors, data: dict[str, Any], *, company: Company, current: Contact | None
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "full_name" in data or current is None:
        name = _text(data.get("full_name"))
        if not name:
            errors.add("full_name", _("Enter the person's full name."), code="required")
        cleaned["full_name"] = name
    for field in ("position", "department"):
        if field in data:
            cleaned[field] = _text(data[field])
    if "notes" in data:
        cleaned["notes"] = (data["notes"] or "").strip()
    if "decision_role" in data:
        role = data["decision_role"] or DecisionRole.OTHER
        if role not in DecisionRole.values:
            errors.add("decision_role", _("Choose a decision role from the list."), code="invalid_choice")
        cleaned["decision_role"] = role
    if "phones" in data:
        cleaned["phones"] = _clean_phones(errors, "phones", data["phones"])
    if "emails" in data:
        cleaned["emails"] = _clean_emails(errors, "emails", data["emails"])
    if "birthday" in data:
        cleaned["birthday"] = _clean_past_date(
            errors, "birthday", data["birthday"], _("The birthday cannot be in the future.")
        )
    for field in ("is_leader", "is_active"):
        if field in data:
            cleaned[field] = bool(data[field])
    if "reports_to" in data:
        boss = data["reports_to"]
        if boss is not None and not isinstance(boss, Contact):
            boss = _by_id(Contact, boss)
            if boss is None:
                errors.add("reports_to", _("The manager was not found."), code="invalid_choice")
        if boss is not None:
            if boss.company_id != company.pk:
                errors.add(
                    "reports_to",
                    _("A person can only report to someone of the same company."),
                    code="other_company",
                )
            elif current is not None and _reports_chain_contains(boss, current.pk):
                errors.add("reports_to", _("This would make a circle in the org structure."), code="cycle")
        cleaned["reports_to"] = boss
    return cleaned


def _reports_chain_contains(start: Contact, target_id: int) -> bool:
    seen: set[int] = set()
    node: Contact | None = start
    while node is not None and node.pk not in seen:
        if node.pk == target_id:
            return True
        seen.add(node.pk)
        node = node.reports_to
    return False


def _touch_section(company: Company, stamp: str) -> None:
    """A record under the company changed: stamp its dossier section and recompute the derived fields."""
    Company.objects.filter(pk=company.pk).update(**{stamp: timezone.now()})
    _refresh_derived(company)


@transaction.atomic
def contact_create(*, actor: User, company: Company, **fields: Any) -> Contact:
    ensure(actor, "companies.change_company_records", company)
    reject_unknown(fields, CONTACT_FIELDS)
    errors = FieldErrors()
    cleaned = _clean_contact(errors, fields, company=company, current=None)
    errors.raise_if_any()
    contact = Contact(company=company, **cleaned)
    contact._history_user = actor  # type: ignore[attr-defined]
    contact.save()
    _touch_section(company, "people_updated_at")
    return contact


@transaction.atomic
def contact_update(*, actor: User, contact: Contact, **fields: Any) -> Contact:
    ensure(actor, "companies.change_company_records", contact.company)
    reject_unknown(fields, CONTACT_FIELDS)
    errors = FieldErrors()
    cleaned = _clean_contact(errors, fields, company=contact.company, current=contact)
    errors.raise_if_any()
    changed = [f for f, v in cleaned.items() if getattr(contact, f) != v]
    if not changed:
        return contact
    for field in changed:
        setattr(contact, field, cleaned[field])
    contact._history_user = actor  # type: ignore[attr-defined]
    contact.save()
    _touch_section(contact.company, "people_updated_at")
    return contact


@transaction.atomic
def contact_delete(*, actor: User, contact: Contact) -> None:
    """Remove a person entered by mistake; the history keeps the record (D11). People who left the
    company are better marked ``is_active=False``."""
    ensure(actor, "companies.change_company_records", contact.company)
    company = contact.company
    # Subordinates move up to their boss's boss one by one, so that each move is kept in the history (D11).
    for subordinate in Contact.objects.filter(reports_to=contact):
        subordinate.reports_to_id = contact.reports_to_id
        subordinate._history_user = actor  # type: ignore[attr-defined]
        subordinate.save(update_fields=["reports_to", "updated_at"])
    contact._history_user = actor  # type: ignore[attr-defined]
    contact.delete()
    _touch_section(company, "people_updated_at")


# Bank accounts (D1) -------------------------------------------------------------------------------------


def _clean_bank_account(
    errors: FieldErrors, data: dict[str, Any], current: BankAccount | None
) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    merged = {f: getattr(current, f, "") for f in BANK_ACCOUNT_FIELDS}
    merged.update({k: v for k, v in data.items() if k in BANK_ACCOUNT_FIELDS})
    if "bank_name" in data:
        cleaned["bank_name"] = _text(data["bank_name"])
    bik = None
    if _text(merged.get("bik")):
        bik = errors.check("bik", validate_bik, merged["bik"])
    else:
        errors.add("bik", _("Enter the bank's BIK."), code="required")
    if bik:
        cleaned["bik"] = bik
    if _text(merged.get("settlement_account")):
        if bik:
            account = errors.check(
                "settlement_account", validate_settlement_account, merged["settlement_account"], bik
            )
            if account:
                cleaned["settlement_account"] = account
    else:
        errors.add("settlement_account", _("Enter the settlement account."), code="required")
    if _text(merged.get("correspondent_account")):
        if bik:
            account = errors.check(
                "correspondent_account", validate_correspondent_account, merged["correspondent_account"], bik
            )
            # The key only involves BIK digits 5-6, so another bank's account of the same region passes it;
            # a bank's account at the Bank of Russia (30101…) also ends with the last three BIK digits.
            if account and account.startswith("30101") and account[-3:] != bik[-3:]:
                errors.add(
                    "correspondent_account",
                    _(
                        "The correspondent account belongs to another bank: it must end with the last three "
                        "digits of the BIK."
                    ),
                    code="account_bik_mismatch",
                )
                account = None
            if account:
                cleaned["correspondent_account"] = account
    else:
        cleaned["correspondent_account"] = ""
    if "is_primary" in data:
        cleaned["is_primary"] = bool(data["is_primary"])
    return cleaned


def _make_primary(company: Company, account: BankAccount, actor: User) -> None:
    # Saved one by one (there is at most one) so that the demotion is kept in the history (D11).
    for previous in BankAccount.objects.filter(company=company, is_primary=True).exclude(pk=account.pk):
        previous.is_primary = False
        previous._history_user = actor  # type: ignore[attr-defined]
        previous.save(update_fields=["is_primary", "updated_at"])


@transaction.atomic
def bank_account_create(*, actor: User, company: Company, **fields: Any) -> BankAccount:
    ensure(actor, "companies.change_company_records", company)
    reject_unknown(fields, BANK_ACCOUNT_FIELDS)
    errors = FieldErrors()
    cleaned = _clean_bank_account(errors, fields, None)
    if (
        cleaned.get("settlement_account")
        and BankAccount.objects.filter(
            company=company, bik=cleaned.get("bik"), settlement_account=cleaned["settlement_account"]
        ).exists()
    ):
        errors.add("settlement_account", _("This account is already in the dossier."), code="duplicate")
    errors.raise_if_any()
    # The first account is the primary one; a new primary demotes the old.
    if not company.bank_accounts.exists():
        cleaned["is_primary"] = True
    account = BankAccount(company=company, **cleaned)
    if account.is_primary:
        _make_primary(company, account, actor)
    account._history_user = actor  # type: ignore[attr-defined]
    _save_integrity(account, "settlement_account", _("This account is already in the dossier."))
    _touch_section(company, "requisites_updated_at")
    return account


@transaction.atomic
def bank_account_update(*, actor: User, account: BankAccount, **fields: Any) -> BankAccount:
    ensure(actor, "companies.change_company_records", account.company)
    reject_unknown(fields, BANK_ACCOUNT_FIELDS)
    errors = FieldErrors()
    cleaned = _clean_bank_account(errors, fields, account)
    if cleaned.get("is_primary") is False and account.is_primary:
        errors.add("is_primary", _("Make another account primary instead."), code="primary_required")
    errors.raise_if_any()
    changed = [f for f, v in cleaned.items() if getattr(account, f) != v]
    if not changed:
        return account
    for field in changed:
        setattr(account, field, cleaned[field])
    if account.is_primary:
        _make_primary(account.company, account, actor)
    account._history_user = actor  # type: ignore[attr-defined]
    _save_integrity(account, "settlement_account", _("This account is already in the dossier."))
    _touch_section(account.company, "requisites_updated_at")
    return account


@transaction.atomic
def bank_account_delete(*, actor: User, account: BankAccount) -> None:
    ensure(actor, "companies.change_company_records", account.company)
    company = account.company
    was_primary = account.is_primary
    account._history_user = actor  # type: ignore[attr-defined]
    account.delete()
    if was_primary:
        successor = company.bank_accounts.order_by("id").first()
        if successor is not None:
            successor.is_primary = True
            successor._history_user = actor  # type: ignore[attr-defined]
            successor.save(update_fields=["is_primary", "updated_at"])
    _touch_section(company, "requisites_updated_at")


# Dictionaries ------------------------------------------------------------------------------------------

DICTIONARIES: dict[str, Any] = {
    "sources": ContactSource,
    "spheres": ApplicationSphere,
    "categories": ProductCategory,
    "delivery": DeliveryMethod,
    "technologies": SalesTechnology,
    "lost_reasons": LostReason,
}


@transaction.atomic
def dictionary_item_save(
    *,
    actor: User,
    kind: str,
    item: Any = None,
    name: str,
    position: int | None = None,
    is_active: bool = True,
    **extra: Any,
) -> Any:
    """Add or change a dictionary entry. Without a ``position`` a new entry goes after the last one (of its
    parent's sub-sources, for a sub-source) and an existing one keeps its place."""
    ensure(actor, "companies.manage_dictionaries")
    model = DICTIONARIES[kind]
    errors = FieldErrors()
    name = _text(name)
    if not name:
        errors.add("name", _("Enter a name."), code="required")
    others = model.objects.all()
    if item is not None:
        others = others.exclude(pk=item.pk)
    if kind == "sources":
        others = others.filter(parent=extra.get("parent"))
    # Compared folded in Python: SQLite's case-insensitive match knows only ASCII, and dictionaries are short.
    if name and any(fold(other) == fold(name) for other in others.values_list("name", flat=True)):
        errors.add("name", _("This name is already in the list."), code="duplicate")
    errors.raise_if_any()
    if position is None:
        siblings = model.objects.filter(parent=extra.get("parent")) if kind == "sources" else model.objects
        last = siblings.aggregate(last=Max("position"))["last"]
        position = item.position if item is not None else (0 if last is None else last + 1)
    item = item or model()
    item.name, item.position, item.is_active = name, position, is_active
    for key, value in extra.items():
        setattr(item, key, value)
    item.save()
    return item


# Merge and curator reassignment (R2; D11, D12: nothing is ever lost) --------------------------------------

# The longest reason the history keeps (simple-history's change-reason column).
REASON_MAX_LENGTH = 100


def _clean_reason(errors: FieldErrors, reason: Any, *, required: bool) -> str:
    reason = _text(reason)
    if required and not reason:
        errors.add("reason", _("Give the reason: it is kept in the history."), code="required")
    if len(reason) > REASON_MAX_LENGTH:
        errors.add(
            "reason",
            ValidationError(
                _("Keep the reason within %(limit)d characters."),
                code="max_length",
                params={"limit": REASON_MAX_LENGTH},
            ),
        )
    return reason


def _save_with_history(obj: Any, actor: User, reason: str, fields: list[str]) -> None:
    """Save the named fields of a record so that the history shows who did it and why (D11)."""
    obj._history_user = actor
    obj._change_reason = reason or None
    obj.save(update_fields=[*fields, "updated_at"])


def _dossier_url(company: Company) -> str:
    from django.urls import reverse

    return reverse("companies:detail", args=[company.pk])


def _move_bank_accounts(actor: User, survivor: Company, duplicate: Company, reason: str) -> int:
    """Move the duplicate's accounts; the survivor's primary account stays primary. An account both dossiers
    hold (same BIK and number) is kept once: the survivor's copy gets what only the duplicate's copy knew,
    and the duplicate's copy is removed with a history record, so nothing is lost."""
    theirs = {(a.bik, a.settlement_account): a for a in BankAccount.objects.filter(company=survivor)}
    has_primary = any(a.is_primary for a in theirs.values())
    moved = 0
    for account in BankAccount.objects.filter(company=duplicate).order_by("-is_primary", "id"):
        twin = theirs.get((account.bik, account.settlement_account))
        if twin is not None:
            filled = [f for f in ("bank_name", "correspondent_account") if not getattr(twin, f)]
            filled = [f for f in filled if getattr(account, f)]
            for field in filled:
                setattr(twin, field, getattr(account, field))
            if filled:
                _save_with_history(twin, actor, reason, filled)
            account._history_user = actor  # type: ignore[attr-defined]
            account._change_reason = reason or None  # type: ignore[attr-defined]
            account.delete()
            continue
        account.company = survivor
        if account.is_primary and has_primary:
            account.is_primary = False
        has_primary = has_primary or account.is_primary
        _save_with_history(account, actor, reason, ["company", "is_primary"])
        theirs[(account.bik, account.settlement_account)] = account
        moved += 1
    if theirs and not has_primary:
        first = min(theirs.values(), key=lambda a: a.pk)
        first.is_primary = True
        _save_with_history(first, actor, reason, ["is_primary"])
    return moved


def _move_inquiries(actor: User, survivor: Company, duplicate: Company, reason: str) -> int:
    """The duplicate's inquiries (and those it recommended) move to the survivor; open ones go to the
    survivor's curator, so that one client has one curator (R2)."""
    from kurator.inquiries.models import Inquiry

    moved = 0
    for inquiry in Inquiry.objects.filter(Q(company=duplicate) | Q(referred_by=duplicate)).order_by("pk"):
        fields = []
        if inquiry.company_id == duplicate.pk:
            inquiry.company = survivor
            fields.append("company")
            moved += 1
            if inquiry.status in OPEN_INQUIRY_STATUSES and inquiry.curator_id != survivor.curator_id:
                inquiry.curator_id = survivor.curator_id
                fields.append("curator")
        if inquiry.referred_by_id == duplicate.pk:
            inquiry.referred_by = survivor
            fields.append("referred_by")
        _save_with_history(inquiry, actor, reason, fields)
    return moved


def _repoint_companies(actor: User, survivor: Company, duplicate: Company, reason: str) -> None:
    """Clients the duplicate recommended now name the survivor (S2); companies merged earlier into the
    duplicate now point at the survivor directly, so an old id never needs more than one hop."""
    for field in ("referred_by", "merged_into"):
        for company in Company.objects.filter(**{field: duplicate}).exclude(pk=survivor.pk).order_by("pk"):
            setattr(company, field, survivor)
            company.version = F("version") + 1
            _save_with_history(company, actor, reason, [field, "version"])


_MERGE_HANDLED_RELATIONS = {
    (Contact, "company"),
    (BankAccount, "company"),
    (Company, "referred_by"),
    (Company, "merged_into"),
    ("inquiries.Inquiry", "company"),
    ("inquiries.Inquiry", "referred_by"),
}


def _move_other_records(survivor: Company, duplicate: Company) -> None:
    """Records of apps added later (deals, contracts, …) that point at a company move too, so a merge never
    orphans them; each app that wants its own history of the move should be added to the merge above."""
    handled = {(m if isinstance(m, str) else m._meta.label, f) for m, f in _MERGE_HANDLED_RELATIONS}  # type: ignore[attr-defined]
    for relation in Company._meta.related_objects:
        if not (relation.one_to_many or relation.one_to_one):
            continue
        key = (relation.related_model._meta.label, relation.field.name)  # type: ignore[union-attr]
        if key in handled:
            continue
        relation.related_model._base_manager.filter(  # type: ignore[union-attr]
            **{relation.field.name: duplicate}
        ).update(**{relation.field.name: survivor})


def _update_survivor(actor: User, survivor: Company, fills: dict[str, Any], reason: str) -> Company:
    """Fill the survivor's empty fields. A value the checks now refuse (say, a requisite that no longer fits
    the survivor's legal form) is left out rather than blocking the merge: the duplicate's row keeps it."""
    for _attempt in range(3):
        try:
            return company_update(actor=actor, company=survivor, reason=reason, **fills)
        except ValidationError as exc:
            bad = set(getattr(exc, "error_dict", {})) & set(fills)
            if not bad:
                raise
            if bad & {"inn", "kpp"}:
                bad |= {"inn", "kpp"}  # the pair goes together or not at all
            for field in bad:
                fills.pop(field, None)
    return company_update(actor=actor, company=survivor, reason=reason, **fills)


@transaction.atomic
def company_merge(*, actor: User, survivor: Company, duplicate: Company, reason: str = "") -> Company:
    """Merge a duplicate company into the survivor (R2; D11, D12: nothing is lost).

    People, bank accounts, inquiries and recommendations move to the survivor; its empty fields are filled
    from the duplicate, phones, e-mails and product categories are united. The duplicate keeps its row with
    ``merged_into`` set (its id resolves to the survivor) and its history, which the survivor's history
    shows. Both curators are notified."""
    from kurator.activities.services import notify

    ensure(actor, "companies.merge_company")
    errors = FieldErrors()
    reason = _clean_reason(errors, reason, required=False)
    errors.raise_if_any()
    # Both rows locked, in a fixed order so that two merges of the same pair cannot deadlock.
    locked = {
        c.pk: c
        for c in Company.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk]).order_by("pk")
    }
    if survivor.pk == duplicate.pk:
        errors.add("duplicate", _("A company cannot be merged into itself."), code="same_company")
    elif len(locked) != 2:
        errors.add("duplicate", _("The company was not found."), code="invalid")
    else:
        survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
        if survivor.merged_into_id is not None:
            errors.add(
                NON_FIELD_ERRORS,
                _("This company was itself merged into another one: merge into that one instead."),
                code="survivor_merged",
            )
        if duplicate.merged_into_id is not None:
            errors.add("duplicate", _("This company has already been merged."), code="already_merged")
    errors.raise_if_any()

    history_reason = reason or str(_("Merge of duplicate companies"))
    fills = merge_field_fills(survivor, duplicate)
    old_curators = [survivor.curator, duplicate.curator]

    people = 0
    for contact in Contact.objects.filter(company=duplicate).order_by("pk"):
        contact.company = survivor
        _save_with_history(contact, actor, history_reason, ["company"])
        people += 1
    accounts = _move_bank_accounts(actor, survivor, duplicate, history_reason)
    _move_inquiries(actor, survivor, duplicate, history_reason)
    _repoint_companies(actor, survivor, duplicate, history_reason)
    _move_other_records(survivor, duplicate)

    # The duplicate gives up its INN/KPP when the survivor takes them (the pair is unique); its history
    # keeps them.
    requisites = (duplicate.inn, duplicate.kpp)
    released = bool(duplicate.inn) and (fills.get("inn", survivor.inn), fills.get("kpp", survivor.kpp)) == (
        requisites
    )
    duplicate.merged_into = survivor
    changed = ["merged_into", "version"]
    if released:
        duplicate.inn = duplicate.kpp = ""
        changed += ["inn", "kpp"]
    duplicate.version = F("version") + 1
    _save_with_history(duplicate, actor, history_reason, changed)

    survivor = _update_survivor(actor, survivor, fills, history_reason)
    if released and (survivor.inn, survivor.kpp) != requisites:
        # The survivor could not take them (they contradict its legal form): the duplicate keeps them.
        duplicate.inn, duplicate.kpp = requisites
        _save_with_history(duplicate, actor, history_reason, ["inn", "kpp"])
    stamps = {}
    if people:
        stamps["people_updated_at"] = timezone.now()
    if accounts:
        stamps["requisites_updated_at"] = timezone.now()
    if stamps:
        Company.objects.filter(pk=survivor.pk).update(**stamps)
    _refresh_derived(survivor)
    survivor.refresh_from_db()
    # The duplicate's deals moved with its other records; the open ones now belong to the survivor's curator.
    from kurator.sales.services import deals_follow_curator

    deals_follow_curator(company=survivor, new_owner=survivor.curator, actor=actor)

    text = _("%(duplicate)s was merged into %(survivor)s by %(actor)s.") % {
        "duplicate": duplicate.short_name,
        "survivor": survivor.short_name,
        "actor": actor.full_name,
    }
    if reason:
        text = f"{text} " + _("Reason: %(reason)s") % {"reason": reason}
    for curator in {c.pk: c for c in old_curators}.values():
        if curator.pk != actor.pk:
            notify(
                recipient=curator,
                kind="company_merged",
                text=text,
                url=_dossier_url(survivor),
                dedup_key=f"company_merged:{duplicate.pk}",
            )
    return survivor


@transaction.atomic
def company_reassign(*, actor: User, company: Company, curator: User | int | None, reason: str) -> Company:
    """Hand a client to another curator (head of sales; R2): with a reason kept in the history, both curators
    notified with a link to the dossier, and the client's open inquiries moving to the new curator."""
    from kurator.activities.services import notify
    from kurator.inquiries.models import Inquiry

    ensure(actor, "companies.change_curator")
    errors = FieldErrors()
    reason = _clean_reason(errors, reason, required=True)
    new_curator = curator if isinstance(curator, User) or curator is None else _by_id(User, curator)
    if not may_curate(new_curator):
        errors.add("curator", _("The curator must be an active sales employee."), code="invalid_curator")
    company = Company.objects.select_for_update().select_related("curator").get(pk=company.pk)
    if company.merged_into_id is not None:
        errors.add(
            NON_FIELD_ERRORS,
            _("This company was merged into another one: reassign that one instead."),
            code="company_merged",
        )
    elif new_curator is not None and new_curator.pk == company.curator_id:
        errors.add("curator", _("This user is already the curator."), code="same_curator")
    errors.raise_if_any()
    assert new_curator is not None  # may_curate refused None above
    old_curator = company.curator

    company = company_change_curator(actor=actor, company=company, curator=new_curator, reason=reason)
    for inquiry in Inquiry.objects.filter(company=company, status__in=OPEN_INQUIRY_STATUSES).exclude(
        curator=new_curator
    ):
        inquiry.curator = new_curator
        _save_with_history(inquiry, actor, reason, ["curator"])

    url = _dossier_url(company)
    names = {
        "company": company.short_name,
        "actor": actor.full_name,
        "old": old_curator.full_name,
        "new": new_curator.full_name,
        "reason": reason,
    }
    if old_curator.pk != actor.pk:
        notify(
            recipient=old_curator,
            kind="curator_changed",
            text=_("%(actor)s handed %(company)s to %(new)s. Reason: %(reason)s") % names,
            url=url,
        )
    if new_curator.pk != actor.pk:
        notify(
            recipient=new_curator,
            kind="curator_changed",
            text=_("%(actor)s made you the curator of %(company)s instead of %(old)s. Reason: %(reason)s")
            % names,
            url=url,
        )
    return company
