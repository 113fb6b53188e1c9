"""The document pages across roles (D12, R4, R3): the dossier tab (audited; a lock notice with 403 and no name
or count for those without clearance), uploads, the document page with its versions, downloads with safe
headers, the trash page, the cards on contract, deal and conflict pages, and constant queries."""

from __future__ import annotations

from html import unescape
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from kurator.access.models import AuditEvent
from kurator.documents import services
from kurator.documents.models import Document
from kurator.documents.tests.factories import PDF, REFUSED, SAMPLES, document_factory, grant, upload
from kurator.finance.services import conflicts as conflict_services
from kurator.finance.services import contracts as contract_services
from kurator.sales import services as sales_services

pytestmark = pytest.mark.django_db

SECRET = "Секретный договор №77.pdf"
CLEARED = [("manager", "curator"), ("head", "head_of_sales"), ("finance", "finance"), ("admin_user", "admin")]


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    return unescape(response.content.decode())


def tab_url(company) -> str:
    return reverse("documents:company_documents", args=[company.pk])


@pytest.fixture
def secret(manager, company) -> Document:
    return document_factory(actor=manager, company=company, file=upload(SECRET), section="contracts")


# The dossier tab --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("role", "rule"), CLEARED)
def test_the_cleared_see_the_tab_and_the_view_is_audited(request, secret, company, role, rule):
    """R4/D12: the curator, head of sales, finance and administrator see the documents; each view is logged
    with the rule."""
    user = request.getfixturevalue(role)
    response = login(user).get(tab_url(company))
    assert response.status_code == 200
    html = text_of(response)
    assert SECRET in html and 'data-testid="section-contracts"' in html
    assert reverse("documents:download", args=[secret.pk]) in html
    event = AuditEvent.objects.get(action="view_documents")
    assert (event.user, event.allowed, event.rule, event.company_id, event.object_type) == (
        user,
        True,
        rule,
        company.pk,
        "company",
    )
    assert event.ip == "127.0.0.1"


@pytest.mark.parametrize("role", ["other_manager", "senior_manager"])
def test_others_get_a_lock_notice_without_names_or_counts(request, secret, company, role):
    """R4: 403, the lock notice, no document name, no count; the refusal is logged as no_grant."""
    user = request.getfixturevalue(role)
    response = login(user).get(tab_url(company))
    assert response.status_code == 403
    html = text_of(response)
    assert 'data-testid="documents-locked"' in html
    assert "Секретный" not in html and SECRET not in html
    assert 'data-testid="section-' not in html and 'data-testid="document-' not in html
    assert reverse("documents:download", args=[secret.pk]) not in html
    # The tab still shows the rest of the dossier header (the history stays open: R3).
    assert company.short_name in html and 'data-testid="tab-documents"' in html
    event = AuditEvent.objects.get(action="view_documents")
    assert (event.user, event.allowed, event.rule) == (user, False, "no_grant")


def test_the_lock_notice_links_to_the_access_request_when_that_page_exists(other_manager, secret, company):
    html = text_of(login(other_manager).get(tab_url(company)))
    try:
        url = reverse("access:request")
    except NoReverseMatch:
        assert 'data-testid="request-access"' not in html
    else:
        assert f'href="{url}?company={company.pk}"' in html


def test_a_company_grant_opens_the_tab(other_manager, head, secret, company):
    given = grant(user=other_manager, company=company, granted_by=head)
    response = login(other_manager).get(tab_url(company))
    assert response.status_code == 200 and SECRET in text_of(response)
    assert AuditEvent.objects.get(action="view_documents").rule == f"grant:{given.pk}"


