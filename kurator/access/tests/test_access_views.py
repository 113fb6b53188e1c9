"""R4, D12: the restricted-access pages — asking for access, the head of sales' requests and grants, «My
access requests», the audit log with its CSV export, and the navbar entries — across roles."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kurator.access import services
from kurator.access.audit import audit_record
from kurator.access.models import AccessGrant, AccessRequest, AuditAction, AuditEvent
from kurator.access.tests.factories_access import ask, document, grant
from kurator.accounts.models import Role, User
from tests.factories import UserFactory, company_factory

TODAY = timezone.localdate
pytestmark = pytest.mark.django_db
PAGES = ["access:requests", "access:grants", "access:audit_log", "access:grant_create"]


@pytest.fixture
def colleague_client(manager):
    return company_factory(actor=manager, short_name="Ромашка")


# Who reaches which page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize(
    ("who", "code"),
    [("manager", 403), ("senior_manager", 403), ("finance", 403), ("head", 200), ("admin_user", 200)],
)
def test_the_head_pages_are_for_the_head_of_sales_and_the_administrator(client, request, name, who, code):
    client.force_login(request.getfixturevalue(who))
    assert client.get(reverse(name)).status_code == code


@pytest.mark.parametrize("who", ["manager", "senior_manager", "finance", "head", "admin_user"])
def test_everyone_has_my_access_requests(client, request, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(reverse("access:my_requests"))
    assert response.status_code == 200
    assert 'data-testid="nav-my-access-requests"' in response.content.decode()


def test_anonymous_goes_to_the_login_page(client):
    for name in [*PAGES, "access:my_requests", "access:request"]:
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/login" in response["Location"]


def _counts() -> tuple[int, int, int]:
    return AccessRequest.objects.count(), AccessGrant.objects.count(), AuditEvent.objects.count()


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Asking for access ----------------------------------------------------------------------------------------


def test_asking_for_a_clients_section_from_the_lock_notice(client, other_manager, head, colleague_client):
    """R4: the page names the client; the request is stored with the reason and the IP, and the user goes
    back to the solvency tab with a message."""
    client.force_login(other_manager)
    url = f"{reverse('access:request')}?company={colleague_client.pk}"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "the confidential section of Ромашка" in html and 'name="reason"' in html
    response = client.post(
        url, {"company": colleague_client.pk, "reason": "Готовлю КП"}, REMOTE_ADDR="10.1.2.3", follow=True
    )
    assert response.redirect_chain[0][0] == reverse("finance:company_solvency", args=[colleague_client.pk])
    assert any("sent to the head of sales" in m for m in _messages(response))
    saved = AccessRequest.objects.get()
    assert (saved.requester_id, saved.company_id, saved.reason) == (
        other_manager.pk,
        colleague_client.pk,
        "Готовлю КП",
    )
    assert AuditEvent.objects.get(action=AuditAction.REQUEST_ACCESS).ip == "10.1.2.3"
    again = client.get(url).content.decode()
    assert 'data-testid="request-pending"' in again


def test_a_document_name_is_not_shown_to_whoever_may_not_open_it(
    client, other_manager, head, colleague_client
):
    """R4: a document's name is confidential: «a document of <client>»."""
    doc = document(colleague_client, name="Договор №12 от 01.02.2026.pdf")
    client.force_login(other_manager)
    url = f"{reverse('access:request')}?company={colleague_client.pk}&document={doc.pk}"
    html = client.get(url).content.decode()
    assert "a document of Ромашка" in html
    assert "Договор №12" not in html
    client.post(url, {"company": colleague_client.pk, "document": doc.pk, "reason": "Сверка"})
    assert AccessRequest.objects.get().document_id == doc.pk
    mine = client.get(reverse("access:my_requests")).content.decode()
    assert "Договор №12" not in mine and "a document" in mine
    client.force_login(head)
    assert "Договор №12" in client.get(reverse("access:requests")).content.decode()


def test_a_request_without_a_reason_names_the_field_and_writes_nothing(
    client, other_manager, head, colleague_client
):
    client.force_login(other_manager)
    before = _counts()
    response = client.post(reverse("access:request"), {"company": colleague_client.pk, "reason": "  "})
    assert response.status_code == 400
    assert response.context["form"].errors["reason"] == [
        "Say why you need access: the head of sales reads it."
    ]
    assert _counts() == before


