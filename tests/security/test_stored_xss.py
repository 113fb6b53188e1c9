"""Stored XSS (R4, D12, R3): whatever a user typed into any text field comes back escaped on every page.

Every CharField/TextField (and the phone and e-mail lists) of every Kurator model, found through Django's
``_meta``, gets a payload written straight into the database (``.update()``: the services' validation, an INN
check for one, would refuse most of them, and that is fine — the page must be safe whatever is stored). Each
payload carries a tag naming its model, field and row. Then every HTML page of the matrix is rendered, for
the head of sales (who sees most) and for a manager (own, colleague's and granted clients), plus the list
pages with a search for the payloads, and no body may carry a payload unescaped: no raw ``<script>``,
``<img onerror>``, ``<svg onload>`` or ``<x…>`` tag, and no ``javascript:`` URL in an ``href``, ``src``,
``action`` or htmx attribute. ``&lt;script&gt;`` is what the page should show.

Fields that no user ever writes (hashes, keys, derived search text, codes the system makes) are listed in
SYSTEM_FIELDS with the reason; a payload there would test nothing a person can do.
"""

from __future__ import annotations

import re
from itertools import count
from typing import Any

import pytest
from django.apps import apps
from django.db import DatabaseError, models, transaction

from tests.security.conftest import call, make_client
from tests.security.routes import html_endpoints
from tests.security.world import KINDS, World

# A sweep over every page: engine-independent, so with PostgreSQL at hand it runs on PostgreSQL only.
pytestmark = [pytest.mark.django_db, pytest.mark.sweep]

# Written by the system, never by a person (or derived from fields that are tested themselves).
SYSTEM_FIELDS = {
    "accounts.User.password": "a password hash",
    "accounts.ApiToken.prefix": "the first characters of a generated key",
    "accounts.ApiToken.key_hash": "a hash",
    "accounts.SignInLock.key": "derived from the username and address",
    "access.AuditEvent.object_type": "a model name the code sets",
    "access.AuditEvent.rule": "a rule name the policy sets",
    "companies.Company.search_text": "derived from the names and requisites",
    "companies.Company.sort_name": "derived from the name",
    "activities.Notification.kind": "a code the services set",
    "activities.Notification.dedup_key": "a code the services set",
    "activities.Notification.url": "reverse()d by the services, never typed",
    "activities.CalendarFeed.token": "a generated secret",
    "inquiries.ImportBatch.checksum": "a hash",
    "inquiries.ImportBatch.encoding": "detected from the file",
    "inquiries.ImportBatch.delimiter": "detected from the file",
    "sales.Stage.code": "a slug the pipeline service makes",
    "sales.Deal.search_text": "derived from the title and client",
    "finance.BankStatement.sha256": "a hash",
    "finance.Invoice.number_key": "derived from the number",
    "finance.Payment.bank_key": "a key the bank import computes",
    "documents.DocumentVersion.sha256": "a hash",
    "documents.DocumentVersion.content_type": "detected from the content by the documents service",
}
# JSON fields that hold what people type (lists of phones and e-mails); other JSON is the system's.
TYPED_JSON = ("phones", "emails")

RAW = [
    re.compile(r"<script>alert\(\"(\w+)\"\)"),
    re.compile(r"<img src=x onerror=alert\(\"(\w+)\"\)>"),
    re.compile(r"<svg onload=alert\('(\w+)'\)>"),
    re.compile(r"<x(\w+)>"),
    re.compile(
        r"(?:href|src|action|formaction|hx-get|hx-post|data-url)\s*=\s*[\"']?\s*javascript:alert\(\"?(\w+)",
        re.IGNORECASE,
    ),
]
_tags = count(1)


def payload(field: models.Field[Any, Any], tag: str) -> str | None:
    """The payload for ``field``: as many vectors as its length allows, tagged."""
    limit = field.max_length or 10_000
    full = (
        f'<script>alert("{tag}")</script>"><img src=x onerror=alert("{tag}")>'
        f"'><svg onload=alert('{tag}')>{{{{7*7}}}}"
    )
    if isinstance(field, models.URLField):
        candidates = [f'javascript:alert("{tag}")']
    else:
        rotate = [
            f'<script>alert("{tag}")</script>',
            f'"><img src=x onerror=alert("{tag}")>',
            f"'><svg onload=alert('{tag}')>",
        ]
        candidates = [full, rotate[int(tag[1:], 36) % 3], f"<x{tag}>"]
    for candidate in candidates:
        if len(candidate) <= limit:
            return candidate
    return None


