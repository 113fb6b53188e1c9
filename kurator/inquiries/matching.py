"""Which existing company an inquiry (or an imported row) comes from, and why (R2, S1).

One matcher serves inquiries, the client-base import and the head of sales' review queue, so the same
evidence always gives the same verdict and the same sentences:

- ``certain``: the same INN (and the same KPP where both sides have one), or the same OGRN;
- ``strong``: the same phone of the company or of one of its people, the same e-mail, or the same corporate
  e-mail domain (never a public mail service such as mail.ru or gmail.com; the company's website counts);
- ``possible``: a similar name once legal forms, quotes, case and ё are set aside (rapidfuzz score ≥ 85);
- ``none``: nothing of the above.

Merged duplicates (``merged_into`` set) are never matched: their survivor is. Strong evidence that points to
several companies, or to a company whose INN differs from the one given, is downgraded to ``possible``: a
person decides (the head of sales' queue) rather than a guess giving the client to the wrong curator.

Speed (100,000 companies, PostgreSQL): a match costs at most five indexed queries — INN (btree), phones /
e-mails / domains / OGRN in one query over the trigram-indexed ``search_text`` and ``website``, the public
mail domains (unique index), the people of the few candidates, and similar names through the trigram index on
``sort_name``. Candidates found by substring are always verified exactly in Python.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz

from kurator.companies.models import Company, Contact
from kurator.core.requisites import clean_number, normalize_phone
from kurator.core.text import fold, normalize_company_name, search_digits

__all__ = [
    "CERTAIN",
    "NAME_THRESHOLD",
    "NONE",
    "POSSIBLE",
    "STRONG",
    "MatchResult",
    "email_domain",
    "is_public_domain",
    "match_company",
    "public_domains_among",
    "reason_text",
    "website_domain",
]

CERTAIN = "certain"
STRONG = "strong"
POSSIBLE = "possible"
NONE = "none"
_RANK = {CERTAIN: 3, STRONG: 2, POSSIBLE: 1, NONE: 0}

# rapidfuzz score (0-100) from which a similar name is worth a person's look.
NAME_THRESHOLD = 85.0
# How many similar names the index hands over for scoring; the best ones come first on PostgreSQL.
NAME_CANDIDATES = 20
# SQLite has no trigram index: a LIKE on the longest word finds candidates; cap what Python then scores.
SQLITE_NAME_CANDIDATES = 200
# How many candidates an inquiry keeps for the head of sales to choose from.
MAX_CANDIDATES = 10

# Reason sentences, by key; ``reason_text`` renders them again in the reader's language.
MESSAGES: dict[str, Any] = {
    "inn": _("Same INN %(inn)s"),
    "inn_kpp": _("Same INN %(inn)s and KPP %(kpp)s"),
    "inn_branch": _("Same INN %(inn)s, another KPP (%(kpp)s): a branch of the same organisation"),
    "ogrn": _("Same OGRN %(ogrn)s"),
    "phone_company": _("The phone %(phone)s is the company's"),
    "phone_person": _("The phone %(phone)s belongs to %(person)s of this company"),
    "email_company": _("The e-mail %(email)s is the company's"),
    "email_person": _("The e-mail %(email)s belongs to %(person)s of this company"),
    "domain_email": _("The e-mail domain %(domain)s is the company's (%(email)s)"),
    "domain_website": _("The e-mail domain %(domain)s is the company's website (%(website)s)"),
    "name": _("Similar name: “%(name)s” (%(percent)s%% alike)"),
    "name_same": _("Same name: “%(name)s”"),
}
# The level of evidence each reason gives on its own.
_LEVEL = {
    "inn": CERTAIN,
    "inn_kpp": CERTAIN,
    "inn_branch": STRONG,
    "ogrn": CERTAIN,
    "phone_company": STRONG,
    "phone_person": STRONG,
    "email_company": STRONG,
    "email_person": STRONG,
    "domain_email": STRONG,
    "domain_website": STRONG,
    "name": POSSIBLE,
    "name_same": POSSIBLE,
}
_CODE = {
    "inn": "inn",
    "inn_kpp": "inn",
    "inn_branch": "inn",
    "ogrn": "ogrn",
    "phone_company": "phone",
    "phone_person": "phone",
    "email_company": "email",
    "email_person": "email",
    "domain_email": "domain",
    "domain_website": "domain",
    "name": "name",
    "name_same": "name",
}


@dataclass
class MatchResult:
    """The matcher's verdict.

    ``confidence`` is one of certain/strong/possible/none. ``company`` is the best candidate (for ``possible``
    too: the caller decides whether to attach — inquiries wait for the head of sales). ``reasons`` are the
    reasons about ``company``, strongest first, each ``{"code", "text", "company", "score", "key",
    "params"}`` (``code`` one of inn/ogrn/phone/email/domain/name; ``text`` a translated sentence; ``score``
    the name similarity 0-100 or None; ``key``/``params`` let :func:`reason_text` render it again in another
    language). ``candidates`` lists every company found, best first: ``{"company", "name", "inn",
    "curator", "curator_name", "confidence", "score", "reasons": [reason, …]}``.
    """

    confidence: str = NONE
    company: Company | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_match(self) -> bool:
        """Certain or strong: enough to hand the inquiry to the company's curator without a person's look."""
        return self.confidence in (CERTAIN, STRONG)


def reason_text(reason: dict[str, Any]) -> str:
    """The reason's sentence in the active language (the stored ``text`` is in the language of the moment
    it was found)."""
    message = MESSAGES.get(reason.get("key", ""))
    if message is None:
        return str(reason.get("text", ""))
    try:
        return gettext(str(message)) % reason.get("params", {})
    except (KeyError, TypeError, ValueError):
        return str(reason.get("text", ""))


def _reason(key: str, company_id: int, score: float | None = None, **params: Any) -> dict[str, Any]:
    return {
        "code": _CODE[key],
        "text": str(MESSAGES[key]) % params,
        "company": company_id,
        "score": score,
        "key": key,
        "params": params,
    }


# Domains --------------------------------------------------------------------------------------------------

_DOMAIN_RE = re.compile(r"^[a-z0-9\-\u0400-\u04ff]+(\.[a-z0-9\-\u0400-\u04ff]+)+$")


def email_domain(email: str) -> str:
    """The folded domain of an e-mail address (``ivan@Romashka.RU`` → ``romashka.ru``); empty if none."""
    _user, at, domain = fold(email).rpartition("@")
    domain = domain.strip(". ")
    return domain if at and _DOMAIN_RE.match(domain) else ""


def website_domain(website: str) -> str:
    """The host of a website without ``www.`` (``https://www.Romashka.ru/contacts`` → ``romashka.ru``)."""
    text = fold(website)
    if not text:
        return ""
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return ""
    host = host.strip(".")
    if host.startswith("www."):
        host = host[4:]
    return host if _DOMAIN_RE.match(host) else ""


def _suffixes(domain: str) -> list[str]:
    """``a.mail.ru`` → ``[a.mail.ru, mail.ru, ru]``: a subdomain of a public service is public too."""
    parts = domain.split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


def public_domains_among(domains: Iterable[str]) -> set[str]:
    """Those of ``domains`` that are public mail services (or their subdomains), by the editable list."""
    from kurator.inquiries.models import PublicMailDomain

    domains = {d for d in domains if d}
    if not domains:
        return set()
    lookups = {suffix for d in domains for suffix in _suffixes(d)}
    public = set(PublicMailDomain.objects.filter(domain__in=lookups).values_list("domain", flat=True))
    return {d for d in domains if any(s in public for s in _suffixes(d))}


def is_public_domain(domain: str) -> bool:
    """Whether ``domain`` is a public mail service (mail.ru, gmail.com, …): it never identifies a company."""
    return bool(public_domains_among([fold(domain)]))


def _site_matches(domain: str, site: str) -> bool:
    """A mail domain belongs to a website when it is the site's host or a subdomain of it."""
    return bool(domain and site) and (domain == site or domain.endswith("." + site))


# Input cleaning -------------------------------------------------------------------------------------------


def _clean_inn(value: str) -> str:
    number = clean_number(value)
    return number if number.isdigit() and len(number) in (10, 12) else ""


def _clean_kpp(value: str) -> str:
    number = clean_number(value).upper()
    return number if len(number) == 9 else ""


def _clean_ogrn(value: str) -> str:
    number = clean_number(value)
    return number if number.isdigit() and len(number) in (13, 15) else ""


def _phone_key(value: str) -> str:
    """A phone as E.164 without extension, for comparing; empty if it is not a phone number."""
    try:
        return normalize_phone(value, keep_extension=False)
    except ValidationError:
        return ""


def _stored_phone_key(value: Any) -> str:
    # Stored phones are E.164, possibly with ";ext=…": the extension does not change whose line it is.
    key = str(value).split(";", 1)[0].strip()
    return key if key.startswith("+") else _phone_key(key)


def _as_list(values: Iterable[str] | str | None) -> list[str]:
    if not values:
        return []
    if isinstance(values, str):
        return [values]
    return [str(v) for v in values if v]


def _clean_phones(phones: Iterable[str] | str | None) -> list[str]:
    return list(dict.fromkeys(k for k in (_phone_key(p) for p in _as_list(phones)) if k))


def _clean_emails(emails: Iterable[str] | str | None) -> list[str]:
    return list(dict.fromkeys(e for e in (fold(x) for x in _as_list(emails)) if email_domain(e)))


# Finding candidates ---------------------------------------------------------------------------------------


class _Evidence:
    """Reasons collected per company id."""

    def __init__(self) -> None:
        self.by_company: dict[int, list[dict[str, Any]]] = {}

    def add(self, reason: dict[str, Any]) -> None:
        reasons = self.by_company.setdefault(reason["company"], [])
        if not any(r["key"] == reason["key"] and r["params"] == reason["params"] for r in reasons):
            reasons.append(reason)


@dataclass
class _Query:
    """The values that identify a company, cleaned."""

    inn: str
    kpp: str
    ogrn: str
    phones: list[str]
    emails: list[str]
    domains: list[str]  # corporate ones only: a public mail service never identifies a company
    exclude: list[int]


_COMPANY_FIELDS = (
    "id",
    "short_name",
    "inn",
    "kpp",
    "ogrn",
    "phones",
    "emails",
    "website",
    "sort_name",
    "curator",
    "curator__id",
    "curator__username",
    "curator__first_name",
    "curator__last_name",
    "curator__patronymic",
)
_PERSON_FIELDS = ("id", "company_id", "full_name", "phones", "emails")
# More companies than this sharing one phone or domain (a call centre, a holding) is not worth listing.
MAX_FOUND = 200


def _live(queryset: Any, exclude: list[int]) -> Any:
    """Without merged duplicates (their survivor is matched instead) and the excluded ids."""
    queryset = queryset.filter(merged_into__isnull=True)
    return queryset.exclude(pk__in=exclude) if exclude else queryset


def _load_companies(queryset: Any) -> dict[int, Company]:
    # No ORDER BY/LIMIT in SQL: with them PostgreSQL may walk the primary key and compute the keys of every
    # row instead of using the keys index. The cap is applied here.
    rows = list(queryset.select_related("curator").only(*_COMPANY_FIELDS).order_by())
    return {c.pk: c for c in sorted(rows, key=lambda c: c.pk)[:MAX_FOUND]}


def _keys_condition(table: str, website: str) -> str:
    # The very expression of the GIN indexes of inquiries migration 0003, so that the planner uses them.
    return f'kurator_contact_keys("{table}"."phones", "{table}"."emails", {website}) && %s::text[]'


def _find_postgresql(query: _Query) -> tuple[dict[int, Company], list[Contact]]:
    """Companies and people sharing a requisite, a phone, an e-mail or a domain with the query: exact keys
    through indexes, two queries whatever the base's size."""
    keys = [f"tel:{p}" for p in query.phones] + [f"mail:{e}" for e in query.emails]
    keys += [f"domain:{d}" for d in query.domains]
    people: list[Contact] = []
    if keys:
        people = list(
            Contact.objects.filter(is_active=True)
            .extra(where=[_keys_condition("companies_contact", "''::text")], params=[keys])  # noqa: S610
            .only(*_PERSON_FIELDS)
            .order_by()
        )[: MAX_FOUND * 5]
    # A mail at msk.romashka.ru is the company whose site is romashka.ru.
    company_keys = keys + sorted({f"site:{s}" for d in query.domains for s in _suffixes(d) if "." in s})
    clauses: list[str] = []
    params: list[Any] = []
    if query.inn:
        clauses.append('"companies_company"."inn" = %s')
        params.append(query.inn)
    if query.ogrn:
        clauses.append('"companies_company"."ogrn" = %s')
        params.append(query.ogrn)
    if company_keys:
        clauses.append(_keys_condition("companies_company", '"companies_company"."website"'))
        params.append(company_keys)
    if people:
        clauses.append('"companies_company"."id" = ANY(%s)')
        params.append(sorted({p.company_id for p in people}))
    if not clauses:
        return {}, []
    companies = _load_companies(
        _live(Company.objects.extra(where=[" OR ".join(clauses)], params=params), query.exclude)  # noqa: S610
    )
    return companies, [p for p in people if p.company_id in companies]


def _find_generic(query: _Query) -> tuple[dict[int, Company], list[Contact]]:
    """The same on SQLite: substrings of the folded search text (phone digits, e-mails of the company and its
    people), the INN and the website; exact checks follow in Python."""
    terms = [search_digits(p) for p in query.phones] + list(query.emails)
    terms += ["@" + d for d in query.domains]
    if query.ogrn:
        terms.append(query.ogrn)
    condition = Q()
    for term in dict.fromkeys(t for t in terms if t):
        condition |= Q(search_text__contains=term)
    for domain in query.domains:
        for suffix in _suffixes(domain):
            if "." in suffix:
                condition |= Q(website__icontains=suffix)
    if query.inn:
        condition |= Q(inn=query.inn)
    if not condition:
        return {}, []
    companies = _load_companies(_live(Company.objects.filter(condition), query.exclude))
    people: list[Contact] = []
    if companies and (query.phones or query.emails or query.domains):
        people = list(
            Contact.objects.filter(company_id__in=list(companies), is_active=True)
            .only(*_PERSON_FIELDS)
            .order_by("id")
        )
    return companies, people


def _collect(
    evidence: _Evidence, query: _Query, companies: dict[int, Company], people: list[Contact]
) -> None:
    """Every reason the companies and their people give, checked exactly."""
    by_company: dict[int, list[Contact]] = {}
    for person in people:
        by_company.setdefault(person.company_id, []).append(person)
    phones, emails, domains = set(query.phones), set(query.emails), set(query.domains)
    for company in companies.values():
        pk = company.pk
        if query.inn and company.inn == query.inn:
            if query.kpp and company.kpp and company.kpp != query.kpp:
                evidence.add(_reason("inn_branch", pk, inn=query.inn, kpp=company.kpp))
            elif query.kpp and company.kpp:
                evidence.add(_reason("inn_kpp", pk, inn=query.inn, kpp=company.kpp))
            else:
                evidence.add(_reason("inn", pk, inn=query.inn))
        if query.ogrn and company.ogrn == query.ogrn:
            evidence.add(_reason("ogrn", pk, ogrn=query.ogrn))
        company_emails = [fold(e) for e in company.emails or []]
        for phone in sorted(phones & {_stored_phone_key(p) for p in company.phones or []}):
            evidence.add(_reason("phone_company", pk, phone=phone))
        for email in sorted(emails & set(company_emails)):
            evidence.add(_reason("email_company", pk, email=email))
        known_emails = list(company_emails)
        for person in by_company.get(pk, []):
            person_emails = [fold(e) for e in person.emails or []]
            known_emails += person_emails
            for phone in sorted(phones & {_stored_phone_key(p) for p in person.phones or []}):
                evidence.add(_reason("phone_person", pk, phone=phone, person=person.full_name))
            for email in sorted(emails & set(person_emails)):
                evidence.add(_reason("email_person", pk, email=email, person=person.full_name))
        site = website_domain(company.website)
        for domain in sorted(domains):
            # Another address at the same domain: the inquiry's own address is already an e-mail reason.
            example = next((e for e in known_emails if email_domain(e) == domain and e not in emails), None)
            if example:
                evidence.add(_reason("domain_email", pk, domain=domain, email=example))
            elif _site_matches(domain, site):
                evidence.add(_reason("domain_website", pk, domain=domain, website=site))


def _similarity_threshold(normalized: str) -> float:
    """pg_trgm similarity below which no name scores 85 with rapidfuzz, by length (measured on the bench's
    names with typos, dropped letters, swapped words): short names lose a larger share of their trigrams to
    one typo. A higher threshold lets the index skip more rows."""
    length = len(normalized)
    if length < 6:
        return 0.3
    if length < 9:
        return 0.4
    if length < 12:
        return 0.45
    return 0.5


def _name_candidates(normalized: str, exclude: list[int]) -> list[tuple[int, str]]:
    """(id, sort_name) of companies whose normalised name may be like ``normalized``."""
    base = _live(Company.objects.all(), exclude)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Session setting; set before every search because a rolled-back transaction may have undone it.
            cursor.execute("SELECT set_limit(%s)", [_similarity_threshold(normalized)])
        # `%` is pg_trgm's similarity operator, served by the GIN index company_sort_name_trgm; ordering by
        # similarity hands the best few to rapidfuzz.
        rows = (
            base.extra(
                where=['"companies_company"."sort_name" %% %s'],
                params=[normalized],
                select={"similarity": 'similarity("companies_company"."sort_name", %s)'},
                select_params=[normalized],
            )
            .order_by("-similarity", "id")
            .values_list("id", "sort_name")[:NAME_CANDIDATES]
        )
        return list(rows)
    words = sorted((w for w in normalized.split() if len(w) >= 3), key=len, reverse=True)
    if not words:
        return list(base.filter(sort_name=normalized).values_list("id", "sort_name")[:NAME_CANDIDATES])
    condition = Q()
    for word in words[:2]:
        # Each half of a long word: a typo in one half still finds the name through the other.
        half = len(word) // 2
        for part in [word[:half], word[half:]] if len(word) >= 6 else [word]:
            condition |= Q(sort_name__contains=part)
    return list(base.filter(condition).order_by("id").values_list("id", "sort_name")[:SQLITE_NAME_CANDIDATES])


def name_score(a: str, b: str) -> float:
    """Similarity 0-100 of two normalised names; word order does not matter («Ромашка Юг» = «Юг Ромашка»)."""
    if not a or not b:
        return 0.0
    if a == b:
        return 100.0
    return float(max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a, b)))


