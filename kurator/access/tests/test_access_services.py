"""R4, D12: asking for access, the head of sales' decision with an expiry, direct grants and revocation.

Every refusal writes nothing — no request, no grant, no notification, no audit line — and every decision is
recorded in the audit log with the rule (the head's office) that allowed it.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import cast

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from kurator.access import services
from kurator.access.confidential import clearance, live_grants
from kurator.access.models import AccessGrant, AccessRequest, AccessRequestStatus, AuditAction, AuditEvent
from kurator.access.policy import can
from kurator.access.tests.factories_access import ask, document, grant
from kurator.accounts.models import Role, User
from kurator.activities.models import Notification
from kurator.core.errors import AccessDenied
from tests.factories import UserFactory, company_factory

TODAY = timezone.localdate


def _counts() -> tuple[int, int, int, int]:
    return (
        AccessRequest.objects.count(),
        AccessGrant.objects.count(),
        AuditEvent.objects.count(),
        Notification.objects.count(),
    )


def _fields(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return {field: [str(e.code) for e in errors] for field, errors in exc.value.error_dict.items()}


@pytest.fixture
def colleague_client(other_manager, manager):
    """A client curated by ``manager``; ``other_manager`` is the colleague who asks."""
    return company_factory(actor=manager, short_name="Ромашка")


# Asking ---------------------------------------------------------------------------------------------------


def test_a_request_is_stored_the_heads_told_and_audited(
    other_manager, head, colleague_client, django_capture_on_commit_callbacks
):
    """R4: a manager asks with a reason; every head of sales gets a notification; REQUEST_ACCESS is logged."""
    second_head = cast(User, UserFactory(username="head2", role=Role.HEAD_OF_SALES))
    UserFactory(username="gone", role=Role.HEAD_OF_SALES, is_active=False)
    with django_capture_on_commit_callbacks(execute=True):
        request = services.access_request_create(
            actor=other_manager, company=colleague_client, reason="  Готовлю КП  ", ip="10.0.0.7"
        )
    assert (request.status, request.reason, request.document_id) == ("pending", "Готовлю КП", None)
    notified = Notification.objects.filter(kind="access_request")
    assert {n.recipient_id for n in notified} == {head.pk, second_head.pk}
    assert "Олег" in notified[0].text or "Кузнецов" in notified[0].text
    assert "Ромашка" in notified[0].text and "Готовлю КП" in notified[0].text
    event = AuditEvent.objects.get()
    assert (event.action, event.allowed, event.user_id, event.company_id, event.ip) == (
        AuditAction.REQUEST_ACCESS,
        True,
        other_manager.pk,
        colleague_client.pk,
        "10.0.0.7",
    )
    assert (event.object_type, event.object_id) == ("accessrequest", request.pk)


def test_without_a_head_the_administrator_is_told(
    other_manager, admin_user, colleague_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ask(other_manager, colleague_client)
    assert list(Notification.objects.values_list("recipient_id", flat=True)) == [admin_user.pk]


def test_a_request_for_one_document(other_manager, head, colleague_client):
    doc = document(colleague_client)
    request = ask(other_manager, colleague_client, doc=doc)
    assert request.document_id == doc.pk
    assert AuditEvent.objects.get().detail == f"document:{doc.pk}"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_request_without_a_reason_is_refused_and_writes_nothing(
    other_manager, head, colleague_client, reason
):
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.access_request_create(actor=other_manager, company=colleague_client, reason=reason)
    assert _fields(exc) == {"reason": ["required"]}
    assert _counts() == before


@pytest.mark.parametrize("who", ["manager", "head", "finance", "admin_user"])
def test_who_already_sees_it_has_nothing_to_ask_for(request, head, colleague_client, who):
    """R4: the curator, the head of sales, finance and the administrator see it by their office."""
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        ask(request.getfixturevalue(who), colleague_client)
    assert _fields(exc) == {"company": ["already_cleared"]}
    assert "already have access" in str(exc.value)
    assert _counts() == before


def test_a_holder_of_a_live_grant_has_nothing_to_ask_for(other_manager, head, colleague_client):
    grant(head, other_manager, colleague_client)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        ask(other_manager, colleague_client, doc=document(colleague_client))
    assert _fields(exc) == {"document": ["already_cleared"]}
    assert _counts() == before


def test_a_second_request_for_the_same_thing_is_refused(other_manager, head, colleague_client):
    """One waiting request per person and object; another object (a document) may be asked for."""
    first = ask(other_manager, colleague_client)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        ask(other_manager, colleague_client)
    assert _fields(exc) == {"company": ["pending"]}
    assert "already waiting" in str(exc.value)
    assert _counts() == before
    ask(other_manager, colleague_client, doc=document(colleague_client))
    services.access_request_withdraw(actor=other_manager, request=first)
    ask(other_manager, colleague_client)  # asking again after withdrawing is fine


def test_a_document_of_another_client_is_refused(other_manager, head, manager, colleague_client):
    elsewhere = document(company_factory(actor=manager))
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.access_request_create(
            actor=other_manager, company=colleague_client, document=elsewhere, reason="x"
        )
    assert _fields(exc) == {"document": ["other_company"]}
    with pytest.raises(ValidationError) as exc:
        services.access_request_create(
            actor=other_manager, company=colleague_client, document=10**9, reason=""
        )
    assert _fields(exc) == {"reason": ["required"], "document": ["invalid"]}
    assert _counts() == before


# Approving ------------------------------------------------------------------------------------------------


def test_approving_gives_a_grant_until_the_day_and_tells_the_requester(
    other_manager, head, colleague_client, django_capture_on_commit_callbacks
):
    """R4: the head of sales approves for seven days; the grant opens the solvency section (finance.
    view_solvency) and clearance names it; the requester is told; APPROVE_ACCESS is logged under the head's
    office."""
    request = ask(other_manager, colleague_client)
    assert not can(other_manager, "finance.view_solvency", colleague_client)
    until = TODAY() + timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        access = services.access_request_approve(
            actor=head, request=request, expires_on=until, comment="На неделю", ip="10.0.0.1"
        )
    request.refresh_from_db()
    assert (request.status, request.decided_by_id, request.expires_on, request.decision_comment) == (
        "approved",
        head.pk,
        until,
        "На неделю",
    )
    assert request.decided_at is not None
    assert (
        access.user_id,
        access.company_id,
        access.request_id,
        access.expires_on,
        access.granted_by_id,
    ) == (
        other_manager.pk,
        colleague_client.pk,
        request.pk,
        until,
        head.pk,
    )
    assert can(other_manager, "finance.view_solvency", colleague_client)
    assert clearance(other_manager, colleague_client).rule == f"grant:{access.pk}"
    told = Notification.objects.get(recipient=other_manager)
    assert told.kind == "access_approved" and "На неделю" in told.text
    event = AuditEvent.objects.filter(action=AuditAction.APPROVE_ACCESS).get()
    assert (event.rule, event.user_id, event.object_type, event.object_id, event.ip) == (
        "head_of_sales",
        head.pk,
        "accessgrant",
        access.pk,
        "10.0.0.1",
    )


def test_the_administrator_decides_too_and_is_recorded_as_such(other_manager, admin_user, colleague_client):
    request = ask(other_manager, colleague_client)
    services.access_request_approve(actor=admin_user, request=request, expires_on=TODAY())
    assert AuditEvent.objects.filter(action=AuditAction.APPROVE_ACCESS).get().rule == "admin"


@pytest.mark.parametrize(
    ("days", "code"),
    [(None, "required"), (-1, "past"), (91, "too_far")],
)
def test_the_expiry_is_required_not_past_and_at_most_90_days_ahead(
    other_manager, head, colleague_client, days, code
):
    request = ask(other_manager, colleague_client)
    before = _counts()
    expires_on = None if days is None else TODAY() + timedelta(days=days)
    with pytest.raises(ValidationError) as exc:
        services.access_request_approve(actor=head, request=request, expires_on=expires_on)
    assert _fields(exc) == {"expires_on": [code]}
    assert _counts() == before
    request.refresh_from_db()
    assert request.status == "pending"


def test_the_bounds_today_and_the_90th_day_are_accepted(other_manager, head, colleague_client, manager):
    services.access_request_approve(
        actor=head, request=ask(other_manager, colleague_client), expires_on=TODAY()
    )
    other = company_factory(actor=manager)
    far = TODAY() + timedelta(days=90)
    access = services.access_request_approve(
        actor=head, request=ask(other_manager, other), expires_on=far.isoformat()
    )
    assert access.expires_on == far


def test_the_longest_expiry_follows_the_setting(settings, other_manager, head, colleague_client):
    settings.KURATOR_ACCESS_GRANT_MAX_DAYS = 10
    request = ask(other_manager, colleague_client)
    with pytest.raises(ValidationError) as exc:
        services.access_request_approve(actor=head, request=request, expires_on=TODAY() + timedelta(days=11))
    assert "at most 10 days" in str(exc.value)
    settings.KURATOR_ACCESS_GRANT_MAX_DAYS = 1  # one day, in the singular; Russian has three forms
    with pytest.raises(ValidationError) as exc:
        services.access_request_approve(actor=head, request=request, expires_on=TODAY() + timedelta(days=2))
    assert "at most 1 day:" in str(exc.value)
    with translation.override("ru"), pytest.raises(ValidationError) as exc:
        services.access_request_approve(actor=head, request=request, expires_on=TODAY() + timedelta(days=2))
    assert "не более чем на 1 день:" in str(exc.value)


@pytest.mark.parametrize("who", ["manager", "other_manager", "senior_manager", "finance"])
def test_only_the_head_of_sales_or_the_administrator_decides(
    request, other_manager, head, colleague_client, who
):
    access_request = ask(other_manager, colleague_client)
    actor = request.getfixturevalue(who)
    before = _counts()
    with pytest.raises(AccessDenied):
        services.access_request_approve(actor=actor, request=access_request, expires_on=TODAY())
    with pytest.raises(AccessDenied):
        services.access_request_refuse(actor=actor, request=access_request, comment="нет")
    assert _counts() == before


def test_a_decided_request_cannot_be_decided_again(other_manager, head, colleague_client):
    request = ask(other_manager, colleague_client)
    services.access_request_approve(actor=head, request=request, expires_on=TODAY())
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.access_request_approve(actor=head, request=request, expires_on=TODAY())
    assert _fields(exc) == {"status": ["decided"]}
    with pytest.raises(ValidationError) as exc:
        services.access_request_refuse(actor=head, request=request, comment="поздно")
    assert _fields(exc) == {"status": ["decided"]}
    assert _counts() == before


def test_the_requester_who_left_gets_no_grant(other_manager, head, colleague_client):
    request = ask(other_manager, colleague_client)
    other_manager.is_active = False
    other_manager.save()
    with pytest.raises(ValidationError) as exc:
        services.access_request_approve(actor=head, request=request, expires_on=TODAY())
    assert _fields(exc) == {"requester": ["inactive"]}
    assert not AccessGrant.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_heads_deciding_at_once_cannot_both_win(manager, other_manager, head):
    """R4: the request row is locked while it is decided; the second head finds it decided (PostgreSQL)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SELECT … FOR UPDATE) need PostgreSQL; SQLite serialises every writer anyway")
    second_head = cast(User, UserFactory(username="head2", role=Role.HEAD_OF_SALES))
    company = company_factory(actor=manager)
    request = ask(other_manager, company)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(actor, approve):
        from django.db import connections

        try:
            barrier.wait()
            if approve:
                services.access_request_approve(actor=actor, request=request, expires_on=TODAY())
            else:
                services.access_request_refuse(actor=actor, request=request, comment="нет")
            outcomes.append("won")
        except ValidationError as exc:
            outcomes.append(str(exc.error_dict["status"][0].code))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(head, True)),
        threading.Thread(target=decide, args=(second_head, False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["decided", "won"]
    request.refresh_from_db()
    assert request.status in ("approved", "refused")
    assert AccessGrant.objects.count() == (1 if request.status == "approved" else 0)
    assert AuditEvent.objects.filter(action__in=["approve_access", "refuse_access"]).count() == 1


# Refusing and withdrawing ---------------------------------------------------------------------------------


def test_refusing_needs_a_comment_and_tells_the_requester(
    other_manager, head, colleague_client, django_capture_on_commit_callbacks
):
    request = ask(other_manager, colleague_client)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.access_request_refuse(actor=head, request=request, comment="  ")
    assert _fields(exc) == {"comment": ["required"]}
    assert _counts() == before
    with django_capture_on_commit_callbacks(execute=True):
        services.access_request_refuse(actor=head, request=request, comment="Спросите куратора")
    request.refresh_from_db()
    assert (request.status, request.decision_comment, request.decided_by_id) == (
        "refused",
        "Спросите куратора",
        head.pk,
    )
    assert not AccessGrant.objects.exists()
    told = Notification.objects.get(recipient=other_manager)
    assert told.kind == "access_refused" and "Спросите куратора" in told.text
    event = AuditEvent.objects.get(action=AuditAction.REFUSE_ACCESS)
    assert (event.rule, event.object_id) == ("head_of_sales", request.pk)


def test_only_the_requester_withdraws_a_waiting_request(other_manager, manager, head, colleague_client):
    request = ask(other_manager, colleague_client)
    before = _counts()
    for stranger in (manager, head):
        with pytest.raises(AccessDenied):
            services.access_request_withdraw(actor=stranger, request=request)
    assert _counts() == before
    services.access_request_withdraw(actor=other_manager, request=request)
    request.refresh_from_db()
    assert request.status == AccessRequestStatus.WITHDRAWN
    with pytest.raises(ValidationError) as exc:
        services.access_request_withdraw(actor=other_manager, request=request)
    assert _fields(exc) == {"status": ["decided"]}
    with pytest.raises(ValidationError):
        services.access_request_approve(actor=head, request=request, expires_on=TODAY())


# Direct grants and revocation -----------------------------------------------------------------------------


def test_a_direct_grant_answers_a_waiting_request_for_the_same_thing(other_manager, head, colleague_client):
    request = ask(other_manager, colleague_client)
    access = grant(head, other_manager, colleague_client, reason="Отпуск куратора")
    request.refresh_from_db()
    assert (request.status, access.request_id, request.expires_on) == (
        "approved",
        request.pk,
        access.expires_on,
    )
    event = AuditEvent.objects.get(action=AuditAction.APPROVE_ACCESS)
    assert event.detail.startswith(f"request:{request.pk}")


def test_a_direct_grant_checks_every_field(head, manager, finance, colleague_client):
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.access_grant_create(
            actor=head, user=finance, company=colleague_client, expires_on=None, reason=""
        )
    assert _fields(exc) == {"reason": ["required"], "expires_on": ["required"], "user": ["already_cleared"]}
    with pytest.raises(ValidationError) as exc:
        services.access_grant_create(
            actor=head, user=10**9, company=colleague_client, expires_on=TODAY(), reason="x"
        )
    assert _fields(exc) == {"user": ["invalid"]}
    with pytest.raises(AccessDenied):
        services.access_grant_create(
            actor=manager, user=finance, company=colleague_client, expires_on=TODAY(), reason="x"
        )
    assert _counts() == before


def test_a_document_grant_opens_that_document_only(other_manager, head, colleague_client):
    doc, other_doc = document(colleague_client), document(colleague_client, name="Акт сверки.xlsx")
    access = grant(head, other_manager, colleague_client, doc=doc)
    assert clearance(other_manager, doc).rule == f"grant:{access.pk}"
    assert not clearance(other_manager, other_doc).allowed
    assert not clearance(other_manager, colleague_client).allowed


def test_revoking_ends_the_grant_now_and_tells_the_user(
    other_manager, head, colleague_client, django_capture_on_commit_callbacks
):
    access = grant(head, other_manager, colleague_client)
    assert can(other_manager, "finance.view_solvency", colleague_client)
    before = _counts()
    with pytest.raises(ValidationError) as exc:
        services.access_grant_revoke(actor=head, grant=access, reason="")
    assert _fields(exc) == {"reason": ["required"]}
    with pytest.raises(AccessDenied):
        services.access_grant_revoke(actor=other_manager, grant=access, reason="сам")
    assert _counts() == before
    with django_capture_on_commit_callbacks(execute=True):
        services.access_grant_revoke(actor=head, grant=access, reason="Сделка закрыта", ip="10.0.0.9")
    access.refresh_from_db()
    assert (access.revoked_by_id, access.revoke_reason) == (head.pk, "Сделка закрыта")
    assert access.revoked_at is not None
    assert not can(other_manager, "finance.view_solvency", colleague_client)
    assert not clearance(other_manager, colleague_client).allowed
    told = Notification.objects.get(recipient=other_manager, kind="access_revoked")
    assert "Сделка закрыта" in told.text
    event = AuditEvent.objects.get(action=AuditAction.REVOKE_ACCESS)
    assert (event.object_id, event.rule, event.ip) == (access.pk, "head_of_sales", "10.0.0.9")
    with pytest.raises(ValidationError) as exc:
        services.access_grant_revoke(actor=head, grant=access, reason="ещё раз")
    assert _fields(exc) == {"grant": ["revoked"]}


def test_a_grant_works_through_its_last_day_and_stops_the_day_after(other_manager, head, colleague_client):
    """R4: ``expires_on`` is the last day access works (Moscow time)."""
    access = grant(head, other_manager, colleague_client, days=0)
    assert list(live_grants(other_manager)) == [access]
    AccessGrant.objects.filter(pk=access.pk).update(expires_on=TODAY() - timedelta(days=1))
    assert not live_grants(other_manager).exists()
    assert not can(other_manager, "finance.view_solvency", colleague_client)
    with pytest.raises(ValidationError) as exc:
        services.access_grant_revoke(actor=head, grant=access, reason="x")
    assert _fields(exc) == {"grant": ["expired"]}


def test_the_holder_is_reminded_the_day_before_the_last_day(other_manager, head, colleague_client):
    """R4: a notice «your access ends tomorrow», once; none for a revoked grant or one lasting longer."""
    from kurator.access.reminders import remind_expiring_grants

    ending = grant(head, other_manager, colleague_client, days=1)
    later = grant(head, other_manager, company_factory(actor=head), days=5)
    revoked = grant(head, other_manager, company_factory(actor=head), days=1)
    services.access_grant_revoke(actor=head, grant=revoked, reason="x")
    Notification.objects.all().delete()
    assert remind_expiring_grants() == 1
    assert remind_expiring_grants() == 0
    notice = Notification.objects.get(kind="access_expiring")
    assert notice.recipient_id == other_manager.pk and notice.dedup_key == f"access-expiring:{ending.pk}"
    assert later.pk != ending.pk


def test_a_refusal_does_not_reveal_the_document_name(
    other_manager, head, colleague_client, django_capture_on_commit_callbacks
):
    """R4: whoever is refused a document reads «a document of <client>», not its name."""
    doc = document(colleague_client, name="Договор №12 от 01.02.2026.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        services.access_request_refuse(
            actor=head, request=ask(other_manager, colleague_client, doc=doc), comment="Нет"
        )
    told = Notification.objects.get(recipient=other_manager)
    assert "a document of Ромашка" in told.text and "Договор №12" not in told.text