def test_who_already_sees_it_is_told_so(client, manager, colleague_client):
    client.force_login(manager)
    url = f"{reverse('access:request')}?company={colleague_client.pk}"
    assert 'data-testid="already-cleared"' in client.get(url).content.decode()
    before = _counts()
    response = client.post(url, {"company": colleague_client.pk, "reason": "x"})
    assert response.status_code == 400
    assert "nothing to ask for" in response.content.decode()
    assert _counts() == before


def test_the_request_page_refuses_strange_targets(client, other_manager, manager, colleague_client):
    client.force_login(other_manager)
    url = reverse("access:request")
    elsewhere = document(company_factory(actor=manager))
    assert client.get(url).status_code == 404
    assert client.get(url, {"company": 10**12}).status_code == 404
    assert client.get(url, {"company": colleague_client.pk, "document": elsewhere.pk}).status_code == 404
    assert client.get(url, {"company": colleague_client.pk, "document": "x"}).status_code == 404
    response = client.post(
        url, {"company": colleague_client.pk, "reason": "Нужно", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("finance:company_solvency", args=[colleague_client.pk])


# The head of sales' requests ------------------------------------------------------------------------------


def test_the_head_approves_a_request_for_the_week_offered(client, other_manager, head, colleague_client):
    access_request = ask(other_manager, colleague_client)
    client.force_login(head)
    html = client.get(reverse("access:requests")).content.decode()
    week = (TODAY() + timedelta(days=7)).isoformat()
    assert f'value="{week}"' in html and "Готовлю КП" in html and "Ромашка" in html
    assert 'data-testid="pending-access-requests"' in html
    response = client.post(
        reverse("access:request_approve", args=[access_request.pk]),
        {"expires_on": week, "comment": "Успехов"},
        follow=True,
    )
    assert any("Access is given to" in m for m in _messages(response))
    access = AccessGrant.objects.get()
    assert (access.user_id, access.expires_on.isoformat(), access.request_id) == (
        other_manager.pk,
        week,
        access_request.pk,
    )
    html = response.content.decode()
    assert f'href="{reverse("access:grants")}?grant={access.pk}"' in html
    assert 'data-testid="pending-access-requests"' not in html


def test_a_wrong_decision_names_the_field_and_writes_nothing(client, other_manager, head, colleague_client):
    access_request = ask(other_manager, colleague_client)
    client.force_login(head)
    before = _counts()
    past = (TODAY() - timedelta(days=1)).isoformat()
    response = client.post(
        reverse("access:request_approve", args=[access_request.pk]), {"expires_on": past}, follow=True
    )
    assert "Access until: The last day of access cannot be in the past." in _messages(response)
    response = client.post(
        reverse("access:request_approve", args=[access_request.pk]), {"expires_on": "31.02.2026"}, follow=True
    )
    assert any(m.startswith("Access until:") for m in _messages(response))
    response = client.post(
        reverse("access:request_refuse", args=[access_request.pk]), {"comment": ""}, follow=True
    )
    assert "Comment: Say why access is refused: the requester reads it." in _messages(response)
    assert _counts() == before


def test_the_head_refuses_with_a_comment(client, other_manager, head, colleague_client):
    access_request = ask(other_manager, colleague_client)
    client.force_login(head)
    client.post(reverse("access:request_refuse", args=[access_request.pk]), {"comment": "Спросите куратора"})
    access_request.refresh_from_db()
    assert access_request.status == "refused"
    decided = client.get(reverse("access:requests")).content.decode()
    assert "Спросите куратора" in decided


@pytest.mark.parametrize("who", ["manager", "other_manager", "finance"])
def test_only_the_head_decides_through_the_pages(client, request, other_manager, head, colleague_client, who):
    access_request = ask(other_manager, colleague_client)
    client.force_login(request.getfixturevalue(who))
    before = _counts()
    week = (TODAY() + timedelta(days=7)).isoformat()
    assert (
        client.post(
            reverse("access:request_approve", args=[access_request.pk]), {"expires_on": week}
        ).status_code
        == 403
    )
    assert (
        client.post(reverse("access:request_refuse", args=[access_request.pk]), {"comment": "x"}).status_code
        == 403
    )
    assert _counts() == before


def test_the_decision_pages_take_posts_only(client, other_manager, head, colleague_client):
    access_request = ask(other_manager, colleague_client)
    client.force_login(head)
    assert client.get(reverse("access:request_approve", args=[access_request.pk])).status_code == 405
    assert client.post(reverse("access:request_approve", args=[10**9]), {}).status_code == 404


# My access requests ---------------------------------------------------------------------------------------


def test_my_requests_show_status_and_expiry_and_withdraw(
    client, other_manager, senior_manager, head, colleague_client
):
    waiting = ask(other_manager, colleague_client)
    approved = ask(other_manager, company_factory(actor=head, short_name="Василёк"))
    services.access_request_approve(actor=head, request=approved, expires_on=TODAY() + timedelta(days=3))
    theirs = ask(senior_manager, colleague_client)
    client.force_login(other_manager)
    html = client.get(reverse("access:my_requests")).content.decode()
    assert f'data-testid="request-{waiting.pk}"' in html and f'data-testid="request-{approved.pk}"' in html
    assert f'data-testid="request-{theirs.pk}"' not in html
    assert "Waiting for a decision" in html and "Approved" in html and "Василёк" in html
    assert (
        f'data-testid="withdraw-{waiting.pk}"' in html and f'data-testid="withdraw-{approved.pk}"' not in html
    )
    assert 'data-testid="my-grants"' in html and "expires in 3 days" in html
    assert client.post(reverse("access:request_withdraw", args=[theirs.pk])).status_code == 404
    client.post(reverse("access:request_withdraw", args=[waiting.pk]))
    waiting.refresh_from_db()
    assert waiting.status == "withdrawn"
    response = client.post(reverse("access:request_withdraw", args=[waiting.pk]), follow=True)
    assert any("already been decided" in m for m in _messages(response))


# Grants ---------------------------------------------------------------------------------------------------


def _grant_rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-testid="grant-(\d+)"', html)]


def test_the_grants_page_shows_live_expired_and_revoked(
    client, other_manager, senior_manager, head, colleague_client
):
    live = grant(head, other_manager, colleague_client, days=5)
    old = grant(head, senior_manager, colleague_client, days=1)
    AccessGrant.objects.filter(pk=old.pk).update(expires_on=TODAY() - timedelta(days=2))
    gone = grant(head, senior_manager, company_factory(actor=head), days=9)
    services.access_grant_revoke(actor=head, grant=gone, reason="Больше не нужно")
    client.force_login(head)
    html = client.get(reverse("access:grants")).content.decode()
    assert "expires in 5 days" in html and "Больше не нужно" in html
    assert f'data-testid="revoke-{live.pk}"' in html and f'data-testid="revoke-{old.pk}"' not in html
    for state, shown in (("live", live), ("expired", old), ("revoked", gone)):
        page = client.get(reverse("access:grants"), {"state": state}).content.decode()
        assert _grant_rows(page) == [shown.pk], state
    one = client.get(reverse("access:grants"), {"grant": live.pk}).content.decode()
    assert _grant_rows(one) == [live.pk]


def test_revoking_on_the_page_needs_a_reason(client, other_manager, head, colleague_client):
    access = grant(head, other_manager, colleague_client)
    client.force_login(head)
    before = _counts()
    response = client.post(reverse("access:grant_revoke", args=[access.pk]), {"reason": ""}, follow=True)
    assert "Reason: Say why access is revoked: the user reads it." in _messages(response)
    assert _counts() == before
    client.post(reverse("access:grant_revoke", args=[access.pk]), {"reason": "Сделка закрыта"})
    access.refresh_from_db()
    assert access.revoked_at is not None and access.revoke_reason == "Сделка закрыта"


def test_the_head_gives_access_directly(client, other_manager, head, colleague_client):
    doc = document(colleague_client)
    client.force_login(head)
    url = reverse("access:grant_create")
    assert "Ромашка" in client.get(url, {"q": "Ромаш"}).content.decode()
    form = client.get(url, {"company": colleague_client.pk}).content.decode()
    assert "Договор №12" in form and (TODAY() + timedelta(days=7)).isoformat() in form
    before = _counts()
    response = client.post(url, {"company": colleague_client.pk, "user": "", "expires_on": "", "reason": ""})
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"user", "expires_on", "reason"}
    assert _counts() == before
    response = client.post(
        url,
        {
            "company": colleague_client.pk,
            "user": other_manager.pk,
            "document": doc.pk,
            "expires_on": (TODAY() + timedelta(days=2)).isoformat(),
            "reason": "Замещает куратора",
        },
    )
    assert response.status_code == 302
    access = AccessGrant.objects.get()
    assert (access.user_id, access.document_id, access.request_id) == (other_manager.pk, doc.pk, None)


# The audit log --------------------------------------------------------------------------------------------


@pytest.fixture
def log(manager, other_manager, head, colleague_client):
    """A few lines of the log: a curator's view, a refused view from another address, a grant's view."""
    access = grant(head, other_manager, colleague_client)  # APPROVE_ACCESS
    audit_record(
        action=AuditAction.VIEW_SOLVENCY,
        allowed=True,
        rule="curator",
        user=manager,
        obj=colleague_client,
        ip="10.0.0.1",
    )
    audit_record(
        action=AuditAction.VIEW_SOLVENCY,
        allowed=False,
        rule="no_grant",
        user=other_manager,
        obj=colleague_client,
        ip="10.0.0.2",
    )
    audit_record(
        action=AuditAction.DOWNLOAD,
        allowed=True,
        rule=f"grant:{access.pk}",
        user=other_manager,
        obj=document(colleague_client),
        ip="10.0.0.2",
    )
    audit_record(
        action=AuditAction.LOGIN_FAILED, allowed=False, rule="bad_password", username="=cmd|' /C calc'!A0"
    )
    return {"grant": access}


def _rows(response) -> int:
    return len(re.findall(r'data-testid="audit-\d+"', response.content.decode()))


def test_the_audit_log_shows_rules_in_words_and_grants_as_links(client, head, log):
    client.force_login(head)
    response = client.get(reverse("access:audit_log"))
    html = response.content.decode()
    assert _rows(response) == 5
    access = log["grant"]
    assert f'<a href="{reverse("access:grants")}?grant={access.pk}">grant #{access.pk}</a>' in html
    assert "head of sales" in html and "no grant" in html and "wrong password" in html
    assert "Ромашка" in html and "10.0.0.2" in html
    assert "Downloaded a document" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "view_solvency"}, 2),
        ({"allowed": "no"}, 2),
        ({"allowed": "yes"}, 3),
        ({"object_type": "document"}, 1),
        ({"ip": "10.0.0.2"}, 2),
        ({"date_from": "2000-01-01", "date_to": "2000-01-31"}, 0),
    ],
)
def test_the_audit_log_filters(client, head, log, query, expected):
    client.force_login(head)
    assert _rows(client.get(reverse("access:audit_log"), query)) == expected