def _match_name(evidence: _Evidence, name: str, exclude: list[int]) -> None:
    normalized = normalize_company_name(name)
    if len(normalized) < 2:
        return
    for company_id, sort_name in _name_candidates(normalized, exclude):
        score = name_score(normalized, sort_name)
        if score == 100.0:
            evidence.add(_reason("name_same", company_id, score=100.0, name=sort_name))
        elif score >= NAME_THRESHOLD:
            evidence.add(
                _reason("name", company_id, score=round(score, 1), name=sort_name, percent=round(score))
            )


# The verdict ----------------------------------------------------------------------------------------------


def _name_as_written(reasons: list[dict[str, Any]], company: Company) -> None:
    """Name reasons quote the company as people write it («ООО «Ромашка»»), not its folded sort key."""
    for index, reason in enumerate(reasons):
        if reason["code"] == "name":
            params = {**reason["params"], "name": company.short_name}
            reasons[index] = _reason(reason["key"], reason["company"], reason["score"], **params)


def _best_level(reasons: list[dict[str, Any]]) -> str:
    return max((_LEVEL[r["key"]] for r in reasons), key=_RANK.__getitem__, default=NONE)


def _candidate(company: Company, reasons: list[dict[str, Any]], inn: str) -> dict[str, Any]:
    level = _best_level(reasons)
    # A different INN on record says this is another legal entity, whatever the phone or e-mail says.
    if level == STRONG and inn and company.inn and company.inn != inn:
        level = POSSIBLE
    reasons.sort(key=lambda r: (-_RANK[_LEVEL[r["key"]]], -(r["score"] or 0)))
    scores = [r["score"] for r in reasons if r["score"] is not None]
    return {
        "company": company.pk,
        "name": company.short_name,
        "inn": company.inn,
        "curator": company.curator.pk,
        "curator_name": company.curator.full_name,
        "confidence": level,
        "score": max(scores) if scores else None,
        "reasons": reasons,
    }


