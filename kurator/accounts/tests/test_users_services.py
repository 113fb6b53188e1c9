"""A user who leaves (R2, R4, D12): their clients, deals, tasks and inquiries are handed to a successor in one
step and nothing is deleted; deactivation without a successor is refused while work remains; a deactivated
user can no longer sign in or use the API; their grants are revoked. And adding and editing people."""

from __future__ import annotations

import datetime
from typing import Any, cast

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from kurator.access.models import AccessGrant, AccessRequest, AccessRequestStatus, AuditAction, AuditEvent
from kurator.accounts import services
from kurator.accounts.models import ApiToken, Role, User
from kurator.accounts.selectors import user_workload
from kurator.activities.models import Notification, Task
from kurator.activities.services import task_create
from kurator.companies.models import Company
from kurator.core.errors import AccessDenied
from kurator.inquiries.models import Inquiry
from kurator.sales.models import Deal
from kurator.sales.services import deal_create
from tests.factories import UserFactory, company_factory

pytestmark = pytest.mark.django_db

PASSWORD = "kurator-test-pass"
REASON = "Уволился по собственному желанию"


@pytest.fixture(autouse=True)
def _english() -> Any:
    # Messages are matched in English whatever translations are compiled (Russian is the default).
    with translation.override("en"):
        yield


def _user(**fields: Any) -> User:
    return cast(User, UserFactory(**fields))


def make_workload(manager: User, other_manager: User, head: User) -> dict[str, Any]:
    """Everything a manager can hold: two clients with a deal, a task and an inquiry each; a deal co-owned on
    a colleague's client; an inquiry without a client; a task on a colleague's client; a pending access
    request and a live grant."""
    own = [company_factory(actor=manager, full_name=f"ООО «Ромашка {n}»") for n in (1, 2)]
    colleague = company_factory(actor=other_manager, full_name="ООО «Лютик»")
    now = timezone.now()
    deals = [deal_create(actor=manager, company=c, title=f"Поставка {c.pk}") for c in own]
    co_owned = deal_create(actor=head, company=colleague, title="Совместная сделка", co_owner=manager)
    tasks = [
        task_create(actor=manager, title=f"Позвонить {c.short_name}", assignee=manager, due_at=now, company=c)
        for c in [*own, colleague]
    ]
    done = task_create(actor=manager, title="Сделано", assignee=manager, due_at=now, company=own[0])
    Task.objects.filter(pk=done.pk).update(done=True, done_at=now)
    inquiries = [
        Inquiry.objects.create(channel="email", received_at=now, company=c, curator=manager, status="new")
        for c in own
    ]
    lead = Inquiry.objects.create(
        channel="phone", received_at=now, curator=manager, status="taken", company_name="ООО «Новый лид»"
    )
    closed = Inquiry.objects.create(
        channel="phone", received_at=now, curator=manager, status="rejected", reject_reason="спам"
    )
    grant = AccessGrant.objects.create(
        user=manager,
        company=colleague,
        granted_by=head,
        expires_on=timezone.localdate() + datetime.timedelta(days=7),
    )
    request = AccessRequest.objects.create(requester=manager, company=colleague, reason="Нужен договор")
    return {
        "own": own,
        "colleague": colleague,
        "deals": deals,
        "co_owned": co_owned,
        "tasks": tasks,
        "done": done,
        "inquiries": inquiries,
        "lead": lead,
        "closed": closed,
        "grant": grant,
        "request": request,
    }


def snapshot() -> tuple[Any, ...]:
    return (
        list(User.objects.order_by("pk").values()),
        list(Company.objects.order_by("pk").values("pk", "curator_id", "version")),
        list(Deal.objects.order_by("pk").values("pk", "owner_id", "co_owner_id", "version")),
        list(Task.objects.order_by("pk").values("pk", "assignee_id")),
        list(Inquiry.objects.order_by("pk").values("pk", "curator_id")),
        list(AccessGrant.objects.order_by("pk").values()),
        list(AccessRequest.objects.order_by("pk").values()),
        Company.history.count(),
        Deal.history.count(),
        Task.history.count(),
        Inquiry.history.count(),
        AuditEvent.objects.count(),
        Session.objects.count(),
    )


