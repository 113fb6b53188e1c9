"""The documents API (D12, R4): fields, filters, multipart uploads, downloads, versions and DELETE to the
trash; every endpoint across roles — the curator (own client), a colleague, a colleague with a grant, the
head of sales, finance, the administrator, anonymous. What the caller may not open is 404 (and a download
attempt is logged as refused); a refused write writes nothing."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from kurator.access.models import AuditEvent
from kurator.documents import services
from kurator.documents.models import Document, DocumentVersion
from kurator.documents.tests.factories import PDF, REFUSED, SAMPLES, document_factory, grant, upload
from kurator.finance.services import contracts as contract_services
from kurator.sales import services as sales_services

pytestmark = pytest.mark.django_db

ROLES = ["curator", "colleague", "granted", "head", "finance", "admin", "anonymous"]
READERS = {"curator", "granted", "head", "finance", "admin"}
WRITERS = {"curator", "head", "finance", "admin"}
RULES = {"curator": "curator", "head": "head_of_sales", "finance": "finance", "admin": "admin"}
FIELDS = {
    "id",
    "company",
    "section",
    "name",
    "version",
    "sha256",
    "size",
    "uploaded_by",
    "uploaded_at",
    "contract",
    "deal",
    "conflict",
}


def api(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def world(manager, other_manager, senior_manager, head, finance, admin_user, company):
    document = document_factory(actor=manager, company=company, file=upload("Договор №1.pdf"))
    given = grant(user=senior_manager, company=company, granted_by=head)
    return {
        "users": {
            "curator": manager,
            "colleague": other_manager,
            "granted": senior_manager,
            "head": head,
            "finance": finance,
            "admin": admin_user,
            "anonymous": None,
        },
        "company": company,
        "document": document,
        "grant": given,
    }


def rows() -> tuple:
    return (
        list(Document.objects.order_by("pk").values()),
        list(DocumentVersion.objects.order_by("pk").values()),
    )


# Shapes -----------------------------------------------------------------------------------------------------


def test_the_fields_are_the_contract(manager, company):
    """The issue's field names; sha256/size/uploaded_* are the latest version's."""
    contract = contract_services.contract_create(actor=manager, company=company, number="Д-1")
    document = document_factory(actor=manager, company=company, contract=contract)
    services.document_add_version(
        actor=manager, document=document, file=upload("v2.docx", SAMPLES["docx"][1])
    )
    data = api(manager).get(f"/api/v1/documents/{document.pk}/").json()
    assert set(data) == FIELDS
    assert data["id"] == document.pk and data["company"] == company.pk and data["section"] == "contracts"
    assert data["name"] == "Договор №12.pdf" and data["version"] == 2
    assert data["sha256"] == hashlib.sha256(SAMPLES["docx"][1]).hexdigest()
    assert data["size"] == len(SAMPLES["docx"][1]) and data["uploaded_by"] == manager.pk
    assert data["uploaded_at"] and data["contract"] == contract.pk and data["deal"] is None


def test_upload_through_the_api(manager, company):
    """D12: multipart upload; the answer is the document."""
    deal = sales_services.deal_create(actor=manager, company=company)
    response = api(manager).post(
        "/api/v1/documents/",
        {"company": company.pk, "section": "correspondence", "file": upload("Письмо.pdf"), "deal": deal.pk},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) == FIELDS and data["name"] == "Письмо.pdf" and data["deal"] == deal.pk
    assert data["sha256"] == hashlib.sha256(PDF).hexdigest() and data["version"] == 1


def test_a_refused_upload_names_the_fields(manager, company):
    before = rows()
    response = api(manager).post(
        "/api/v1/documents/",
        {"company": company.pk, "section": "secret", "file": upload("x.pdf", REFUSED["exe renamed pdf"][1])},
        format="multipart",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"section"}  # the serializer refuses the section first
    response = api(manager).post(
        "/api/v1/documents/",
        {"company": company.pk, "section": "other", "file": upload("x.pdf", REFUSED["exe renamed pdf"][1])},
        format="multipart",
    )
    assert response.status_code == 400 and "checked by the file's content" in response.json()["file"][0]
    response = api(manager).post(
        "/api/v1/documents/", {"company": 987654, "section": "other", "file": upload()}, format="multipart"
    )
    assert response.status_code == 400 and "company" in response.json()
    assert rows() == before


def test_filters_and_constant_queries(manager, company):
    """?company= ?section= ?contract= ?deal= ?conflict=; a page of one costs what a page of ten does."""
    from tests.factories import company_factory

    other = company_factory(actor=manager)
    contract = contract_services.contract_create(actor=manager, company=company, number="Д-2")
    first = document_factory(actor=manager, company=company, contract=contract)
    client = api(manager)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/api/v1/documents/").json()["count"] == 1
    for n in range(9):
        doc = document_factory(actor=manager, company=other, section="other", file=upload(f"{n}.pdf"))
        services.document_add_version(actor=manager, document=doc, file=upload())
    with CaptureQueriesContext(connection) as many:
        assert client.get("/api/v1/documents/").json()["count"] == 10
    assert len(many.captured_queries) == len(one.captured_queries)
    ids = lambda query: [d["id"] for d in client.get(f"/api/v1/documents/?{query}").json()["results"]]  # noqa: E731
    assert ids(f"company={company.pk}") == [first.pk]
    assert ids(f"contract={contract.pk}") == [first.pk]
    assert len(ids("section=other")) == 9 and ids("section=contracts") == [first.pk]
    assert client.get("/api/v1/documents/?section=secret").status_code == 400


def test_trashed_documents_are_gone_from_the_api(manager, company):
    document = document_factory(actor=manager, company=company)
    services.document_trash(actor=manager, document=document, reason="x")
    client = api(manager)
    assert client.get("/api/v1/documents/").json()["count"] == 0
    assert client.get(f"/api/v1/documents/{document.pk}/").status_code == 404
    assert client.get(f"/api/v1/documents/{document.pk}/download/").status_code == 404


def test_versions_list_and_upload(manager, company):
    document = document_factory(actor=manager, company=company)
    client = api(manager)
    response = client.post(
        f"/api/v1/documents/{document.pk}/versions/",
        {"file": upload("Договор v2.docx", SAMPLES["docx"][1]), "comment": "правки"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert response.json()["number"] == 2 and response.json()["name"] == "Договор v2.docx"
    listed = client.get(f"/api/v1/documents/{document.pk}/versions/").json()
    assert [v["number"] for v in listed] == [2, 1]
    assert set(listed[0]) == {
        "number",
        "name",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
        "comment",
    }
    assert listed[1]["sha256"] == hashlib.sha256(PDF).hexdigest()
    bad = client.post(
        f"/api/v1/documents/{document.pk}/versions/",
        {"file": upload("x.svg", REFUSED["svg"][1])},
        format="multipart",
    )
    assert bad.status_code == 400 and "file" in bad.json()
    document.refresh_from_db()
    assert document.version == 2


def test_download_headers_and_bytes(manager, company):
    document = document_factory(actor=manager, company=company, file=upload("Договор «Ромашка».pdf"))
    response = api(manager).get(f"/api/v1/documents/{document.pk}/download/")
    assert response.status_code == 200
    assert response.getvalue() == PDF
    assert response["Content-Type"] == "application/pdf" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, no-store"
    assert "filename*=UTF-8''%D0%94%D0%BE%D0%B3%D0%BE%D0%B2%D0%BE%D1%80" in response["Content-Disposition"]


def test_a_tampered_file_is_409_through_the_api(manager, company, settings):
    document = document_factory(actor=manager, company=company)
    (Path(settings.MEDIA_ROOT) / document.versions.get().file.name).write_bytes(b"%PDF-1.4 other")
    response = api(manager).get(f"/api/v1/documents/{document.pk}/download/")
    assert response.status_code == 409 and "checksum" in response.json()["detail"]
    assert AuditEvent.objects.get(action="download").detail == "checksum mismatch"


def test_delete_moves_to_the_trash_with_the_reason(manager, company):
    document = document_factory(actor=manager, company=company)
    response = api(manager).delete(f"/api/v1/documents/{document.pk}/?reason=Дубликат")
    assert response.status_code == 204
    document.refresh_from_db()
    assert document.trashed_at is not None and document.trash_reason == "Дубликат"
    other = document_factory(actor=manager, company=company)
    assert api(manager).delete(f"/api/v1/documents/{other.pk}/").status_code == 204
    other.refresh_from_db()
    assert other.trash_reason == "Moved to the trash through the API"
    assert DocumentVersion.objects.count() == 2  # nothing deleted (D12)


# Authorization across roles ---------------------------------------------------------------------------------


def _status_for(role: str, ok: int, *, write: bool = False) -> int:
    if role == "anonymous":
        return 401
    if role not in READERS:
        return 404
    if write and role not in WRITERS:
        return 403
    return ok


@pytest.mark.parametrize("role", ROLES)
def test_list_across_roles(world, role):
    response = api(world["users"][role]).get("/api/v1/documents/")
    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    ids = [d["id"] for d in response.json()["results"]]
    assert ids == ([world["document"].pk] if role in READERS else [])


@pytest.mark.parametrize("role", ROLES)
def test_retrieve_across_roles(world, role):
    response = api(world["users"][role]).get(f"/api/v1/documents/{world['document'].pk}/")
    assert response.status_code == _status_for(role, 200)


@pytest.mark.parametrize("role", ROLES)
def test_create_across_roles(world, role):
    before = rows()
    response = api(world["users"][role]).post(
        "/api/v1/documents/",
        {"company": world["company"].pk, "section": "other", "file": upload("Новый.pdf")},
        format="multipart",
    )
    expected = 401 if role == "anonymous" else 201 if role in WRITERS else 403
    assert response.status_code == expected
    if expected != 201:
        assert rows() == before


@pytest.mark.parametrize("role", ROLES)
def test_download_across_roles_is_audited(world, role):
    """R4/D12: a download is logged with the rule or grant; a refused one as no_grant, answered 404."""
    user = world["users"][role]
    response = api(user).get(f"/api/v1/documents/{world['document'].pk}/download/")
    assert response.status_code == _status_for(role, 200)
    events = list(AuditEvent.objects.filter(action="download"))
    if role == "anonymous":
        assert events == []
        return
    assert len(events) == 1 and events[0].user == user
    expected_rule = f"grant:{world['grant'].pk}" if role == "granted" else RULES.get(role, "no_grant")
    assert events[0].rule == expected_rule and events[0].allowed == (role in READERS)


@pytest.mark.parametrize("role", ROLES)
def test_versions_list_across_roles(world, role):
    response = api(world["users"][role]).get(f"/api/v1/documents/{world['document'].pk}/versions/")
    assert response.status_code == _status_for(role, 200)


@pytest.mark.parametrize("role", ROLES)
def test_versions_upload_across_roles(world, role):
    before = rows()
    response = api(world["users"][role]).post(
        f"/api/v1/documents/{world['document'].pk}/versions/", {"file": upload()}, format="multipart"
    )
    expected = _status_for(role, 201, write=True)
    assert response.status_code == expected
    if expected != 201:
        assert rows() == before


@pytest.mark.parametrize("role", ROLES)
def test_delete_across_roles(world, role):
    before = rows()
    response = api(world["users"][role]).delete(f"/api/v1/documents/{world['document'].pk}/?reason=x")
    expected = _status_for(role, 204, write=True)
    assert response.status_code == expected
    if expected != 204:
        assert rows() == before


def test_a_grant_to_one_document_shows_that_document_alone(manager, other_manager, head, company):
    opened = document_factory(actor=manager, company=company, file=upload("Открытый.pdf"))
    hidden = document_factory(actor=manager, company=company, file=upload("Закрытый.pdf"))
    given = grant(user=other_manager, company=company, granted_by=head, document=opened)
    client = api(other_manager)
    assert [d["id"] for d in client.get("/api/v1/documents/").json()["results"]] == [opened.pk]
    assert client.get(f"/api/v1/documents/{hidden.pk}/").status_code == 404
    assert client.get(f"/api/v1/documents/{opened.pk}/download/").status_code == 200
    assert client.get(f"/api/v1/documents/{hidden.pk}/download/").status_code == 404
    rules = list(AuditEvent.objects.filter(action="download").order_by("pk").values_list("allowed", "rule"))
    assert rules == [(True, f"grant:{given.pk}"), (False, "no_grant")]


def test_an_unknown_id_is_404_without_an_audit_line(manager):
    assert api(manager).get("/api/v1/documents/987654/download/").status_code == 404
    assert api(manager).get("/api/v1/documents/abc/download/").status_code == 404
    assert not AuditEvent.objects.filter(action="download").exists()
