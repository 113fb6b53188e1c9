"""The «Users» pages (R2, R4, D12): the head of sales and the administrator see the department with each
person's workload, add and edit people, and deactivate someone who leaves — handing their work over in the
same step. Everyone else is refused; lists run a constant number of queries."""

from __future__ import annotations

from html import unescape
from typing import Any, cast

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from kurator.accounts.models import Role, User
from kurator.activities.services import task_create
from kurator.companies.models import Company
from kurator.inquiries.models import Inquiry
from kurator.sales.models import Deal
from kurator.sales.services import deal_create
from tests.factories import UserFactory, company_factory

pytestmark = pytest.mark.django_db

REASON = "Уволился"
STRONG = "Кактус-на-окне-2026"


def _user(**fields: Any) -> User:
    return cast(User, UserFactory(**fields))


def login(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def give_work(user: User, n: int = 1) -> list[Company]:
    companies = []
    for i in range(n):
        company = company_factory(actor=user, full_name=f"ООО «Работа {user.username} {i}»")
        deal_create(actor=user, company=company, title=f"Сделка {user.username} {i}")
        task_create(actor=user, title=f"Звонок {i}", assignee=user, due_at=timezone.now(), company=company)
        companies.append(company)
    return companies


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


URLS = ["users:list", "users:create", "users:detail", "users:edit", "users:password", "users:deactivate"]


@pytest.mark.parametrize("name", URLS)
@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.MANAGER, False),
        (Role.SENIOR_MANAGER, False),
        (Role.FINANCE, False),
        (Role.HEAD_OF_SALES, True),
        (Role.ADMIN, True),
    ],
)
def test_pages_are_for_the_head_of_sales_and_the_administrator(name, role, allowed, other_manager):
    """R4: user management is the head's and the administrator's; others get 403, strangers the login."""
    actor = _user(username=f"actor_{role}", role=role)
    args = [] if name in ("users:list", "users:create") else [other_manager.pk]
    url = reverse(name, args=args)
    assert login(actor).get(url).status_code == (200 if allowed else 403)
    response = Client().get(url)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_head_of_sales_may_not_edit_or_deactivate_an_administrator(head, admin_user):
    """R4: only an administrator manages administrators (the page shows the person, without actions)."""
    client = login(head)
    for name in ("users:edit", "users:password", "users:deactivate"):
        assert client.get(reverse(name, args=[admin_user.pk])).status_code == 403
    page = client.get(reverse("users:detail", args=[admin_user.pk]))
    assert page.status_code == 200
    assert reverse("users:deactivate", args=[admin_user.pk]) not in page.content.decode()
    response = client.post(reverse("users:deactivate", args=[admin_user.pk]), {"reason": REASON})
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_list_shows_role_status_and_workload_counts(head, manager, other_manager):
    """R2: each person with their clients, open deals and open tasks; former employees on request."""
    give_work(manager, 2)
    former = _user(username="former", role=Role.MANAGER, last_name="Бывший", is_active=False)
    client = login(head)
    page = client.get(reverse("users:list"))
    html = page.content.decode()
    row = html[html.index(f'data-testid="user-row-{manager.pk}"') :]
    row = row[: row.index("</tr>")]
    cells = [c.split("<", 1)[0] for c in row.split('<td class="text-end">')[1:4]]
    assert cells == ["2", "2", "2"]
    assert "Петров Иван" in html and f"user-row-{former.pk}" not in html
    html = client.get(reverse("users:list"), {"status": "inactive"}).content.decode()
    assert f"user-row-{former.pk}" in html and f"user-row-{manager.pk}" not in html
    html = client.get(reverse("users:list"), {"status": "all"}).content.decode()
    assert f"user-row-{former.pk}" in html and f"user-row-{manager.pk}" in html


def test_list_runs_a_constant_number_of_queries(head):
    """Every list page runs a constant number of queries, whatever the number of people and their work."""
    client = login(head)
    client.get(reverse("users:list"))  # warm caches (content types, sessions)

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("users:list"), {"status": "all"}).status_code == 200
        return len(captured)

    for i in range(2):
        give_work(_user(username=f"few{i}", role=Role.MANAGER))
    few = count()
    for i in range(6):
        give_work(_user(username=f"many{i}", role=Role.MANAGER), 2)
    _user(username="gone", role=Role.MANAGER, is_active=False)
    assert count() == few


def test_user_page_runs_a_constant_number_of_queries(head, manager):
    """The workload page reads each kind of work once, whatever its length."""
    client = login(head)
    url = reverse("users:detail", args=[manager.pk])
    give_work(manager, 1)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    give_work(manager, 5)
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)
    assert len(many) == len(few)
    assert page.content.decode().count(reverse("companies:detail", args=[1]).rsplit("1/", 1)[0]) >= 6


def test_the_head_adds_a_user_from_the_page(head):
    """R4: the department is managed without the shell; the new person signs in."""
    response = login(head).post(
        reverse("users:create"),
        {
            "username": "sidorov",
            "last_name": "Сидоров",
            "first_name": "Пётр",
            "patronymic": "",
            "role": Role.MANAGER,
            "email": "sidorov@example.ru",
            "phone": "",
            "password1": STRONG,
            "password2": STRONG,
        },
    )
    user = User.objects.get(username="sidorov")
    assert response.status_code == 302 and response["Location"] == reverse("users:detail", args=[user.pk])
    assert Client().login(username="sidorov", password=STRONG)