def test_the_audit_log_filters_by_user_client_and_today(client, head, other_manager, colleague_client, log):
    client.force_login(head)
    today = TODAY().isoformat()
    assert _rows(client.get(reverse("access:audit_log"), {"user": other_manager.pk})) == 2
    assert _rows(client.get(reverse("access:audit_log"), {"company": colleague_client.pk})) == 4
    assert _rows(client.get(reverse("access:audit_log"), {"date_from": today, "date_to": today})) == 5


def test_wrong_filters_are_named_and_list_nothing(client, head, log):
    client.force_login(head)
    response = client.get(
        reverse("access:audit_log"), {"ip": "10.0.0.999", "date_from": "2026-02-02", "date_to": "2026-02-01"}
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"ip", "date_to"}
    assert _rows(response) == 0


def test_the_csv_export_opens_in_russian_excel_and_is_itself_logged(client, head, other_manager, log):
    """D12: UTF-8 with a BOM, «;» between columns, Cyrillic intact, the page's filters, formulas escaped; the
    export is recorded (EXPORT_AUDIT) with the filters."""
    client.force_login(head)
    response = client.get(reverse("access:audit_export"), {"user": other_manager.pk}, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.strip().split("\r\n")
    assert lines[0].split(";")[:4] == ["Time", "User", "Login", "Action"]
    assert len(lines) == 3  # the header and the two lines of the user
    assert all(line.split(";")[1] == "Кузнецов Олег" for line in lines[1:])
    assert "Ромашка" in text and "no grant" in text
    event = AuditEvent.objects.get(action=AuditAction.EXPORT_AUDIT)
    assert (event.user_id, event.ip, event.detail) == (head.pk, "10.9.9.9", f"user={other_manager.pk}")

    everything = b"".join(client.get(reverse("access:audit_export")).streaming_content).decode("utf-8-sig")
    assert "'=cmd|" in everything and ";=cmd" not in everything


@pytest.mark.parametrize("who", ["manager", "other_manager", "finance"])
def test_only_the_head_and_the_administrator_export(client, request, log, who):
    client.force_login(request.getfixturevalue(who))
    before = AuditEvent.objects.count()
    assert client.get(reverse("access:audit_export")).status_code == 403
    assert AuditEvent.objects.count() == before


# Query counts ---------------------------------------------------------------------------------------------


def _more(head, n: int) -> None:
    for i in range(n):
        requester = cast(User, UserFactory(username=f"asker{i}", role=Role.MANAGER))
        company = company_factory(actor=head)
        ask(requester, company, doc=document(company))
        decided = ask(requester, company)
        services.access_request_refuse(actor=head, request=decided, comment="нет")
        access = grant(head, requester, company_factory(actor=head))
        audit_record(
            action=AuditAction.DOWNLOAD, allowed=True, rule=f"grant:{access.pk}", user=requester, obj=company
        )


@pytest.mark.parametrize(
    ("who", "name"),
    [
        ("head", "access:requests"),
        ("head", "access:grants"),
        ("head", "access:audit_log"),
        ("head", "access:my_requests"),
    ],
)
def test_the_lists_run_a_constant_number_of_queries(
    client, request, head, who, name, django_assert_max_num_queries
):
    _more(head, 1)
    client.force_login(request.getfixturevalue(who))
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse(name)).status_code == 200
    _more(head, 6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse(name)).status_code == 200


