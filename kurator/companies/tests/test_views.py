"""The dossier's HTML pages: who sees and edits what, inline errors, history, search and query counts."""

from __future__ import annotations

import random
import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kurator.accounts.models import Role
from kurator.companies import services
from kurator.companies.models import BankAccount, Company, Contact, ContactSource, DecisionRole
from kurator.core.requisites import generate_settlement_account
from tests.factories import (
    SBERBANK_BIK,
    SBERBANK_CORR,
    bank_account_factory,
    company_factory,
    contact_factory,
)

pytestmark = pytest.mark.django_db


READ_PAGES = ("companies:detail", "companies:people", "companies:profile", "companies:history")
SBERBANK = {"inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195"}


def login(user) -> Client:
    # English msgids in assertions stay valid whatever the Russian translation says.
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text_of(response) -> str:
    return unescape(response.content.decode())


def field_errors(response, field: str) -> str:
    """The text of the inline error block rendered under a form field."""
    match = re.search(rf'id="id_{field}_errors">(.*?)</div>', response.content.decode(), re.S)
    return unescape(match.group(1)) if match else ""


@pytest.fixture
def dossier(manager):
    company = company_factory(actor=manager, full_name="ООО «Ромашка»", city="Тверь")
    boss = contact_factory(
        actor=manager,
        company=company,
        full_name="Сидоров Пётр Ильич",
        decision_role=DecisionRole.DECISION_MAKER,
        is_leader=True,
        phones="8 (495) 123-45-67",
    )
    contact_factory(
        actor=manager, company=company, full_name="Козлова Анна", reports_to=boss, position="Закупщик"
    )
    bank_account_factory(actor=manager, company=company)
    return company


# Openness and roles (R3, R4) ---


@pytest.mark.parametrize("role", list(Role))
def test_every_dossier_page_renders_for_every_role(role, users_by_role, dossier):
    """R3, D1, D2, D9, D11: every role reads the list and every tab of a colleague's dossier."""
    client = login(users_by_role[role])
    response = client.get(reverse("companies:list"))
    assert response.status_code == 200
    assert "ООО «Ромашка»" in text_of(response)
    for name in READ_PAGES:
        response = client.get(reverse(name, args=[dossier.pk]))
        assert response.status_code == 200, name
        assert "ООО «Ромашка»" in text_of(response)
    people = text_of(client.get(reverse("companies:people", args=[dossier.pk])))
    assert "Сидоров Пётр Ильич" in people and "Козлова Анна" in people


