"""Records for the restricted-access tests (R4, D12). Requests and grants go through the services; a document
is written directly (its file does not matter here)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from kurator.access import services
from kurator.access.models import AccessGrant, AccessRequest
from kurator.accounts.models import User
from kurator.companies.models import Company
from kurator.documents.models import Document, DocumentSection


def document(
    company: Company, *, name: str = "Договор №12 от 01.02.2026.pdf", by: User | None = None
) -> Document:
    return Document.objects.create(
        company=company,
        section=DocumentSection.CONTRACTS,
        name=name,
        created_by=by or company.curator,
    )


def ask(
    actor: User, company: Company, *, doc: Document | None = None, reason: str = "Готовлю КП"
) -> AccessRequest:
    return services.access_request_create(actor=actor, company=company, document=doc, reason=reason)


def grant(
    head: User, user: User, company: Company, *, doc: Document | None = None, days: int = 7, **kwargs: Any
) -> AccessGrant:
    return services.access_grant_create(
        actor=head,
        user=user,
        company=company,
        document=doc,
        expires_on=timezone.localdate() + timedelta(days=days),
        reason=kwargs.pop("reason", "Замещает куратора"),
        **kwargs,
    )