def test_a_grant_to_one_document_shows_that_document_alone(other_manager, head, manager, secret, company):
    """R4: the section stays locked; only the granted document is listed."""
    hidden = document_factory(actor=manager, company=company, file=upload("Другой договор.pdf"))
    grant(user=other_manager, company=company, granted_by=head, document=secret)
    response = login(other_manager).get(tab_url(company))
    html = text_of(response)
    assert response.status_code == 200
    assert 'data-testid="documents-locked"' in html and SECRET in html
    assert "Другой договор" not in html and reverse("documents:download", args=[hidden.pk]) not in html


def test_an_expired_grant_opens_nothing(other_manager, head, secret, company):
    grant(user=other_manager, company=company, granted_by=head, days=-1)
    assert login(other_manager).get(tab_url(company)).status_code == 403


def test_trashed_documents_are_not_in_the_tab(manager, secret, company):
    services.document_trash(actor=manager, document=secret, reason="ошибка")
    assert SECRET not in text_of(login(manager).get(tab_url(company)))


def test_readers_with_clearance_but_no_upload_right_see_no_form(other_manager, head, secret, company):
    grant(user=other_manager, company=company, granted_by=head)
    html = text_of(login(other_manager).get(tab_url(company)))
    assert 'data-testid="upload-form"' not in html and 'data-testid="trash-' not in html


def test_the_tab_runs_the_same_number_of_queries_for_one_document_and_many(manager, company):
    """D12: the tab's queries do not grow with documents, versions or links."""
    client = login(manager)
    contract = contract_services.contract_create(actor=manager, company=company, number="Д-1")
    document_factory(actor=manager, company=company, contract=contract)
    client.get(tab_url(company))
    with CaptureQueriesContext(connection) as one:
        assert client.get(tab_url(company)).status_code == 200
    deal = sales_services.deal_create(actor=manager, company=company)
    for n in range(8):
        document = document_factory(
            actor=manager, company=company, file=upload(f"Документ {n}.pdf"), section="other", deal=deal
        )
        services.document_add_version(actor=manager, document=document, file=upload())
    with CaptureQueriesContext(connection) as many:
        html = text_of(client.get(tab_url(company)))
    assert "Документ 7.pdf" in html
    assert len(many.captured_queries) == len(one.captured_queries)


# Uploading from the page ------------------------------------------------------------------------------------


def test_the_curator_uploads_from_the_tab(manager, company):
    contract = contract_services.contract_create(actor=manager, company=company, number="Д-5")
    response = login(manager).post(
        reverse("documents:company_upload", args=[company.pk]),
        {
            "section": "contracts",
            "file": upload("Договор №5.pdf"),
            "contract": contract.pk,
            "comment": "скан",
        },
    )
    assert response.status_code == 302 and response["Location"] == tab_url(company)
    document = Document.objects.get()
    assert (document.name, document.contract_id, document.section) == (
        "Договор №5.pdf",
        contract.pk,
        "contracts",
    )
    assert AuditEvent.objects.filter(action="upload", allowed=True).count() == 1


def test_a_refused_upload_shows_the_error_on_the_file_field_and_writes_nothing(manager, company):
    response = login(manager).post(
        reverse("documents:company_upload", args=[company.pk]),
        {"section": "contracts", "file": upload("Договор.pdf", REFUSED["exe renamed pdf"][1])},
    )
    assert response.status_code == 400
    html = text_of(response)
    assert (
        "checked by the file&#x27;s content" in response.content.decode()
        or "checked by the file's content" in html
    )
    assert 'id="id_file_errors"' in html or "is-invalid" in html
    assert not Document.objects.exists()


def test_a_colleague_may_not_upload(other_manager, company):
    response = login(other_manager).post(
        reverse("documents:company_upload", args=[company.pk]), {"section": "other", "file": upload()}
    )
    assert response.status_code == 403 and not Document.objects.exists()