def match_company(
    *,
    inn: str = "",
    kpp: str = "",
    ogrn: str = "",
    phones: Iterable[str] | str = (),
    emails: Iterable[str] | str = (),
    name: str = "",
    exclude_ids: Iterable[int] = (),
) -> MatchResult:
    """Find the existing company that ``inn``/``kpp``/``ogrn``/``phones``/``emails``/``name`` describe.

    Values are taken as people type them (INN with spaces, phones in any Russian spelling, e-mails in any
    case); invalid ones are ignored — the caller validates its own input. ``exclude_ids`` are companies to
    leave out (e.g. the company being compared with the rest of the base). See the module docstring for the
    levels and :class:`MatchResult` for the answer's shape. Read-only: it writes nothing.
    """
    emails_ = _clean_emails(emails)
    all_domains = {email_domain(e) for e in emails_}
    public = public_domains_among(all_domains)
    query = _Query(
        inn=_clean_inn(inn),
        kpp=_clean_kpp(kpp),
        ogrn=_clean_ogrn(ogrn),
        phones=_clean_phones(phones),
        emails=emails_,
        domains=sorted(all_domains - public),
        exclude=[int(i) for i in exclude_ids if i],
    )
    evidence = _Evidence()
    find = _find_postgresql if connection.vendor == "postgresql" else _find_generic
    companies, people = find(query)
    _collect(evidence, query, companies, people)
    if name:
        _match_name(evidence, name, query.exclude)
    if not evidence.by_company:
        return MatchResult()

    missing = [pk for pk in evidence.by_company if pk not in companies]
    if missing:
        companies.update(_load_companies(Company.objects.filter(pk__in=missing)))
    for pk, reasons in evidence.by_company.items():
        if pk in companies:
            _name_as_written(reasons, companies[pk])
    candidates = [
        _candidate(companies[pk], reasons, query.inn)
        for pk, reasons in evidence.by_company.items()
        if pk in companies
    ]
    if not candidates:
        return MatchResult()
    candidates.sort(
        key=lambda c: (-_RANK[c["confidence"]], -len(c["reasons"]), -(c["score"] or 0), c["company"])
    )
    best = candidates[0]
    confidence = best["confidence"]
    # Strong evidence for two companies at once: a person chooses. (Certain evidence is unique by INN/KPP and
    # OGRN; branches of one INN without a KPP in the query resolve to the first listed.)
    if confidence == STRONG and sum(1 for c in candidates if c["confidence"] == STRONG) > 1:
        confidence = POSSIBLE
    return MatchResult(
        confidence=confidence,
        company=companies[best["company"]],
        reasons=list(best["reasons"]),
        candidates=candidates[:MAX_CANDIDATES],
    )
