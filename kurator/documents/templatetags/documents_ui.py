"""Template helpers of the documents: the card on contract, deal and conflict pages, and the link to ask for
access (R4, D12)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import NoReverseMatch, reverse

from kurator.access.audit import audit_record
from kurator.access.confidential import clearance
from kurator.access.models import AuditAction
from kurator.access.policy import can
from kurator.access.selectors import pending_request_for
from kurator.documents import selectors
from kurator.documents.forms import ACCEPT
from kurator.documents.models import DocumentSection

register = template.Library()

# The section a document uploaded from a card goes to unless the uploader chooses another.
CARD_SECTIONS = {
    "contract": DocumentSection.CONTRACTS,
    "deal": DocumentSection.OTHER,
    "conflict": DocumentSection.CORRESPONDENCE,
}


@register.simple_tag
def access_request_url(company: Any, document: Any = None) -> str:
    """The page where a member asks the head of sales for access to ``company``'s confidential section (or to
    one document); "" while that page does not exist, so a lock notice never breaks."""
    try:
        url = reverse("access:request")
    except NoReverseMatch:
        return ""
    query = {"company": getattr(company, "pk", company)}
    if document not in (None, ""):
        query["document"] = getattr(document, "pk", document)
    return f"{url}?{urlencode(query)}"


@register.simple_tag(takes_context=True)
def documents_card(context: template.Context, target: Any) -> dict[str, Any]:
    """The documents tied to ``target`` (a contract, a deal or a conflict) for the card on its page.

    Someone without clearance to the client's documents gets ``locked`` and none of the names — except the
    documents a grant to one document opens to them. Showing names is a view of the confidential section and
    is audited (once per page, only when the card lists any). A fixed number of queries whatever the count."""
    request = context.get("request")
    user = getattr(request, "user", None)
    kind = target._meta.model_name
    company = target.company
    documents = selectors.documents_of(actor=user, **{kind: target})
    allowed = clearance(user, company)
    if documents:
        # Without the client's clearance only documents opened one by one are listed: name that grant.
        rule = allowed.rule if allowed.allowed else clearance(user, documents[0]).rule
        audit_record(
            action=AuditAction.VIEW_DOCUMENTS,
            allowed=True,
            rule=rule,
            user=user,
            obj=target,
            company=company,
            request=request,
            detail=f"{kind} card",
        )
    return {
        "kind": kind,
        "target": target,
        "company": company,
        "documents": documents,
        "locked": not allowed.allowed,
        # Without clearance: the reader's request still waiting, said instead of offering another.
        "pending_request": None if allowed.allowed else pending_request_for(actor=user, company=company),
        "may_add": can(user, "documents.add_document", company) and company.merged_into_id is None,
        "section": CARD_SECTIONS.get(kind, DocumentSection.OTHER),
        "sections": DocumentSection.choices,
        "next": request.get_full_path() if request is not None else "",
        "accept": ACCEPT,
    }


@register.filter
def latest(document: Any) -> Any:
    """A listed document's latest version (read by the list's prefetch)."""
    return selectors.latest_version(document)