def test_uploading_from_a_card_returns_to_the_page(manager, company):
    contract = contract_services.contract_create(actor=manager, company=company, number="Д-6")
    page = reverse("finance:contract_detail", args=[contract.pk])
    client = login(manager)
    html = text_of(client.get(page))
    assert 'data-testid="card-upload-form"' in html and 'value="contracts" selected' in html
    response = client.post(
        reverse("documents:company_upload", args=[company.pk]),
        {"section": "contracts", "file": upload("Скан.pdf"), "contract": contract.pk, "next": page},
    )
    assert response.status_code == 302 and response["Location"] == page
    assert Document.objects.get().contract_id == contract.pk
    bad = client.post(
        reverse("documents:company_upload", args=[company.pk]),
        {
            "section": "contracts",
            "file": upload("x.svg", REFUSED["svg"][1]),
            "contract": contract.pk,
            "next": page,
        },
        follow=True,
    )
    assert "File:" in text_of(bad) and Document.objects.count() == 1


def test_an_outside_next_is_ignored(manager, company):
    response = login(manager).post(
        reverse("documents:company_upload", args=[company.pk]),
        {"section": "other", "file": upload(), "next": "https://evil.example/"},
    )
    assert response["Location"] == tab_url(company)


# The document page and downloads ----------------------------------------------------------------------------


def test_the_document_page_lists_versions_with_downloads(manager, head, secret):
    services.document_add_version(
        actor=head,
        document=secret,
        file=upload("Договор v2.docx", SAMPLES["docx"][1]),
        comment="правки юриста",
    )
    response = login(manager).get(reverse("documents:detail", args=[secret.pk]))
    html = text_of(response)
    assert response.status_code == 200
    assert 'data-testid="version-1"' in html and 'data-testid="version-2"' in html
    assert "правки юриста" in html and secret.versions.get(number=1).sha256[:12] in html
    assert reverse("documents:download_version", args=[secret.pk, 1]) in html
    assert 'data-testid="version-form"' in html and 'data-testid="trash-form"' in html
    assert AuditEvent.objects.filter(action="view_documents", object_type="document", allowed=True).exists()


def test_the_document_page_is_locked_for_others(other_manager, secret):
    response = login(other_manager).get(reverse("documents:detail", args=[secret.pk]))
    assert response.status_code == 403
    assert "Секретный" not in text_of(response)
    assert AuditEvent.objects.get(action="view_documents").rule == "no_grant"


def test_an_unknown_document_is_404(manager):
    assert login(manager).get(reverse("documents:detail", args=[987654])).status_code == 404
    assert login(manager).get(reverse("documents:download", args=[987654])).status_code == 404


def test_a_download_has_safe_headers_and_the_cyrillic_name(manager, secret):
    """D12/R4: an attachment with the detected type, nosniff, no caching; RFC 5987 UTF-8 name."""
    response = login(manager).get(reverse("documents:download", args=[secret.pk]))
    assert response.status_code == 200
    assert response.getvalue() == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; ")
    assert f"filename*=UTF-8''{quote(SECRET, safe='')}" in disposition
    assert f'filename="document-{secret.pk}-v1.pdf"' in disposition
    event = AuditEvent.objects.get(action="download")
    assert event.allowed and event.rule == "curator" and event.detail == "v1"


def test_an_ascii_name_is_given_as_is(manager, company):
    document = document_factory(actor=manager, company=company, file=upload('Contract "12".pdf'))
    response = login(manager).get(reverse("documents:download", args=[document.pk]))
    assert 'filename="Contract _12_.pdf"' in response["Content-Disposition"]


def test_a_refused_download_is_403_and_logged(other_manager, secret):
    response = login(other_manager).get(reverse("documents:download", args=[secret.pk]))
    assert response.status_code == 403 and 'data-testid="document-locked"' in text_of(response)
    event = AuditEvent.objects.get(action="download")
    assert not event.allowed and event.rule == "no_grant"


def test_a_document_grant_opens_its_download(other_manager, head, secret):
    given = grant(user=other_manager, company=secret.company, granted_by=head, document=secret)
    response = login(other_manager).get(reverse("documents:download", args=[secret.pk]))
    assert response.status_code == 200
    assert AuditEvent.objects.get(action="download").rule == f"grant:{given.pk}"