@pytest.mark.parametrize(
    ("role", "may_edit"),
    [
        (Role.MANAGER, True),  # the curator
        (Role.SENIOR_MANAGER, False),
        (Role.HEAD_OF_SALES, True),
        (Role.FINANCE, False),
        (Role.ADMIN, True),
    ],
)
def test_edit_pages_follow_the_policy(role, may_edit, users_by_role, dossier):
    """R2, R4: only the curator, the head of sales and the administrator open the edit forms; the others
    see the read-only note naming the curator."""
    client = login(users_by_role[role])
    contact = dossier.contacts.first()
    account = dossier.bank_accounts.first()
    urls = [
        reverse("companies:edit", args=[dossier.pk]),
        reverse("companies:contact_create", args=[dossier.pk]),
        reverse("companies:contact_edit", args=[dossier.pk, contact.pk]),
        reverse("companies:contact_delete", args=[dossier.pk, contact.pk]),
        reverse("companies:bank_account_create", args=[dossier.pk]),
        reverse("companies:bank_account_edit", args=[dossier.pk, account.pk]),
        reverse("companies:bank_account_delete", args=[dossier.pk, account.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == (200 if may_edit else 403), url
    page = text_of(client.get(reverse("companies:detail", args=[dossier.pk])))
    assert ("Read only — the curator is Петров Иван" in page) is not may_edit
    assert (reverse("companies:edit", args=[dossier.pk]) in page) is may_edit


@pytest.mark.parametrize(
    ("role", "create", "dictionaries", "curator"),
    [
        (Role.MANAGER, 200, 403, 403),
        (Role.SENIOR_MANAGER, 200, 403, 403),
        (Role.HEAD_OF_SALES, 200, 200, 200),
        (Role.FINANCE, 403, 403, 403),
        (Role.ADMIN, 200, 200, 200),
    ],
)
def test_create_dictionary_and_curator_pages_by_role(
    role, create, dictionaries, curator, users_by_role, dossier
):
    """R2, R4, S2: who may add companies, keep the dictionaries and hand clients to another curator."""
    client = login(users_by_role[role])
    assert client.get(reverse("companies:create")).status_code == create
    assert client.get(reverse("companies:dictionaries")).status_code == dictionaries
    for kind in services.DICTIONARIES:
        assert client.get(reverse("companies:dictionary", args=[kind])).status_code == dictionaries
    assert client.get(reverse("companies:curator", args=[dossier.pk])).status_code == curator
    nav = text_of(client.get(reverse("companies:list")))
    assert (reverse("companies:dictionaries") in nav) is (dictionaries == 200)


def test_anonymous_user_is_sent_to_login(dossier):
    """R4: nothing of the dossier is shown without a login."""
    response = Client().get(reverse("companies:detail", args=[dossier.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_unknown_company_is_404(manager):
    """R3: a missing dossier answers 404 with the Kurator page."""
    response = login(manager).get(reverse("companies:detail", args=[999999]))
    assert response.status_code == 404


def test_manager_cannot_edit_a_colleagues_client_and_nothing_changes(other_manager, dossier):
    """R2, R4: a manager who is not the curator gets 403 on every write, and the dossier stays as it was."""
    client = login(other_manager)
    before_version = dossier.version
    contact = dossier.contacts.first()
    account = dossier.bank_accounts.first()
    posts = {
        reverse("companies:edit", args=[dossier.pk]): {
            "full_name": "ООО «Захват»",
            "status": "client",
            "version": before_version,
        },
        reverse("companies:contact_create", args=[dossier.pk]): {
            "full_name": "Новый",
            "decision_role": "other",
        },
        reverse("companies:contact_edit", args=[dossier.pk, contact.pk]): {
            "full_name": "Переименован",
            "decision_role": "other",
        },
        reverse("companies:contact_delete", args=[dossier.pk, contact.pk]): {},
        reverse("companies:bank_account_delete", args=[dossier.pk, account.pk]): {},
        reverse("companies:curator", args=[dossier.pk]): {"curator": other_manager.pk, "reason": "хочу"},
    }
    for url, data in posts.items():
        assert client.post(url, data).status_code == 403, url
    dossier.refresh_from_db()
    assert dossier.full_name == "ООО «Ромашка»"
    assert dossier.version == before_version
    assert dossier.curator.username == "manager"
    assert Contact.objects.filter(company=dossier).count() == 2
    assert not Contact.objects.filter(full_name__in=["Новый", "Переименован"]).exists()
    assert BankAccount.objects.filter(company=dossier).count() == 1


# Forms and inline errors (D1) ---


def test_wrong_inn_rerenders_the_form_with_the_message_under_inn_and_creates_nothing(manager):
    """D1: a one-digit mutation of Sberbank's INN is refused with the reason shown under the INN field."""
    response = login(manager).post(
        reverse("companies:create"),
        {"full_name": "ПАО Сбербанк", "status": "prospect", "inn": "7707083894", "kpp": SBERBANK["kpp"]},
    )
    assert response.status_code == 200
    message = field_errors(response, "inn")
    assert "INN checksum does not match" in message
    assert 'name="inn" value="7707083894"' in response.content.decode()
    assert 'class="form-control is-invalid"' in response.content.decode()
    assert Company.objects.count() == 0


def test_creating_a_company_redirects_to_its_dossier_with_the_creator_as_curator(manager):
    """D1, R2: a valid company is created through the service, its creator is the curator."""
    client = login(manager)
    response = client.post(
        reverse("companies:create"),
        {
            "full_name": "ПАО Сбербанк",
            "status": "client",
            **SBERBANK,
            "city": "Москва",
            "phones": "8 (495) 500-55-50\n+7 495 500 55 51",
            "emails": "info@sberbank.ru, press@sberbank.ru",
        },
        follow=True,
    )
    company = Company.objects.get()
    assert response.redirect_chain[-1][0] == reverse("companies:detail", args=[company.pk])
    assert company.curator == manager
    assert company.phones == ["+74955005550", "+74955005551"]
    assert company.emails == ["info@sberbank.ru", "press@sberbank.ru"]
    page = text_of(response)
    assert "ПАО Сбербанк" in page and "alert-success" in page


def test_a_manager_gets_no_curator_field_and_the_head_may_choose_the_curator(manager, head, other_manager):
    """R2: the curator field is offered only to the head of sales, who may give a new client to anyone."""
    assert 'name="curator"' not in login(manager).get(reverse("companies:create")).content.decode()
    client = login(head)
    assert 'name="curator"' in client.get(reverse("companies:create")).content.decode()
    response = client.post(
        reverse("companies:create"),
        {"full_name": "ПАО Сбербанк", "status": "prospect", **SBERBANK, "curator": other_manager.pk},
    )
    assert response.status_code == 302
    assert Company.objects.get().curator == other_manager


def test_edit_conflict_is_reported_and_nothing_is_overwritten(manager, head, dossier):
    """D11: an edit made on a stale copy is refused with a clear message instead of overwriting."""
    client = login(manager)
    stale_version = dossier.version
    services.company_update(actor=head, company=dossier, city="Казань")
    response = client.post(
        reverse("companies:edit", args=[dossier.pk]),
        {"full_name": "ООО «Ромашка»", "status": "client", "city": "Тверь", "version": stale_version},
    )
    assert response.status_code == 200
    assert "Someone else changed this record" in text_of(response)
    dossier.refresh_from_db()
    assert dossier.city == "Казань"


def test_editing_the_dossier_saves_and_shows_in_history(manager, dossier):
    """D1, D11: the curator edits the dossier; the History tab shows who changed what, old → new."""
    client = login(manager)
    form = client.get(reverse("companies:edit", args=[dossier.pk]))
    assert 'value="Тверь"' in form.content.decode()
    response = client.post(
        reverse("companies:edit", args=[dossier.pk]),
        {
            "full_name": "ООО «Ромашка»",
            "status": "client",
            "city": "Тверь",
            "website": "romashka.ru",
            "inn": dossier.inn,
            "kpp": dossier.kpp,
            "ogrn": dossier.ogrn,
            "version": dossier.version,
        },
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.status == "client" and dossier.website == "https://romashka.ru"
    history = text_of(client.get(reverse("companies:history", args=[dossier.pk])))
    assert "https://romashka.ru" in history
    assert "Петров Иван" in history


def test_head_changes_the_curator_with_a_reason_and_history_shows_it(head, other_manager, dossier):
    """R2, D11: the head of sales hands the client to another curator; the History tab shows the reason."""
    client = login(head)
    response = client.post(
        reverse("companies:curator", args=[dossier.pk]),
        {"curator": other_manager.pk, "reason": "Перераспределение по регионам"},
    )
    assert response.status_code == 302
    dossier.refresh_from_db()
    assert dossier.curator == other_manager
    history = text_of(client.get(reverse("companies:history", args=[dossier.pk])))
    assert "Перераспределение по регионам" in history
    assert "Кузнецов Олег" in history and "Петров Иван" in history


def test_choosing_the_same_curator_is_refused(head, manager, dossier):
    """R2: "changing" the curator to the same person is an input error, not a silent no-op."""
    response = login(head).post(
        reverse("companies:curator", args=[dossier.pk]), {"curator": manager.pk, "reason": "—"}
    )
    assert response.status_code == 200
    assert field_errors(response, "curator")


def test_person_is_added_under_a_boss_and_shown_in_the_tree(manager, dossier):
    """D2: a person added with reports-to appears nested under the boss in the org tree."""
    client = login(manager)
    boss = Contact.objects.get(full_name="Сидоров Пётр Ильич")
    response = client.post(
        reverse("companies:contact_create", args=[dossier.pk]),
        {
            "full_name": "Иванов Иван",
            "decision_role": "influencer",
            "reports_to": boss.pk,
            "is_active": "on",
            "birthday": "1980-05-17",
            "emails": "ivanov@romashka.ru",
        },
    )
    assert response.status_code == 302
    person = Contact.objects.get(full_name="Иванов Иван")
    assert person.reports_to == boss and str(person.birthday) == "1980-05-17"
    page = client.get(reverse("companies:people", args=[dossier.pk])).content.decode()
    page = page[page.index('class="org-tree"') :]
    boss_at, person_at = page.index("Сидоров Пётр Ильич"), page.index("Иванов Иван")
    assert boss_at < person_at
    assert "<ul>" in page[boss_at:person_at]  # nested one level below the boss


def test_reports_to_offers_only_people_of_the_same_company(manager, dossier):
    """D2: a person cannot report to someone of another company; the form refuses and writes nothing."""
    other = company_factory(actor=manager, full_name="ООО «Чужая»")
    stranger = contact_factory(actor=manager, company=other, full_name="Чужой Человек")
    client = login(manager)
    form = client.get(reverse("companies:contact_create", args=[dossier.pk])).content.decode()
    assert "Чужой Человек" not in form
    response = client.post(
        reverse("companies:contact_create", args=[dossier.pk]),
        {"full_name": "Новый", "decision_role": "other", "reports_to": stranger.pk},
    )
    assert response.status_code == 200
    assert field_errors(response, "reports_to")
    assert not Contact.objects.filter(full_name="Новый").exists()


def test_person_with_a_bad_phone_shows_the_error_under_phones(manager, dossier):
    """D2: a wrong phone is refused with the reason under the phones field."""
    response = login(manager).post(
        reverse("companies:contact_create", args=[dossier.pk]),
        {"full_name": "Новый", "decision_role": "other", "phones": "12"},
    )
    assert response.status_code == 200
    assert "12" in field_errors(response, "phones")
    assert not Contact.objects.filter(full_name="Новый").exists()


def test_person_is_edited_and_deleted(manager, dossier):
    """D2, D11: the curator edits and removes a person; both are kept in the history."""
    client = login(manager)
    person = Contact.objects.get(full_name="Козлова Анна")
    response = client.post(
        reverse("companies:contact_edit", args=[dossier.pk, person.pk]),
        {"full_name": "Козлова Анна Сергеевна", "decision_role": "user", "is_active": "on"},
    )
    assert response.status_code == 302
    assert Contact.objects.get(pk=person.pk).full_name == "Козлова Анна Сергеевна"
    assert client.post(reverse("companies:contact_delete", args=[dossier.pk, person.pk])).status_code == 302
    assert not Contact.objects.filter(pk=person.pk).exists()
    history = text_of(client.get(reverse("companies:history", args=[dossier.pk])))
    assert "Козлова Анна Сергеевна" in history


def test_bank_account_add_with_bad_key_then_valid_then_primary_switch_and_delete(manager, dossier):
    """D1: accounts are checked with the BIK; the new primary demotes the old; deleting keeps one primary."""
    client = login(manager)
    url = reverse("companies:bank_account_create", args=[dossier.pk])
    bad = client.post(url, {"bik": SBERBANK_BIK, "settlement_account": "40702810000000000000"})
    assert bad.status_code == 200
    assert field_errors(bad, "settlement_account")
    assert BankAccount.objects.filter(company=dossier).count() == 1
    first = BankAccount.objects.get(company=dossier)
    duplicate = client.post(
        url,
        {
            "bik": SBERBANK_BIK,
            "settlement_account": first.settlement_account,
            "correspondent_account": SBERBANK_CORR,
        },
    )
    # The same account again is a duplicate: refused under the account field.
    assert duplicate.status_code == 200 and field_errors(duplicate, "settlement_account")
    number = generate_settlement_account(random.Random(7), SBERBANK_BIK)
    response = client.post(
        url,
        {
            "bik": SBERBANK_BIK,
            "settlement_account": number,
            "correspondent_account": SBERBANK_CORR,
            "bank_name": "ПАО Сбербанк",
            "is_primary": "on",
        },
    )
    assert response.status_code == 302
    new = BankAccount.objects.get(settlement_account=number)
    assert new.is_primary and not BankAccount.objects.get(pk=first.pk).is_primary
    page = text_of(client.get(reverse("companies:detail", args=[dossier.pk])))
    assert number in page
    assert client.post(reverse("companies:bank_account_delete", args=[dossier.pk, new.pk])).status_code == 302
    assert BankAccount.objects.get(pk=first.pk).is_primary


# Dossier header: completeness and freshness (D11) ---


def test_dossier_header_lists_what_is_missing_and_section_freshness(manager, dossier):
    """D11: the header shows the completeness, the missing checklist items and each section's freshness."""
    page = text_of(login(manager).get(reverse("companies:detail", args=[dossier.pk])))
    assert "Missing:" in page and "application sphere" in page
    assert "Updated: just now" in page
    # A section never filled in a dossier older than the staleness limit is shown as stale.
    Company.objects.filter(pk=dossier.pk).update(
        profile_updated_at=None, created_at=timezone.now() - timedelta(days=365)
    )
    page = text_of(login(manager).get(reverse("companies:profile", args=[dossier.pk])))
    assert "Not updated yet" in page and "stale" in page


# The list: search, filters, htmx, query counts (R3) ---


def test_cyrillic_search_finds_the_company_on_the_page(manager):
    """R3, D1: «газ» finds «Газпром» case-insensitively, with a plain GET (no JavaScript needed)."""
    company_factory(actor=manager, full_name="ПАО «Газпром»")
    company_factory(actor=manager, full_name="ООО «Ромашка»")
    response = login(manager).get(reverse("companies:list"), {"q": "газ"})
    page = text_of(response)
    assert "ПАО «Газпром»" in page
    assert "ООО «Ромашка»" not in page
    assert "<html" in page  # a whole page for a plain request


def test_search_by_inn_and_by_phone(manager):
    """D1: the list finds a company by its INN and by a phone in any Russian spelling."""
    company_factory(actor=manager, full_name="ПАО Сбербанк", **SBERBANK, phones="8 (495) 500-55-50")
    company_factory(actor=manager, full_name="ООО «Ромашка»")
    client = login(manager)
    for query in ("7707083893", "+7 495 500 55 50", "84955005550"):
        page = text_of(client.get(reverse("companies:list"), {"q": query}))
        assert "ПАО Сбербанк" in page and "ООО «Ромашка»" not in page, query


def test_htmx_request_gets_the_table_alone(manager):
    """R3: as-you-type search swaps only the results; the page varies on HX-Request for caches."""
    company_factory(actor=manager, full_name="ПАО «Газпром»")
    response = login(manager).get(reverse("companies:list"), {"q": "газ"}, headers={"HX-Request": "true"})
    page = text_of(response)
    assert "<html" not in page
    assert "ПАО «Газпром»" in page
    assert 'hx-swap-oob="true"' in page
    assert "HX-Request" in response["Vary"]


def test_filters_and_sort(manager, other_manager, head):
    """R2, S2: filters by curator, status, source and city; sort by completeness."""
    source = ContactSource.objects.create(name="Выставка")
    company_factory(actor=manager, full_name="ООО «Альфа»", city="Тверь", source=source)
    company_factory(actor=other_manager, full_name="ООО «Бета»", city="Казань")
    client = login(head)
    cases = [
        ({"curator": other_manager.pk}, "ООО «Бета»", "ООО «Альфа»"),
        ({"city": "Тверь"}, "ООО «Альфа»", "ООО «Бета»"),
        ({"source": source.pk}, "ООО «Альфа»", "ООО «Бета»"),
        ({"status": "prospect", "curator": manager.pk}, "ООО «Альфа»", "ООО «Бета»"),
    ]
    for params, shown, hidden in cases:
        page = text_of(client.get(reverse("companies:list"), params))
        assert shown in page and hidden not in page, params
    page = text_of(client.get(reverse("companies:list"), {"sort": "-name"}))
    assert page.index("ООО «Бета»") < page.index("ООО «Альфа»")
    # Bad values in a shared link do not break the page (test_company_list_page says what it shows).
    assert (
        client.get(reverse("companies:list"), {"curator": "x", "sort": "nope", "page": "9"}).status_code
        == 200
    )


def test_pagination_splits_the_list(manager):
    """R3: 25 rows a page by default, with links to the next page."""
    for n in range(27):
        company_factory(actor=manager, full_name=f"ООО «Компания {n:02d}»")
    client = login(manager)
    first = text_of(client.get(reverse("companies:list")))
    assert "ООО «Компания 24»" in first and "ООО «Компания 25»" not in first
    second = text_of(client.get(reverse("companies:list"), {"page": 2}))
    assert "ООО «Компания 25»" in second and "ООО «Компания 00»" not in second


def _count_queries(client: Client, url: str, params: dict) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "params",
    [{}, {"q": "тест"}, {"status": "prospect", "city": "Москва"}],
    ids=["list", "search", "filtered"],
)
def test_list_runs_the_same_number_of_queries_for_10_and_50_rows(params, manager, other_manager):
    """R3: the list page costs a constant number of queries whatever its length (plain, search, filters)."""
    client = login(manager)
    url = reverse("companies:list")
    params = {**params, "per_page": 50}
    for n in range(10):
        company_factory(actor=manager if n % 2 else other_manager, full_name=f"ООО «Тестовая {n}»")
    client.get(url, params)  # warm the session and the city suggestions
    with_10 = _count_queries(client, url, params)
    for n in range(10, 50):
        company_factory(actor=manager if n % 2 else other_manager, full_name=f"ООО «Тестовая {n}»")
    assert text_of(client.get(url, params)).count("ООО «Тестовая ") == 50
    with_50 = _count_queries(client, url, params)
    assert with_10 == with_50


def test_dossier_pages_run_a_constant_number_of_queries(manager):
    """D2, D11: the dossier tabs do not query per person or per bank account."""
    company = company_factory(actor=manager, full_name="ООО «Ромашка»")
    boss = contact_factory(actor=manager, company=company, full_name="Босс")
    bank_account_factory(actor=manager, company=company)
    client = login(manager)
    client.get(reverse("companies:detail", args=[company.pk]))
    small = {name: _count_queries(client, reverse(name, args=[company.pk]), {}) for name in READ_PAGES[:3]}
    for n in range(6):
        contact_factory(
            actor=manager,
            company=company,
            full_name=f"Сотрудник {n}",
            reports_to=boss,
            phones=f"8 495 123-45-6{n}",
            decision_role=DecisionRole.INFLUENCER,
        )
        bank_account_factory(actor=manager, company=company)
    large = {name: _count_queries(client, reverse(name, args=[company.pk]), {}) for name in READ_PAGES[:3]}
    assert small == large


# Dictionaries (S2, D9) ---


def test_head_adds_renames_and_deactivates_dictionary_entries(head):
    """S2, D9: the head of sales keeps the sources (with sub-sources and the recommendation flag)."""
    client = login(head)
    url = reverse("companies:dictionary", args=["sources"])
    assert client.post(url, {"name": "Партнёры", "position": 1, "is_active": "on"}).status_code == 302
    parent = ContactSource.objects.get(name="Партнёры", parent=None)
    assert (
        client.post(
            url, {"name": "Яндекс", "parent": parent.pk, "position": 0, "is_active": "on"}
        ).status_code
        == 302
    )
    child = ContactSource.objects.get(name="Яндекс")
    assert child.parent == parent
    duplicate = client.post(url, {"name": "Интернет", "position": 0, "is_active": "on"})  # seeded
    assert duplicate.status_code == 200 and field_errors(duplicate, "name")
    item_url = reverse("companies:dictionary_item", args=["sources", child.pk])
    response = client.post(
        item_url,
        {
            "name": "Яндекс.Директ",
            "parent": parent.pk,
            "position": 2,
            "is_active": "on",
            "is_recommendation": "",
        },
    )
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.name == "Яндекс.Директ" and child.position == 2 and child.parent == parent
    assert client.post(item_url, {"toggle": "1"}).status_code == 302
    child.refresh_from_db()
    assert not child.is_active and child.parent == parent
    page = text_of(client.get(url))
    assert "Яндекс.Директ" in page and "Партнёры" in page
    categories = reverse("companies:dictionary", args=["categories"])
    assert client.post(categories, {"name": "Трубы", "position": 0, "is_active": "on"}).status_code == 302


def test_manager_cannot_change_dictionaries(manager):
    """R4: a manager gets 403 and no entry is written."""
    response = login(manager).post(
        reverse("companies:dictionary", args=["sources"]), {"name": "Слухи", "position": 0, "is_active": "on"}
    )
    assert response.status_code == 403
    assert not ContactSource.objects.filter(name="Слухи").exists()


def test_unknown_dictionary_is_404(head):
    """S2: only the dictionaries of services.DICTIONARIES exist."""
    assert login(head).get(reverse("companies:dictionary", args=["nope"])).status_code == 404


def test_recommending_client_is_given_by_inn(manager):
    """S2: a company from a recommendation names the recommending client by its INN; an unknown INN is refused
    under the field and nothing is created."""
    referrer = company_factory(actor=manager, full_name="ПАО Сбербанк", **SBERBANK)
    client = login(manager)
    unknown = client.post(
        reverse("companies:create"),
        {"full_name": "ООО «Новичок»", "status": "prospect", "referred_by": "7736050003"},
    )
    assert unknown.status_code == 200
    assert "No client with INN 7736050003" in field_errors(unknown, "referred_by")
    assert not Company.objects.filter(full_name="ООО «Новичок»").exists()
    response = client.post(
        reverse("companies:create"),
        {"full_name": "ООО «Новичок»", "status": "prospect", "referred_by": "7707 083 893"},
    )
    assert response.status_code == 302
    company = Company.objects.get(full_name="ООО «Новичок»")
    assert company.referred_by == referrer
    profile = text_of(client.get(reverse("companies:profile", args=[company.pk])))
    assert reverse("companies:detail", args=[referrer.pk]) in profile
