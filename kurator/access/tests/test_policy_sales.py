"""The policy of the pipeline, the contact history and tasks (S3, R1, R2, R3, D3) as one table.

Objects are built unsaved: the predicates look at ids only, so the table needs no database rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from kurator.access.policy import can
from kurator.accounts.models import Role, User
from kurator.activities.models import Activity, Task
from kurator.companies.models import Company
from kurator.sales.models import Deal

CURATOR_ID, CO_OWNER_ID, ACTOR_ID, OTHER_ID = 1, 2, 3, 4

# Columns, in order, with the object each is asked about.
COLUMNS: tuple[tuple[str, str | None], ...] = (
    ("sales.view_deal", None),
    ("sales.add_deal", "company"),
    ("sales.change_deal", "deal"),
    ("sales.override_standard", None),
    ("sales.manage_pipelines", None),
    ("sales.view_funnel", None),
    ("activities.view_activity", None),
    ("activities.add_activity", "company"),
    ("activities.change_activity", "activity"),
    ("activities.view_task", None),
    ("activities.add_task", None),
    ("activities.change_task", "task"),
)
T, F = True, False
# Who the actor is in relation to the client (curated by CURATOR_ID; the deal's co-owner is CO_OWNER_ID; the
# activity was written and the task created by the curator and assigned to the co-owner).
TABLE: list[tuple[str, Role | None, int, tuple[bool, ...]]] = [
    ("curator manager", Role.MANAGER, CURATOR_ID, (T, T, T, F, F, T, T, T, T, T, T, T)),
    ("co-owner manager", Role.MANAGER, CO_OWNER_ID, (T, F, T, F, F, T, T, F, F, T, T, T)),
    ("other manager", Role.MANAGER, OTHER_ID, (T, F, F, F, F, T, T, F, F, T, T, F)),
    ("curator senior manager", Role.SENIOR_MANAGER, CURATOR_ID, (T, T, T, F, F, T, T, T, T, T, T, T)),
    ("other senior manager", Role.SENIOR_MANAGER, OTHER_ID, (T, F, F, F, F, T, T, F, F, T, T, F)),
    ("head of sales", Role.HEAD_OF_SALES, ACTOR_ID, (T,) * 12),
    ("admin", Role.ADMIN, ACTOR_ID, (T,) * 12),
    ("finance", Role.FINANCE, ACTOR_ID, (T, F, F, F, F, F, T, F, F, T, F, F)),
    ("inactive head of sales", None, ACTOR_ID, (F,) * 12),
    ("anonymous", None, 0, (F,) * 12),
]


def _actor(who: str, role: Role | None, pk: int) -> Any:
    if who == "anonymous":
        return AnonymousUser()
    if role is None:
        return User(pk=pk, username="blocked", role=Role.HEAD_OF_SALES, is_active=False)
    return User(pk=pk, username=who, role=role, is_active=True)


def _objects() -> dict[str, Any]:
    company = Company(pk=10, curator_id=CURATOR_ID)
    deal = Deal(pk=20, company=company, owner_id=CURATOR_ID, co_owner_id=CO_OWNER_ID)
    activity = Activity(pk=30, company=company, deal=deal, author_id=CURATOR_ID)
    task = Task(pk=40, company=company, assignee_id=CO_OWNER_ID, created_by_id=CURATOR_ID)
    return {"company": company, "deal": deal, "activity": activity, "task": task}


@pytest.mark.parametrize(("who", "role", "pk", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_sales_policy_table(who, role, pk, expected):
    """R3: everyone in the department reads every deal, timeline and task; R2: a deal is changed by its owner,
    co-owner or the head of sales, and contacts are logged by whoever works the client; R1: only the head of
    sales overrides a stage standard or edits pipelines; D3: an entry is edited by its author or the head."""
    actor = _actor(who, role, pk)
    objects = _objects()
    answers = {perm: can(actor, perm, objects[obj] if obj else None) for perm, obj in COLUMNS}
    assert answers == dict(zip([perm for perm, _ in COLUMNS], expected, strict=True))


def test_deal_co_owner_may_log_contacts_on_the_deal():
    """R2: the co-owner of a deal logs contacts on that deal, not on the client's other work."""
    objects = _objects()
    co_owner = _actor("co-owner", Role.MANAGER, CO_OWNER_ID)
    assert can(co_owner, "activities.add_activity", objects["deal"])
    assert not can(co_owner, "activities.add_activity", objects["company"])