def test_a_tampered_file_is_not_served(manager, secret, settings):
    """D12: the checksum mismatch is refused with a clear page (409) and logged."""
    path = Path(settings.MEDIA_ROOT) / secret.versions.get().file.name
    path.write_bytes(b"%PDF-1.4 tampered")
    response = login(manager).get(reverse("documents:download", args=[secret.pk]))
    assert response.status_code == 409
    assert "does not match its checksum" in text_of(response)
    event = AuditEvent.objects.get(action="download")
    assert not event.allowed and event.detail == "checksum mismatch"


def test_media_is_not_served_by_url(manager, secret):
    """R4: the stored file has no public URL."""
    name = secret.versions.get().file.name
    assert login(manager).get(f"/media/{name}").status_code == 404


def test_a_new_version_from_the_page(manager, secret):
    response = login(manager).post(
        reverse("documents:add_version", args=[secret.pk]), {"file": upload("v2.pdf"), "comment": "новая"}
    )
    assert response.status_code == 302
    secret.refresh_from_db()
    assert secret.version == 2


def test_a_refused_version_from_the_page_is_400(manager, secret):
    response = login(manager).post(
        reverse("documents:add_version", args=[secret.pk]), {"file": upload("x.html", REFUSED["html"][1])}
    )
    assert response.status_code == 400
    secret.refresh_from_db()
    assert secret.version == 1


def test_a_colleague_may_not_add_a_version_or_trash(other_manager, head, secret):
    grant(user=other_manager, company=secret.company, granted_by=head)
    client = login(other_manager)
    assert (
        client.post(reverse("documents:add_version", args=[secret.pk]), {"file": upload()}).status_code == 403
    )
    assert (
        client.post(reverse("documents:trash_document", args=[secret.pk]), {"reason": "x"}).status_code == 403
    )
    secret.refresh_from_db()
    assert secret.version == 1 and secret.trashed_at is None


# Trash, restore, purge --------------------------------------------------------------------------------------


def test_trash_from_the_tab_and_restore_from_the_trash_page(manager, head, secret, company):
    client = login(manager)
    assert (
        client.post(reverse("documents:trash_document", args=[secret.pk]), {"reason": ""}).status_code == 400
    )
    response = client.post(
        reverse("documents:trash_document", args=[secret.pk]),
        {"reason": "не тот файл", "next": tab_url(company)},
    )
    assert response.status_code == 302 and response["Location"] == tab_url(company)
    assert client.get(reverse("documents:trash")).status_code == 403
    head_client = login(head)
    html = text_of(head_client.get(reverse("documents:trash")))
    assert SECRET in html and "не тот файл" in html and f'data-testid="restore-{secret.pk}"' in html
    assert f'data-testid="purge-{secret.pk}"' not in html and "not-purgeable" not in html
    assert head_client.post(reverse("documents:restore", args=[secret.pk])).status_code == 302
    secret.refresh_from_db()
    assert secret.trashed_at is None


