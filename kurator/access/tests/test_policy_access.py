"""The policy of the confidential parts of the dossier (R4, D12) as one table: documents, access requests,
the audit log and user management, for every role and for a client that is the actor's own, a colleague's, or
a colleague's with a live, expired or revoked grant."""

from __future__ import annotations

import datetime
from typing import Any, cast

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from kurator.access.confidential import clearance
from kurator.access.models import AccessGrant
from kurator.access.policy import can
from kurator.access.scoping import visible_documents
from kurator.accounts.models import Role, User
from kurator.documents.models import Document, DocumentSection
from tests.factories import UserFactory, company_factory

COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("finance.view_solvency", "company"),
    ("documents.view_document", "document"),
    ("documents.add_document", "company"),
    ("documents.trash_document", "document"),
    ("documents.restore_document", None),
    ("documents.purge_document", None),
    ("access.request_access", None),
    ("access.decide_request", None),
    ("access.view_audit_log", None),
    ("accounts.manage_users", None),
)
T, F = True, False
OWN = (T, T, T, T, F, F, T, F, F, F)
COLLEAGUES = (F, F, F, F, F, F, T, F, F, F)
GRANTED = (T, T, F, F, F, F, T, F, F, F)
HEAD = (T, T, T, T, T, F, T, T, T, T)
# (who, role, whose client, grant, expected)
TABLE: list[tuple[str, Role | None, str, str, tuple[bool, ...]]] = [
    ("manager, own client", Role.MANAGER, "own", "", OWN),
    ("manager, colleague's client", Role.MANAGER, "colleague", "", COLLEAGUES),
    ("manager, granted section", Role.MANAGER, "colleague", "company", GRANTED),
    ("manager, granted document", Role.MANAGER, "colleague", "document", (F, T, F, F, F, F, T, F, F, F)),
    ("manager, grant to another document", Role.MANAGER, "colleague", "other document", COLLEAGUES),
    ("manager, expired grant", Role.MANAGER, "colleague", "expired", COLLEAGUES),
    ("manager, revoked grant", Role.MANAGER, "colleague", "revoked", COLLEAGUES),
    ("senior manager, own client", Role.SENIOR_MANAGER, "own", "", OWN),
    ("senior manager, colleague's client", Role.SENIOR_MANAGER, "colleague", "", COLLEAGUES),
    ("head of sales", Role.HEAD_OF_SALES, "colleague", "", HEAD),
    ("finance", Role.FINANCE, "colleague", "", (T, T, T, T, F, F, T, F, F, F)),
    ("admin", Role.ADMIN, "colleague", "", (T,) * 10),
    ("inactive head of sales", None, "colleague", "", (F,) * 10),
    ("anonymous", None, "anonymous", "", (F,) * 10),
]


def _user(**fields: Any) -> User:
    return cast(User, UserFactory(**fields))


def _grant(user: User, company: Any, document: Any, kind: str, head: User) -> None:
    today = timezone.localdate()
    if not kind:
        return
    target = {"company": None, "document": document, "expired": None, "revoked": None}.get(kind)
    if kind == "other document":
        target = Document.objects.create(
            company=company, section=DocumentSection.OTHER, name="other", created_by=head
        )
    AccessGrant.objects.create(
        user=user,
        company=company,
        document=target,
        granted_by=head,
        expires_on=today - datetime.timedelta(days=1) if kind == "expired" else today,
        revoked_at=timezone.now() if kind == "revoked" else None,
        revoked_by=head if kind == "revoked" else None,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "role", "whose", "grant", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_confidential_policy_table(who, role, whose, grant, expected):
    """R4/D12: the curator, the head of sales, finance and the administrator see a client's confidential
    section and documents; a colleague only through a live grant from the head of sales (a grant lasts to its
    last day inclusive, and a revoked one opens nothing); only the head of sales restores from the trash and
    decides requests; only the administrator purges."""
    head = _user(role=Role.HEAD_OF_SALES)
    curator = _user(role=Role.MANAGER)
    actor: Any
    if whose == "anonymous":
        actor = AnonymousUser()
    else:
        actor = _user(role=role or Role.HEAD_OF_SALES, is_active=role is not None)
    company = company_factory(actor=head, curator=actor if whose == "own" else curator)
    document = Document.objects.create(
        company=company, section=DocumentSection.CONTRACTS, name="Договор.pdf", created_by=head
    )
    if isinstance(actor, User):
        _grant(actor, company, document, grant, head)
    objects = {"company": company, "document": document}
    answers = {perm: can(actor, perm, objects[obj] if obj else None) for perm, obj in COLUMNS}
    assert answers == dict(zip([perm for perm, _ in COLUMNS], expected, strict=True))
    # The rule the audit log records agrees with the policy, and the lists agree with both.
    assert clearance(actor, document).allowed == expected[1]
    assert (document in visible_documents(actor)) == expected[1]


@pytest.mark.django_db
def test_clearance_names_the_rule_or_the_grant():
    """D12: the audit log says which rule or grant allowed a view."""
    head = _user(role=Role.HEAD_OF_SALES)
    curator = _user(role=Role.MANAGER)
    colleague = _user(role=Role.MANAGER)
    company = company_factory(actor=head, curator=curator)
    assert clearance(head, company).rule == "head_of_sales"
    assert clearance(curator, company).rule == "curator"
    assert clearance(_user(role=Role.FINANCE), company).rule == "finance"
    assert clearance(colleague, company).allowed is False
    assert clearance(colleague, company).rule == "no_grant"
    grant = AccessGrant.objects.create(
        user=colleague, company=company, granted_by=head, expires_on=timezone.localdate()
    )
    assert clearance(colleague, company).rule == f"grant:{grant.pk}"
