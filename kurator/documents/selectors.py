"""Reads of the dossier's documents (D12, R4). Every read starts from ``visible_documents``: the head of
sales, finance and the administrator see every client's documents, anyone else those of the clients they
curate and those a live grant opens. Each list runs a constant number of queries whatever its length: a
document's latest version (size, checksum, who uploaded it and when) comes in one prefetch for the whole
list."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import BooleanField, Case, F, Prefetch, QuerySet, Value, When
from django.http import Http404

from kurator.access.policy import can
from kurator.access.scoping import visible_documents
from kurator.documents.models import Document, DocumentSection, DocumentVersion
from kurator.documents.services import purge_cutoff, purgeable_from

__all__ = [
    "SectionGroup",
    "company_documents",
    "document_get",
    "document_list",
    "document_versions",
    "documents_by_section",
    "documents_of",
    "latest_version",
    "trash_list",
    "with_latest_version",
]


def with_latest_version(qs: QuerySet[Document]) -> QuerySet[Document]:
    """Each document's latest version in ``latest_versions`` (a list of one), with its uploader: one query
    for the whole list."""
    return qs.prefetch_related(
        Prefetch(
            "versions",
            queryset=DocumentVersion.objects.filter(number=F("document__version")).select_related(
                "uploaded_by"
            ),
            to_attr="latest_versions",
        )
    )


def latest_version(document: Document) -> DocumentVersion | None:
    """The latest version of a document read through ``with_latest_version`` (None if it is missing)."""
    versions = getattr(document, "latest_versions", None)
    if versions is None:
        return (
            DocumentVersion.objects.filter(document=document, number=document.version)
            .select_related("uploaded_by")
            .first()
        )
    return versions[0] if versions else None


def _listed(qs: QuerySet[Document]) -> QuerySet[Document]:
    return with_latest_version(
        qs.select_related("company", "contract", "deal", "conflict", "created_by", "trashed_by")
    )


def document_list(*, actor: Any, filters: dict[str, Any] | None = None) -> QuerySet[Document]:
    """The documents ``actor`` may see, not in the trash, newest first. Filters: ``company``, ``section``,
    ``contract``, ``deal``, ``conflict`` (ids)."""
    filters = filters or {}
    qs = visible_documents(actor).filter(trashed_at__isnull=True)
    for name in ("company", "contract", "deal", "conflict"):
        if filters.get(name):
            qs = qs.filter(**{f"{name}_id": getattr(filters[name], "pk", filters[name])})
    if filters.get("section"):
        qs = qs.filter(section=filters["section"])
    return _listed(qs).order_by("-updated_at", "-pk")


def company_documents(*, actor: Any, company: Any, section: str | None = None) -> list[Document]:
    """The documents of a client's dossier that ``actor`` may see, not in the trash, by section order then
    newest first."""
    filters: dict[str, Any] = {"company": company.pk}
    if section:
        filters["section"] = section
    return list(document_list(actor=actor, filters=filters))


@dataclass
class SectionGroup:
    code: str
    label: Any
    documents: list[Document] = field(default_factory=list)


def documents_by_section(documents: list[Document]) -> list[SectionGroup]:
    """The dossier tab's groups: every section in its fixed order, each with its documents (maybe none)."""
    groups = {code: SectionGroup(code, label) for code, label in DocumentSection.choices}
    for document in documents:
        groups[document.section].documents.append(document)
    return list(groups.values())


def documents_of(
    *, actor: Any, contract: Any = None, deal: Any = None, conflict: Any = None
) -> list[Document]:
    """The documents tied to a contract, a deal or a conflict that ``actor`` may see (not in the trash)."""
    filters = {"contract": contract, "deal": deal, "conflict": conflict}
    if not any(filters.values()):
        return []
    return list(document_list(actor=actor, filters=filters))


def document_get(*, actor: Any, document_id: Any) -> Document:
    """One document the actor may see (in the trash or not); 404 otherwise."""
    try:
        return _listed(visible_documents(actor)).get(pk=int(document_id))
    except (Document.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def document_versions(*, document: Document) -> list[DocumentVersion]:
    """Every version of a document, the latest first, with who uploaded it (one query)."""
    return list(
        DocumentVersion.objects.filter(document=document).select_related("uploaded_by").order_by("-number")
    )


def trash_list(*, actor: Any) -> list[Document]:
    """The trash (the head of sales; D12): documents moved there, the latest first, with who, when and why,
    ``purgeable`` — whether the retention period has passed (the administrator may purge those) — and
    ``purge_from``, when it passes."""
    if not can(actor, "documents.restore_document"):
        return []
    cutoff = purge_cutoff()
    qs = (
        visible_documents(actor)
        .filter(trashed_at__isnull=False)
        .annotate(
            purgeable=Case(
                When(trashed_at__lte=cutoff, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("-trashed_at", "-pk")
    )
    documents = list(_listed(qs))
    for document in documents:
        document.purge_from = purgeable_from(document)  # type: ignore[attr-defined]
    return documents
