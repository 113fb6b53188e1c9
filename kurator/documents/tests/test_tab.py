"""The Documents tab keeps a fixed size (D12): each section shows its newest documents with «Show all N», a
section opens in full and paged, the latest version of each document is read by document id, moving to the
trash is on the document's page; the lock notices say a request is already waiting instead of offering
another (R4)."""

from __future__ import annotations

from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime

from kurator.access.models import AccessRequest, AccessRequestStatus
from kurator.documents import selectors, services, views
from kurator.documents.models import Document
from kurator.documents.tests.factories import SAMPLES, document_factory, upload
from kurator.finance.services import contracts as contract_services

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(response) -> str:
    return unescape(response.content.decode())


def tab_url(company, query: str = "") -> str:
    return reverse("documents:company_documents", args=[company.pk]) + query


def many_documents(actor, company, n: int, section: str = "other") -> list[Document]:
    return [
        document_factory(actor=actor, company=company, section=section, file=upload(f"Письмо {i:02}.pdf"))
        for i in range(n)
    ]


def pending(requester, company, document=None) -> AccessRequest:
    return AccessRequest.objects.create(
        requester=requester,
        company=company,
        document=document,
        reason="Готовлю сделку",
        status=AccessRequestStatus.PENDING,
    )


# The latest version -----------------------------------------------------------------------------------------


def test_the_list_takes_each_documents_latest_version(manager, company):
    """D12: size, checksum and uploader are those of the latest version, read for the whole list at once."""
    first = document_factory(actor=manager, company=company)
    services.document_add_version(actor=manager, document=first, file=upload("v2.pdf"))
    services.document_add_version(actor=manager, document=first, file=upload("v3.docx", SAMPLES["docx"][1]))
    second = document_factory(actor=manager, company=company, file=upload("Один.pdf"))
    with CaptureQueriesContext(connection) as queries:
        listed = {d.pk: d for d in selectors.document_list(actor=manager, filters={"company": company.pk})}
        latest = {pk: selectors.latest_version(d) for pk, d in listed.items()}
        assert latest[first.pk].uploaded_by == manager  # type: ignore[union-attr]
    assert (latest[first.pk].number, latest[first.pk].size) == (3, len(SAMPLES["docx"][1]))  # type: ignore[union-attr]
    assert latest[second.pk].number == 1  # type: ignore[union-attr]
    assert len(queries.captured_queries) == 2  # the documents, then their versions


def test_the_versions_are_read_by_document_id_without_the_documents_table(manager, company):
    """The prefetch of the versions does not join the documents (that made PostgreSQL read them all)."""
    document_factory(actor=manager, company=company)
    with CaptureQueriesContext(connection) as queries:
        list(selectors.document_list(actor=manager, filters={"company": company.pk}))
    versions_sql = queries.captured_queries[-1]["sql"]
    assert 'FROM "documents_documentversion"' in versions_sql
    assert 'JOIN "documents_document"' not in versions_sql


# The tab's fixed size ---------------------------------------------------------------------------------------


def test_each_section_shows_its_newest_with_show_all(manager, company, monkeypatch):
    """D12: a section shows its SECTION_CAP newest documents; its badge counts them all; «Show all N»."""
    monkeypatch.setattr(selectors, "SECTION_CAP", 3)
    documents = many_documents(manager, company, 5)
    lone = document_factory(actor=manager, company=company, section="requisites", file=upload("Карточка.pdf"))
    html = text_of(login(manager).get(tab_url(company)))
    for newest in documents[-3:]:
        assert f'data-testid="document-{newest.pk}"' in html
    for older in documents[:2]:
        assert f'data-testid="document-{older.pk}"' not in html
    assert f'data-testid="document-{lone.pk}"' in html
    assert 'data-testid="show-all-other"' in html and "Show all 5" in html
    assert 'data-testid="show-all-requisites"' not in html
    assert f'href="{tab_url(company, "?section=other")}"' in html


def test_a_section_in_full_is_paged(manager, company, monkeypatch):
    """«Show all»: that section alone, newest first, a page at a time, with the way back to all sections."""
    monkeypatch.setattr(views, "SECTION_PER_PAGE", 4)
    documents = many_documents(manager, company, 6)
    other_section = document_factory(actor=manager, company=company, section="contracts")
    client = login(manager)
    html = text_of(client.get(tab_url(company, "?section=other")))
    assert 'data-testid="section-other"' in html and 'data-testid="section-contracts"' not in html
    assert f'data-testid="document-{other_section.pk}"' not in html
    assert [f'data-testid="document-{d.pk}"' in html for d in reversed(documents)] == [True] * 4 + [False] * 2
    assert 'data-testid="all-sections"' in html and "section=other&amp;page=2" in response_raw(
        client, tab_url(company, "?section=other")
    )
    html = text_of(client.get(tab_url(company, "?section=other&page=2")))
    assert all(f'data-testid="document-{d.pk}"' in html for d in documents[:2])