def test_my_requests_run_a_constant_number_of_queries(
    client, other_manager, head, django_assert_max_num_queries
):
    def mine(n: int) -> None:
        for _ in range(n):
            company = company_factory(actor=head)
            ask(other_manager, company, doc=document(company))
            services.access_request_approve(
                actor=head, request=ask(other_manager, company), expires_on=TODAY()
            )

    mine(1)
    client.force_login(other_manager)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("access:my_requests")).status_code == 200
    mine(5)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("access:my_requests")).status_code == 200


# The navbar -----------------------------------------------------------------------------------------------


def test_the_navbar_shows_the_head_the_pending_count_in_one_query(
    client, head, manager, other_manager, colleague_client
):
    ask(other_manager, colleague_client)
    client.force_login(head)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("access:my_requests")).content.decode()
    assert 'data-testid="nav-access"' in html
    assert (
        '<span class="badge bg-yellow text-yellow-fg badge-pill ms-2" data-testid="pending-access-requests"'
        in html
    )
    counting = [
        q["sql"]
        for q in queries.captured_queries
        if "access_accessrequest" in q["sql"] and "pending" in q["sql"]
    ]
    assert len(counting) == 1
    client.force_login(manager)
    html = client.get(reverse("access:my_requests")).content.decode()
    assert 'data-testid="nav-access"' not in html and 'data-testid="pending-access-requests"' not in html


@pytest.mark.parametrize(
    ("who", "shown"),
    [("head", True), ("admin_user", True), ("manager", False), ("senior_manager", False), ("finance", False)],
)
def test_the_access_menu_leads_whoever_restores_documents_to_the_trash(client, request, who, shown):
    """R4, D12: the head of sales reaches the documents trash from the Access menu, not only from a client's
    Documents tab; whoever may not restore documents has no such item."""
    user = request.getfixturevalue(who)
    client.force_login(user)
    html = client.get(reverse("access:my_requests")).content.decode()
    link = f'<a class="dropdown-item" href="{reverse("documents:trash")}" data-testid="nav-document-trash">'
    assert (link in html) is shown
    assert ("Document trash" in html) is shown
    if shown:
        assert client.get(reverse("documents:trash")).status_code == 200
        assert 'data-testid="nav-access"' in client.get(reverse("documents:trash")).content.decode()