def test_the_administrator_sees_purge_only_past_retention(manager, admin_user, secret):
    services.document_trash(actor=manager, document=secret, reason="дубль")
    client = login(admin_user)
    html = text_of(client.get(reverse("documents:trash")))
    assert (
        f'data-testid="not-purgeable-{secret.pk}"' in html and f'data-testid="purge-{secret.pk}"' not in html
    )
    assert client.post(reverse("documents:purge", args=[secret.pk])).status_code == 302
    assert Document.objects.filter(pk=secret.pk).exists()
    from datetime import timedelta

    from django.utils import timezone

    Document.objects.filter(pk=secret.pk).update(trashed_at=timezone.now() - timedelta(days=400))
    html = text_of(client.get(reverse("documents:trash")))
    assert f'data-testid="purge-{secret.pk}"' in html
    response = client.post(reverse("documents:purge", args=[secret.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("documents:trash")
    assert not Document.objects.filter(pk=secret.pk).exists()


def test_the_trash_page_runs_constant_queries(manager, head, company):
    client = login(head)
    first = document_factory(actor=manager, company=company)
    services.document_trash(actor=manager, document=first, reason="x")
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("documents:trash"))
    for n in range(6):
        doc = document_factory(actor=manager, company=company, file=upload(f"Д{n}.pdf"))
        services.document_trash(actor=manager, document=doc, reason=f"причина {n}")
    with CaptureQueriesContext(connection) as many:
        html = text_of(client.get(reverse("documents:trash")))
    assert "причина 5" in html
    assert len(many.captured_queries) == len(one.captured_queries)


# Cards on the contract, deal and conflict pages -------------------------------------------------------------


@pytest.fixture
def linked(manager, company):
    contract = contract_services.contract_create(actor=manager, company=company, number="Д-9")
    deal = sales_services.deal_create(actor=manager, company=company)
    conflict = conflict_services.conflict_create(
        actor=manager, company=company, occurred_on="2026-01-10", title="Претензия", description="Брак"
    )
    document_factory(actor=manager, company=company, contract=contract, file=upload("Скан договора.pdf"))
    document_factory(
        actor=manager, company=company, deal=deal, file=upload("КП по сделке.pdf"), section="other"
    )
    document_factory(
        actor=manager,
        company=company,
        conflict=conflict,
        file=upload("Претензия клиента.pdf"),
        section="correspondence",
    )
    return {
        "contract": (
            reverse("finance:contract_detail", args=[contract.pk]),
            "Скан договора.pdf",
            "contracts",
        ),
        "deal": (reverse("sales:detail", args=[deal.pk]), "КП по сделке.pdf", "other"),
        "conflict": (
            reverse("finance:conflict_detail", args=[conflict.pk]),
            "Претензия клиента.pdf",
            "correspondence",
        ),
    }


@pytest.mark.parametrize("kind", ["contract", "deal", "conflict"])
def test_the_card_lists_the_documents_of_the_page(manager, linked, kind):
    url, name, section = linked[kind]
    html = text_of(login(manager).get(url))
    assert 'data-testid="documents-card"' in html and name in html
    others = {n for k, (_u, n, _s) in linked.items() if k != kind}
    assert not any(other in html for other in others)
    assert f'value="{section}" selected' in html
    event = AuditEvent.objects.filter(action="view_documents").latest("pk")
    assert event.allowed and event.object_type == kind and event.rule == "curator"


@pytest.mark.parametrize("kind", ["contract", "deal", "conflict"])
def test_the_card_is_locked_for_others(other_manager, linked, kind):
    """R4: the page itself is open (R3); the card shows a lock line and no names."""
    url, name, _section = linked[kind]
    response = login(other_manager).get(url)
    html = text_of(response)
    assert response.status_code == 200
    assert 'data-testid="documents-card-locked"' in html and name not in html
    assert 'data-testid="card-upload-form"' not in html


@pytest.mark.parametrize("kind", ["contract", "deal", "conflict"])
def test_the_pages_with_a_card_run_constant_queries(manager, company, linked, kind):
    url, _name, _section = linked[kind]
    client = login(manager)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    target = {"contract": "contract_id", "deal": "deal_id", "conflict": "conflict_id"}[kind]
    existing = Document.objects.exclude(**{f"{target}__isnull": True}).get()
    for n in range(5):
        document_factory(
            actor=manager,
            company=company,
            file=upload(f"Ещё {n}.pdf"),
            **{kind: getattr(existing, target)},
        )
    with CaptureQueriesContext(connection) as many:
        html = text_of(client.get(url))
    assert "Ещё 4.pdf" in html
    assert len(many.captured_queries) == len(one.captured_queries)