def test_workload_lists_what_the_user_holds_in_constant_queries(
    manager, other_manager, head, django_assert_max_num_queries
):
    """R2: clients, open deals owned or co-owned, open tasks and open inquiries, pending requests and live
    grants; closed things are not work. One query per kind, whatever their number."""
    work = make_workload(manager, other_manager, head)
    with django_assert_max_num_queries(7):
        workload = user_workload(manager)
    assert {c.pk for c in workload.clients} == {c.pk for c in work["own"]}
    assert {d.pk for d in workload.deals} == {d.pk for d in [*work["deals"], work["co_owned"]]}
    assert [d.pk for d in workload.co_owned_deals] == [work["co_owned"].pk]
    assert {t.pk for t in workload.tasks} == {t.pk for t in work["tasks"]}
    assert {i.pk for i in workload.inquiries} == {i.pk for i in [*work["inquiries"], work["lead"]]}
    assert [r.pk for r in workload.access_requests] == [work["request"].pk]
    assert [g.pk for g in workload.grants] == [work["grant"].pk]
    assert workload.remaining == {"clients": 2, "deals": 3, "tasks": 3, "inquiries": 3}


def test_handover_moves_clients_deals_tasks_and_inquiries_with_the_reason_in_history(
    manager, other_manager, senior_manager, head, django_capture_on_commit_callbacks
):
    """R2, D12: everything goes to the successor in one step; a colleague's client's deal stays with its
    curator (the successor becomes co-owner) and its inquiry with that curator; every moved record's history
    names the head and the reason; nothing is deleted; both curators are told about each client."""
    work = make_workload(manager, other_manager, head)
    counts = (Company.objects.count(), Deal.objects.count(), Task.objects.count(), Inquiry.objects.count())
    with django_capture_on_commit_callbacks(execute=True):
        result = services.user_handover(actor=head, user=manager, successor=senior_manager, reason=REASON)
    assert result == services.Handover(clients=2, deals=3, tasks=3, inquiries=3)
    assert user_workload(manager).remaining == {}
    for company in work["own"]:
        company.refresh_from_db()
        assert company.curator == senior_manager
        assert company.history.first().history_change_reason == REASON
        assert company.history.first().history_user == head
    for deal in work["deals"]:
        deal.refresh_from_db()
        assert deal.owner == senior_manager
    co_owned = Deal.objects.get(pk=work["co_owned"].pk)
    assert (co_owned.owner, co_owned.co_owner) == (other_manager, senior_manager)
    assert co_owned.history.first().history_change_reason == REASON
    for task in work["tasks"]:
        task.refresh_from_db()
        assert task.assignee == senior_manager
        assert task.history.first().history_change_reason == REASON
        assert task.history.first().history_user == head
    assert Task.objects.get(pk=work["done"].pk).assignee == manager  # done: the record stays as it was
    for inquiry in [*work["inquiries"], work["lead"]]:
        inquiry.refresh_from_db()
        assert inquiry.curator == senior_manager
    assert Inquiry.objects.get(pk=work["lead"].pk).history.first().history_change_reason == REASON
    assert Inquiry.objects.get(pk=work["closed"].pk).curator == manager
    assert counts == (
        Company.objects.count(),
        Deal.objects.count(),
        Task.objects.count(),
        Inquiry.objects.count(),
    )
    # One summary each for the successor and the leaver, not a notice per client, deal, task and inquiry.
    told = {n.recipient: n for n in Notification.objects.filter(kind="work_handed_over")}
    assert set(told) == {manager, senior_manager}
    assert Notification.objects.filter(recipient=senior_manager).count() == 1
    assert told[senior_manager].url == reverse("companies:list") + f"?curator={senior_manager.pk}"
    for person in (manager, senior_manager):
        assert REASON in told[person].text and head.full_name in told[person].text
    assert manager.full_name in told[senior_manager].text
    assert senior_manager.full_name in told[manager].text
    # Handing over is not leaving: the user stays active until deactivated.
    manager.refresh_from_db()
    assert manager.is_active