def response_raw(client: Client, url: str) -> str:
    return client.get(url).content.decode()


def test_an_unknown_section_shows_the_whole_tab(manager, company):
    document = document_factory(actor=manager, company=company)
    response = login(manager).get(tab_url(company, "?section=nonsense%00&page=x"))
    assert response.status_code == 200
    html = text_of(response)
    assert f'data-testid="document-{document.pk}"' in html and 'data-testid="section-requisites"' in html


def test_the_tab_and_a_section_run_constant_queries_past_the_cap(manager, company, monkeypatch):
    """D12: the same number of queries for one document and for more than a section shows."""
    monkeypatch.setattr(selectors, "SECTION_CAP", 3)
    monkeypatch.setattr(views, "SECTION_PER_PAGE", 3)
    contract = contract_services.contract_create(actor=manager, company=company, number="Д-1")
    document_factory(actor=manager, company=company, section="other", contract=contract)
    client = login(manager)
    client.get(tab_url(company))
    counts = {}
    for query in ("", "?section=other"):
        with CaptureQueriesContext(connection) as one:
            assert client.get(tab_url(company, query)).status_code == 200
        counts[query] = len(one.captured_queries)
    for document in many_documents(manager, company, 7):
        services.document_add_version(actor=manager, document=document, file=upload())
    for query in ("", "?section=other", "?section=other&page=2"):
        with CaptureQueriesContext(connection) as many:
            assert client.get(tab_url(company, query)).status_code == 200
        assert len(many.captured_queries) == counts[query.split("&")[0]], query


def test_the_trash_is_on_the_documents_page_not_in_each_row(manager, company):
    """Each row links to its document's page, where «Move to the trash» asks for the reason."""
    document = document_factory(actor=manager, company=company)
    html = text_of(login(manager).get(tab_url(company)))
    assert f'data-testid="trash-{document.pk}"' not in html and 'name="reason"' not in html
    link = reverse("documents:detail", args=[document.pk]) + "#trash"
    assert f'data-testid="to-trash-{document.pk}"' in html and f'href="{link}"' in html
    page = text_of(login(manager).get(reverse("documents:detail", args=[document.pk])))
    assert 'id="trash"' in page and 'data-testid="trash-form"' in page


# Lock notices with a request waiting ------------------------------------------------------------------------


def test_the_lock_notice_offers_a_request(other_manager, manager, company):
    document_factory(actor=manager, company=company)
    response = login(other_manager).get(tab_url(company))
    html = text_of(response)
    assert response.status_code == 403
    assert 'data-testid="request-access"' in html and 'data-testid="access-request-pending"' not in html


def test_the_lock_notice_says_a_request_is_waiting(other_manager, manager, company):
    """R4: with the reader's request for the client waiting, no second «Request access»."""
    document_factory(actor=manager, company=company)
    waiting = pending(other_manager, company)
    html = text_of(login(other_manager).get(tab_url(company)))
    assert 'data-testid="access-request-pending"' in html and 'data-testid="request-access"' not in html
    assert date_format(localtime(waiting.created_at), "SHORT_DATE_FORMAT") in html
    assert reverse("access:my_requests") in html


def test_someone_elses_or_a_decided_request_still_offers_one(other_manager, senior_manager, manager, company):
    document_factory(actor=manager, company=company)
    pending(senior_manager, company)
    AccessRequest.objects.create(
        requester=other_manager, company=company, reason="x", status=AccessRequestStatus.REFUSED
    )
    html = text_of(login(other_manager).get(tab_url(company)))
    assert 'data-testid="request-access"' in html and 'data-testid="access-request-pending"' not in html


def test_the_locked_document_page_says_a_request_is_waiting(other_manager, manager, company):
    """R4: a request for the document, or for the client's whole section, is waiting: said, not offered."""
    document = document_factory(actor=manager, company=company)
    client = login(other_manager)
    url = reverse("documents:detail", args=[document.pk])
    html = text_of(client.get(url))
    assert 'data-testid="request-access"' in html and f"document={document.pk}" in html
    waiting = pending(other_manager, company, document)
    response = client.get(url)
    html = text_of(response)
    assert response.status_code == 403 and document.name not in html
    assert 'data-testid="access-request-pending"' in html and 'data-testid="request-access"' not in html
    waiting.delete()
    pending(other_manager, company)
    html = text_of(client.get(url))
    assert 'data-testid="access-request-pending"' in html and 'data-testid="request-access"' not in html


def test_the_card_says_a_request_is_waiting(other_manager, manager, company):
    contract = contract_services.contract_create(actor=manager, company=company, number="Д-3")
    document_factory(actor=manager, company=company, contract=contract)
    client = login(other_manager)
    url = reverse("finance:contract_detail", args=[contract.pk])
    html = text_of(client.get(url))
    assert 'data-testid="card-request-access"' in html
    pending(other_manager, company)
    html = text_of(client.get(url))
    assert 'data-testid="card-request-pending"' in html and 'data-testid="card-request-access"' not in html