def text_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    found = []
    for field in model._meta.concrete_fields:
        label = f"{model._meta.label}.{field.name}"
        if label in SYSTEM_FIELDS or getattr(field, "choices", None):
            continue
        if isinstance(field, models.CharField | models.TextField) or (
            isinstance(field, models.JSONField) and field.name in TYPED_JSON
        ):
            found.append(field)
    return found


def kurator_models() -> list[type[models.Model]]:
    return [
        m
        for m in apps.get_models()
        if m.__module__.startswith("kurator.") and not m.__name__.startswith("Historical")
    ]


def plant_payloads() -> dict[str, str]:
    """Write a payload into every typed text field of every row; the tag → ``model.field#pk``."""
    planted: dict[str, str] = {}
    for model in kurator_models():
        fields = text_fields(model)
        if not fields:
            continue
        for row in model._default_manager.all():
            values: dict[str, Any] = {}
            for field in fields:
                tag = f"q{next(_tags):x}"
                value = payload(field, tag)
                if value is None:
                    continue
                planted[tag] = f"{model._meta.label}.{field.name}#{row.pk}"
                values[field.name] = [value] if isinstance(field, models.JSONField) else value
            if not values:
                continue
            try:
                with transaction.atomic():
                    model._default_manager.filter(pk=row.pk).update(**values)
            except DatabaseError:
                # An append-only table (the audit log's trigger refuses UPDATE): add a row with the payloads.
                for name, value in values.items():
                    setattr(row, name, value)
                row.pk = None
                row.save()
    return planted


def raw_payloads(body: str) -> list[str]:
    return sorted({match.group(1) for pattern in RAW for match in pattern.finditer(body)})


def render_everything(world: World, role: str) -> list[tuple[str, Any]]:
    """(url, answer) of every HTML page a GET reaches for ``role``, in every ownership kind, and of the
    list pages with a search."""
    client = make_client(world, role)
    seen: set[str] = set()
    answers = []
    for endpoint in html_endpoints():
        for kind in KINDS if endpoint.kwargs else ("colleague",):
            objects = world.objects(role, kind)
            if objects is None:
                continue
            url = endpoint.url(objects)
            urls = [url] if endpoint.kwargs else [url, f"{url}?q=alert&search=alert"]
            for target in urls:
                if target in seen:
                    continue
                seen.add(target)
                answers.append((target, call(client, "get", target)))
    return answers


@pytest.mark.parametrize("role", ["head", "manager"])
def test_every_typed_text_is_rendered_escaped_on_every_page(world, role):
    """R4, D12: payloads stored in every text field never come back as markup or a javascript: link, on
    any page (dossier tabs, lists, detail pages, search results, notifications, the audit log)."""
    planted = plant_payloads()
    assert len(planted) > 200, f"only {len(planted)} payloads planted: did the world lose its records?"
    problems: list[str] = []
    pages = 0
    shown: set[str] = set()
    for url, answer in render_everything(world, role):
        if answer.status >= 500:
            problems.append(f"GET {url}: server error {answer.status} {answer.error}")
            continue
        if "text/html" not in answer.headers.get("Content-Type", ""):
            continue
        pages += 1
        shown.update(tag for tag in planted if f"{tag}&quot;" in answer.body or f"{tag}&#x27;" in answer.body)
        for tag in raw_payloads(answer.body):
            problems.append(f"GET {url}: unescaped payload of {planted.get(tag, tag)}")
    assert pages > 50, f"only {pages} HTML pages rendered"
    # The payloads must have reached the pages (escaped), or the check proves nothing.
    assert len(shown) > 50, f"only {len(shown)} escaped payloads seen on the pages"
    print(f"{role}: {len(planted)} payloads, {pages} pages, {len(shown)} seen escaped")
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_detector_finds_raw_payloads():
    """The check above fails on a page that prints a payload raw, and passes on the escaped one."""
    assert raw_payloads('<p><script>alert("q1")</script></p>') == ["q1"]
    assert raw_payloads('<a href="javascript:alert("q2")">') == ["q2"]
    assert raw_payloads("<td><xq3></td>") == ["q3"]
    assert raw_payloads('<p>&lt;script&gt;alert(&quot;q1&quot;)&lt;/script&gt;</p><a href="/x">') == []