def test_a_colleagues_client_inquiry_goes_to_that_curator(
    manager, other_manager, senior_manager, head, django_capture_on_commit_callbacks
):
    """R2: an inquiry of a client the leaver does not curate is worked by the client's curator."""
    colleague = company_factory(actor=other_manager)
    inquiry = Inquiry.objects.create(
        channel="email", received_at=timezone.now(), company=colleague, curator=manager, status="taken"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.user_handover(actor=head, user=manager, successor=senior_manager, reason=REASON)
    inquiry.refresh_from_db()
    assert inquiry.curator == other_manager
    # The colleague is told once, with their own count; the successor got nothing of theirs to hear about.
    [notice] = Notification.objects.filter(recipient=other_manager)
    assert notice.kind == "work_handed_over" and manager.full_name in notice.text
    assert not Notification.objects.filter(recipient=senior_manager).exists()


def test_one_curator_per_client_holds_after_deactivation(manager, other_manager, senior_manager, head):
    """R2: after the handover no client is left with an inactive curator, and each deal's owner is its
    client's curator."""
    make_workload(manager, other_manager, head)
    services.user_deactivate(actor=head, user=manager, successor=senior_manager, reason=REASON)
    assert not Company.objects.filter(curator__is_active=False, merged_into__isnull=True).exists()
    for deal in Deal.objects.filter(stage__kind="open").select_related("company"):
        assert deal.owner_id == deal.company.curator_id
        assert deal.owner.is_active
        assert deal.co_owner_id != deal.owner_id


def test_deactivation_without_a_successor_lists_what_remains_and_writes_nothing(manager, other_manager, head):
    """R2, D12: refused while the user holds work; the error names each kind with its count; nothing is
    written."""
    make_workload(manager, other_manager, head)
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        services.user_deactivate(actor=head, user=manager, reason=REASON)
    message = " ".join(error.value.message_dict["successor"])
    assert "2 clients" in message and "3 open deals" in message
    assert "3 open tasks" in message and "3 open inquiries" in message
    assert error.value.error_dict["successor"][0].code == "work_remains"
    assert snapshot() == before


def test_refused_handover_rolls_everything_back(manager, other_manager, senior_manager, head, monkeypatch):
    """D12: if any step of the handover fails, nothing has moved and the user is still active."""
    make_workload(manager, other_manager, head)
    before = snapshot()
    from kurator.activities import services as activities_services

    def broken(**kwargs: Any) -> None:
        raise ValidationError({"assignee": ["broken"]})

    monkeypatch.setattr(activities_services, "task_update", broken)
    with pytest.raises(ValidationError):
        services.user_deactivate(actor=head, user=manager, successor=senior_manager, reason=REASON)
    assert snapshot() == before


def test_a_user_without_work_is_deactivated_without_a_successor(manager, head):
    """R4: nothing to hand over, nothing asked."""
    result = services.user_deactivate(actor=head, user=manager, reason=REASON)
    manager.refresh_from_db()
    assert not manager.is_active
    assert result.handover.total == 0


def test_nobody_deactivates_themselves(head, admin_user):
    """R4: the last head of sales cannot lock the department out by mistake."""
    for actor in (head, admin_user):
        with pytest.raises(ValidationError) as error:
            services.user_deactivate(actor=actor, user=actor, reason=REASON)
        assert error.value.error_dict["__all__"][0].code == "self"
        actor.refresh_from_db()
        assert actor.is_active


@pytest.mark.parametrize("role", [Role.MANAGER, Role.SENIOR_MANAGER, Role.FINANCE])
def test_only_the_head_of_sales_and_the_administrator_manage_users(role, other_manager):
    """R4: managers and finance may not add, change, hand over or deactivate people."""
    actor = _user(username=f"actor_{role}", role=role)
    before = snapshot()
    calls = [
        lambda: services.user_deactivate(actor=actor, user=other_manager, reason=REASON),
        lambda: services.user_handover(actor=actor, user=other_manager, successor=actor, reason=REASON),
        lambda: services.user_update(actor=actor, user=other_manager, first_name="Пётр"),
        lambda: services.user_reactivate(actor=actor, user=other_manager),
        lambda: services.user_create(
            actor=actor, username="new", role=Role.MANAGER, password="Kurator-2026!"
        ),
    ]
    for call in calls:
        with pytest.raises(AccessDenied):
            call()
    assert snapshot() == before


def test_the_head_of_sales_does_not_manage_administrators(head, admin_user, manager):
    """R4: only an administrator makes, changes or deactivates an administrator."""
    with pytest.raises(AccessDenied):
        services.user_deactivate(actor=head, user=admin_user, reason=REASON)
    with pytest.raises(AccessDenied):
        services.user_update(actor=head, user=admin_user, first_name="Пётр")
    with pytest.raises(AccessDenied):
        services.user_update(actor=head, user=manager, role=Role.ADMIN)
    with pytest.raises(AccessDenied):
        services.user_create(actor=head, username="root2", role=Role.ADMIN, password="Kurator-2026!")
    assert not User.objects.filter(role=Role.ADMIN).exclude(pk=admin_user.pk).exists()
    services.user_update(actor=admin_user, user=manager, role=Role.ADMIN)
    manager.refresh_from_db()
    assert manager.role == Role.ADMIN


def test_the_successor_must_be_an_active_curator_other_than_the_user(manager, head, finance):
    """R2: clients go to an active sales employee or administrator — not finance, not a former employee,
    not the leaver."""
    company_factory(actor=manager)
    former = _user(username="former", role=Role.MANAGER, is_active=False)
    before = snapshot()
    for successor, code in (
        (finance, "invalid_successor"),
        (former, "invalid_successor"),
        (manager, "same_user"),
    ):
        with pytest.raises(ValidationError) as error:
            services.user_deactivate(actor=head, user=manager, successor=successor, reason=REASON)
        assert error.value.error_dict["successor"][0].code == code
    with pytest.raises(ValidationError) as error:
        services.user_handover(actor=head, user=manager, successor=None, reason="")
    assert set(error.value.error_dict) == {"successor", "reason"}
    assert snapshot() == before


def test_deactivated_user_cannot_sign_in_or_use_the_api_and_loses_grants(
    manager, other_manager, senior_manager, head
):
    """R4: their browser session ends, the API token stops working, sign-in is refused; pending requests
    are withdrawn and live grants revoked (rows kept); the audit log records the deactivation."""
    work = make_workload(manager, other_manager, head)
    browser = Client()
    browser.force_login(manager)
    assert browser.get("/companies/").status_code == 200
    api = APIClient()
    token = api.post(
        "/api/v1/auth/token/", {"username": manager.username, "password": PASSWORD}, format="json"
    ).json()["token"]
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get("/api/v1/users/me/").status_code == 200

    result = services.user_deactivate(actor=head, user=manager, successor=senior_manager, reason=REASON)

    assert (result.sessions, result.tokens) == (1, 1)
    assert ApiToken.objects.get(user=manager).revoked_by == head
    response = browser.get("/companies/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert api.get("/api/v1/users/me/").status_code in (401, 403)
    assert not Client().login(username=manager.username, password=PASSWORD)
    grant = AccessGrant.objects.get(pk=work["grant"].pk)
    assert grant.revoked_at is not None and grant.revoked_by == head and grant.revoke_reason == REASON
    request = AccessRequest.objects.get(pk=work["request"].pk)
    assert request.status == AccessRequestStatus.WITHDRAWN and request.decided_by == head
    event = AuditEvent.objects.get(action=AuditAction.USER_DEACTIVATED)
    assert (event.user, event.object_type, event.object_id, event.allowed) == (head, "user", manager.pk, True)
    assert REASON in event.detail and f"successor:{senior_manager.pk}" in event.detail
    assert AuditEvent.objects.filter(action=AuditAction.REVOKE_ACCESS, object_id=grant.pk).exists()
    # Nothing is deleted: the user row stays, their name on every record.
    assert User.objects.filter(pk=manager.pk, is_active=False).exists()


def test_reactivation_lets_the_user_sign_in_again_with_no_work(manager, senior_manager, head):
    """R4: a returning employee signs in again; what was handed over stays where it went."""
    company = company_factory(actor=manager)
    services.user_deactivate(actor=head, user=manager, successor=senior_manager, reason=REASON)
    services.user_reactivate(actor=head, user=manager)
    assert Client().login(username=manager.username, password=PASSWORD)
    company.refresh_from_db()
    assert company.curator == senior_manager
    with pytest.raises(ValidationError):
        services.user_reactivate(actor=head, user=manager)


# Adding and editing people -------------------------------------------------------------------------------


def test_the_head_adds_a_user_who_can_sign_in(head):
    """R4: the department is managed without the shell."""
    user = services.user_create(
        actor=head,
        username="sidorov",
        role=Role.SENIOR_MANAGER,
        password="Кактус-на-окне-2026",
        first_name=" Пётр ",
        last_name="Сидоров",
        patronymic="Ильич",
        email="Sidorov@Example.ru",
        phone="8 (495) 123-45-67",
    )
    assert (user.full_name, user.email, user.phone) == (
        "Сидоров Пётр Ильич",
        "sidorov@example.ru",
        "+74951234567",
    )
    assert user.role == Role.SENIOR_MANAGER and user.is_active and not user.is_staff
    assert Client().login(username="sidorov", password="Кактус-на-окне-2026")


def test_a_new_user_is_checked_field_by_field_and_nothing_is_written(head, manager):
    """R4: Django's password validators, a unique sign-in name whatever its case, a known role, a real
    e-mail and phone — every bad field named at once."""
    count = User.objects.count()
    with pytest.raises(ValidationError) as error:
        services.user_create(
            actor=head,
            username="MANAGER",
            role="boss",
            password="12345678",
            email="not-an-email",
            phone="12",
        )
    assert set(error.value.error_dict) == {"username", "role", "password", "email", "phone"}
    assert "already exists" in error.value.message_dict["username"][0]
    with pytest.raises(ValidationError) as error:
        services.user_create(actor=head, username="ivanov", role=Role.MANAGER, password="ivanov2026")
    assert set(error.value.error_dict) == {"password"}  # too like the name
    with pytest.raises(ValidationError) as error:
        services.user_create(actor=head, username="bad name!", role=Role.MANAGER, password="Kurator-2026!")
    assert set(error.value.error_dict) == {"username"}
    assert User.objects.count() == count


def test_the_head_edits_names_contacts_and_role(head, manager, other_manager):
    """R4: names, contacts and role change; the sign-in name stays."""
    user = services.user_update(
        actor=head,
        user=other_manager,
        last_name="Кузнецов-Сидоров",
        phone="+7 916 000-00-00",
        role=Role.SENIOR_MANAGER,
    )
    user.refresh_from_db()
    assert (user.last_name, user.phone, user.role) == (
        "Кузнецов-Сидоров",
        "+79160000000",
        Role.SENIOR_MANAGER,
    )
    with pytest.raises(TypeError):
        services.user_update(actor=head, user=other_manager, username="x")


def test_adding_changing_and_reactivating_a_user_are_in_the_audit_log(head, manager, other_manager):
    """D12, R4: the audit log says who added a user (with the role), changed a role or a name, and let a
    former employee back in — with the address; a change of contacts only, or a refused change, adds
    nothing."""
    user = services.user_create(
        actor=head, username="sidorov", role=Role.MANAGER, password="Кактус-на-окне-2026", ip="192.0.2.5"
    )
    created = AuditEvent.objects.get(action=AuditAction.USER_CREATED)
    assert (created.user, created.object_type, created.object_id, created.ip, created.allowed) == (
        head,
        "user",
        user.pk,
        "192.0.2.5",
        True,
    )
    assert created.detail == f"user:{user.pk} role:manager"

    services.user_update(actor=head, user=user, phone="+7 916 000-00-00")
    assert not AuditEvent.objects.filter(action=AuditAction.USER_CHANGED).exists()
    services.user_update(actor=head, user=user, role=Role.SENIOR_MANAGER, last_name="Сидоров", ip="192.0.2.6")
    changed = AuditEvent.objects.get(action=AuditAction.USER_CHANGED)
    assert (changed.user, changed.object_id, changed.ip) == (head, user.pk, "192.0.2.6")
    assert changed.detail == f"user:{user.pk} role:manager>senior_manager names"
    with pytest.raises(AccessDenied):
        services.user_update(actor=manager, user=other_manager, first_name="Пётр")
    assert AuditEvent.objects.filter(action=AuditAction.USER_CHANGED).count() == 1

    services.user_deactivate(actor=head, user=user, successor=None, reason=REASON)
    services.user_reactivate(actor=head, user=user, ip="192.0.2.7")
    back = AuditEvent.objects.get(action=AuditAction.USER_REACTIVATED)
    assert (back.user, back.object_id, back.ip) == (head, user.pk, "192.0.2.7")
    assert back.detail == f"user:{user.pk}"


def test_a_role_that_cannot_curate_is_refused_while_work_remains(head, manager, other_manager):
    """R2: a curator cannot become finance while holding clients — the client would be left without one."""
    company_factory(actor=manager)
    with pytest.raises(ValidationError) as error:
        services.user_update(actor=head, user=manager, role=Role.FINANCE)
    assert "1 client" in error.value.message_dict["role"][0]
    manager.refresh_from_db()
    assert manager.role == Role.MANAGER
    services.user_update(actor=head, user=other_manager, role=Role.FINANCE)  # no clients: fine


def test_nobody_changes_their_own_role(head):
    """R4: the head of sales cannot drop their own rights by mistake (or raise them)."""
    with pytest.raises(ValidationError) as error:
        services.user_update(actor=head, user=head, role=Role.MANAGER)
    assert error.value.error_dict["role"][0].code == "own_role"
    services.user_update(actor=head, user=head, phone="+74951234567")


def test_the_head_sets_a_new_password_checked_by_the_validators(head, manager):
    """R4: a forgotten password is replaced by the head; a weak one is refused."""
    with pytest.raises(ValidationError):
        services.user_set_password(actor=head, user=manager, password="password")
    services.user_set_password(actor=head, user=manager, password="Новый-пароль-2026")
    assert Client().login(username=manager.username, password="Новый-пароль-2026")