def test_a_bad_new_user_form_names_each_field_and_creates_nobody(head, manager):
    """R4: a taken sign-in name, a weak password and two different passwords are each said where they
    belong; the head of sales is not offered the administrator role."""
    client = login(head)
    form = client.get(reverse("users:create")).content.decode()
    assert 'value="admin"' not in form and 'value="head_of_sales"' in form
    count = User.objects.count()
    page = client.post(
        reverse("users:create"),
        {"username": "Manager", "role": Role.MANAGER, "password1": "12345678", "password2": "12345678"},
    )
    assert page.status_code == 200
    html = unescape(page.content.decode())
    assert "already exists" in html and "This password is too common." in html
    page = client.post(
        reverse("users:create"),
        {"username": "new", "role": Role.ADMIN, "password1": STRONG, "password2": STRONG + "x"},
    )
    html = unescape(page.content.decode())
    assert "The two passwords differ." in html and "Select a valid choice" in html
    assert User.objects.count() == count


def test_the_head_edits_a_user_and_sets_a_password(head, manager):
    """R4: names, contacts and role on one form; a new password on another."""
    client = login(head)
    response = client.post(
        reverse("users:edit", args=[manager.pk]),
        {
            "last_name": "Петров",
            "first_name": "Иван",
            "patronymic": "Сергеевич",
            "email": "petrov@example.ru",
            "phone": "8 916 123 45 67",
            "role": Role.SENIOR_MANAGER,
        },
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert (manager.patronymic, manager.phone, manager.role) == (
        "Сергеевич",
        "+79161234567",
        Role.SENIOR_MANAGER,
    )
    response = client.post(
        reverse("users:password", args=[manager.pk]), {"password1": STRONG, "password2": STRONG}
    )
    assert response.status_code == 302
    assert Client().login(username=manager.username, password=STRONG)


def test_a_role_change_that_would_orphan_clients_is_refused_on_the_form(head, manager):
    """R2: the error under the role says what the user still holds."""
    give_work(manager, 1)
    page = login(head).post(
        reverse("users:edit", args=[manager.pk]),
        {"last_name": "Петров", "first_name": "Иван", "role": Role.FINANCE},
    )
    assert page.status_code == 200
    assert "1 client, 1 open deal and 1 open task" in unescape(page.content.decode())
    manager.refresh_from_db()
    assert manager.role == Role.MANAGER


def test_deactivate_page_lists_the_work_linked_and_offers_curators_but_the_user(
    head, manager, other_manager, finance
):
    """R2: the page lists clients, deals, tasks and inquiries with links; the successor list holds active
    curators other than the leaver (not finance)."""
    company = give_work(manager, 1)[0]
    inquiry = Inquiry.objects.create(
        channel="email", received_at=timezone.now(), company=company, curator=manager, status="new"
    )
    html = login(head).get(reverse("users:deactivate", args=[manager.pk])).content.decode()
    deal = Deal.objects.get(company=company)
    for url in (
        reverse("companies:detail", args=[company.pk]),
        reverse("sales:detail", args=[deal.pk]),
        reverse("inquiries:detail", args=[inquiry.pk]),
    ):
        assert f'href="{url}"' in html
    assert "activities/tasks/" in html or "/tasks/" in html
    select = html[html.index('name="successor"') : html.index("</select>", html.index('name="successor"'))]
    assert f'value="{other_manager.pk}"' in select and f'value="{head.pk}"' in select
    assert f'value="{manager.pk}"' not in select and f'value="{finance.pk}"' not in select


def test_deactivating_without_a_successor_shows_what_remains_and_changes_nothing(head, manager):
    """R2, D12: the error lists the work with counts; the user stays active, the clients with them."""
    company = give_work(manager, 2)[0]
    page = login(head).post(reverse("users:deactivate", args=[manager.pk]), {"reason": REASON})
    assert page.status_code == 200
    html = unescape(page.content.decode())
    assert "still has 2 clients, 2 open deals and 2 open tasks" in html
    manager.refresh_from_db()
    company.refresh_from_db()
    assert manager.is_active and company.curator == manager


def test_handing_over_and_deactivating_in_one_step(head, manager, other_manager):
    """R2, R4, D12: one submit hands everything to the successor and deactivates; the user's page then
    shows no work, and reactivation brings the user back."""
    companies = give_work(manager, 2)
    client = login(head)
    response = client.post(
        reverse("users:deactivate", args=[manager.pk]), {"successor": other_manager.pk, "reason": REASON}
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert not manager.is_active
    assert {c.curator_id for c in Company.objects.filter(pk__in=[c.pk for c in companies])} == {
        other_manager.pk
    }
    page = client.get(response["Location"])
    html = unescape(page.content.decode())
    assert "Handed over: 2 clients, 2 open deals and 2 open tasks." in html and "No clients." in html
    response = client.post(reverse("users:reactivate", args=[manager.pk]))
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.is_active


def test_nobody_deactivates_themselves_on_the_page(head):
    """R4: the button is off on one's own page, and a forged POST is refused with a message."""
    client = login(head)
    html = client.get(reverse("users:deactivate", args=[head.pk])).content.decode()
    assert 'data-testid="confirm-deactivate" disabled' in html
    page = client.post(reverse("users:deactivate", args=[head.pk]), {"reason": REASON})
    assert "You cannot deactivate yourself" in unescape(page.content.decode())
    head.refresh_from_db()
    assert head.is_active


def test_reactivate_is_post_only(head, manager):
    assert login(head).get(reverse("users:reactivate", args=[manager.pk])).status_code == 405


def test_the_settings_menu_offers_users_to_the_head_only(head, manager):
    """R4: the entry is where the head of sales keeps the department's settings."""
    url = f'href="{reverse("users:list")}"'
    assert url in login(head).get(reverse("companies:list")).content.decode()
    assert url not in login(manager).get(reverse("companies:list")).content.decode()
