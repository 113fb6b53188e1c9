"""The demo's documents (D12): real PDFs uploaded through the services; one with two versions, one in the
trash; every one downloads and passes its checksum."""

from __future__ import annotations

import pytest

from kurator.companies.demo import load_demo_data
from kurator.documents import services
from kurator.documents.demo import minimal_pdf
from kurator.documents.models import Document, DocumentVersion

pytestmark = pytest.mark.django_db


def test_the_demo_has_documents_that_download(settings):
    result = load_demo_data(companies=40, seed=7)
    documents = list(Document.objects.select_related("company__curator"))
    assert documents and result.documents == len(documents)
    assert Document.objects.filter(contract__isnull=False, section="contracts").exists()
    assert Document.objects.filter(section="requisites").exists()
    assert Document.objects.filter(version=2).count() >= 1
    assert Document.objects.filter(trashed_at__isnull=False).count() >= 1
    for document in documents:
        for version in DocumentVersion.objects.filter(document=document):
            handle, _version = services.document_open(
                actor=document.company.curator, document=document, version=version.number, request=None
            )
            assert handle.read().startswith(b"%PDF-1.4")
            assert version.content_type == "application/pdf" and version.original_name.endswith(".pdf")


def test_the_minimal_pdf_is_well_formed():
    """The cross-reference table points at each object, and the trailer at the table."""
    data = minimal_pdf(["Договор поставки № 12", "ООО «Ромашка»"])
    assert data.startswith(b"%PDF-1.4\n") and data.rstrip().endswith(b"%%EOF")
    assert b"(Dogovor postavki No. 12) Tj" in data and b'(OOO "Romashka") Tj' in data
    startxref = int(data.rsplit(b"startxref\n", 1)[1].split(b"\n", 1)[0])
    assert data[startxref:].startswith(b"xref\n0 6\n")
    entries = data[startxref:].split(b"\n")[3:8]
    for number, entry in enumerate(entries, start=1):
        offset = int(entry[:10])
        assert data[offset:].startswith(f"{number} 0 obj".encode())
