"""Merging duplicate companies: everything moves to the survivor, nothing is lost, old ids resolve (R2, D11,
D12), on the service, the API and the dossier pages."""

from __future__ import annotations

import random
from html import unescape
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kurator.access.scoping import access_company_by_id, merged_survivor_id, visible_companies
from kurator.accounts.tests.factories import api_token_key
from kurator.activities.models import Notification
from kurator.companies import services
from kurator.companies.models import (
    BankAccount,
    Company,
    CompanyStatus,
    Contact,
    ContactSource,
    ProductCategory,
)
from kurator.companies.selectors import company_get, company_history, company_list
from kurator.core.errors import AccessDenied
from kurator.core.requisites import generate_settlement_account
from kurator.inquiries.models import Inquiry
from tests.factories import (
    SBERBANK_BIK,
    SBERBANK_CORR,
    bank_account_factory,
    company_factory,
    contact_factory,
)

pytestmark = pytest.mark.django_db

SBERBANK = {"inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195"}


def make_inquiry(
    *, company: Company | None, curator: Any = None, status: str = "new", **fields: Any
) -> Inquiry:
    return Inquiry.objects.create(
        channel=fields.pop("channel", "phone"),
        received_at=fields.pop("received_at", timezone.now()),
        company=company,
        curator=curator,
        status=status,
        company_name=company.short_name if company else "",
        **fields,
    )


def history_ids() -> dict[str, set[int]]:
    """Every history row of the dossier and the inquiries, by table."""
    return {
        "company": set(Company.history.values_list("history_id", flat=True)),
        "contact": set(Contact.history.values_list("history_id", flat=True)),
        "bank_account": set(BankAccount.history.values_list("history_id", flat=True)),
        "inquiry": set(Inquiry.history.values_list("history_id", flat=True)),
    }


def snapshot() -> tuple[Any, ...]:
    """Everything a merge could touch."""
    return (
        list(Company.objects.order_by("pk").values()),
        list(Company.product_categories.through.objects.order_by("pk").values()),
        list(BankAccount.objects.order_by("pk").values()),
        list(Contact.objects.order_by("pk").values()),
        list(Inquiry.objects.order_by("pk").values()),
        {k: len(v) for k, v in history_ids().items()},
        Notification.objects.count(),
    )


@pytest.fixture
def pair(manager, other_manager, head) -> dict[str, Any]:
    """A survivor curated by ``manager`` and its duplicate curated by ``other_manager``, each with people,
    bank accounts and inquiries, the duplicate with what the survivor lacks."""
    categories = [ProductCategory.objects.create(name=n) for n in ("Трубы", "Фитинги", "Краны")]
    source = ContactSource.objects.create(name="Выставка")
    # Straight through the service: the factory would give it an INN.
    survivor = services.company_create(
        actor=manager,
        full_name="ООО «Ромашка»",
        city="Москва",
        phones=["+7 495 111-22-33"],
        emails=["info@romashka.ru"],
        product_categories=[categories[0].pk],
    )
    duplicate = company_factory(
        actor=other_manager,
        full_name="ООО «Ромашка»",
        short_name="Ромашка (дубль)",
        phones=["+7 495 111-22-33", "+7 812 444-55-66"],
        emails=["sales@romashka.ru"],
        legal_address="Москва, ул. Ленина, 1",
        website="romashka.ru",
        source=source,
        status=CompanyStatus.CLIENT,
        product_categories=[categories[1].pk, categories[2].pk],
        notes="Любят скидки",
        **SBERBANK,
    )
    boss = contact_factory(
        actor=manager, company=survivor, full_name="Иванов Иван", decision_role="decision_maker"
    )
    their_boss = contact_factory(actor=other_manager, company=duplicate, full_name="Петров Пётр")
    their_clerk = contact_factory(
        actor=other_manager, company=duplicate, full_name="Сидорова Анна", reports_to=their_boss
    )
    rng = random.Random(11)
    primary = bank_account_factory(actor=manager, company=survivor)
    their_primary = bank_account_factory(
        actor=other_manager,
        company=duplicate,
        settlement_account=generate_settlement_account(rng, SBERBANK_BIK),
    )
    their_second = bank_account_factory(
        actor=other_manager,
        company=duplicate,
        settlement_account=generate_settlement_account(rng, SBERBANK_BIK),
    )
    referred = company_factory(
        actor=other_manager, full_name="ООО «Клиент по рекомендации»", referred_by=duplicate
    )
    return {
        "survivor": survivor,
        "duplicate": duplicate,
        "categories": categories,
        "source": source,
        "boss": boss,
        "their_boss": their_boss,
        "their_clerk": their_clerk,
        "primary": primary,
        "their_primary": their_primary,
        "their_second": their_second,
        "referred": referred,
        "open_inquiry": make_inquiry(company=duplicate, curator=other_manager, status="taken"),
        "closed_inquiry": make_inquiry(company=duplicate, curator=other_manager, status="rejected"),
        "referred_inquiry": make_inquiry(company=None, referred_by=duplicate),
        "own_inquiry": make_inquiry(company=survivor, curator=manager),
    }


def merge(head, pair, reason: str = "Одна и та же фирма") -> Company:
    return services.company_merge(
        actor=head, survivor=pair["survivor"], duplicate=pair["duplicate"], reason=reason
    )


# The service ---------------------------------------------------------------------------------------------


def test_merge_moves_every_record_and_loses_nothing(head, pair):
    """D12, R2: people, bank accounts, inquiries and history are all there after a merge: nothing is ever
    lost (the same counts before and after, every history row still present)."""
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    people, accounts, inquiries = (
        Contact.objects.count(),
        BankAccount.objects.count(),
        Inquiry.objects.count(),
    )
    companies = Company.objects.count()
    history_before = history_ids()

    merge(head, pair)

    assert Contact.objects.count() == people
    assert BankAccount.objects.count() == accounts
    assert Inquiry.objects.count() == inquiries
    assert Company.objects.count() == companies  # the duplicate keeps its row
    history_after = history_ids()
    for table, rows in history_before.items():
        assert rows <= history_after[table], table
    assert not Contact.objects.filter(company=duplicate).exists()
    assert not BankAccount.objects.filter(company=duplicate).exists()
    assert not Inquiry.objects.filter(company=duplicate).exists()
    assert set(Contact.objects.filter(company=survivor).values_list("full_name", flat=True)) == {
        "Иванов Иван",
        "Петров Пётр",
        "Сидорова Анна",
    }
    # The org structure of the duplicate's people survives the move.
    pair["their_clerk"].refresh_from_db()
    assert pair["their_clerk"].reports_to == pair["their_boss"]
    assert Inquiry.objects.filter(company=survivor).count() == 3
    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor


def test_the_survivors_primary_account_stays_primary(head, pair):
    """D1, D12: the accounts move, and the survivor keeps exactly one primary account: its own."""
    merge(head, pair)
    accounts = BankAccount.objects.filter(company=pair["survivor"])
    assert accounts.count() == 3
    assert list(accounts.filter(is_primary=True)) == [pair["primary"]]


def test_an_account_both_dossiers_hold_is_kept_once(head, manager, other_manager):
    """D1, D12: the same account in both dossiers is kept once (the unique rule), with what only the
    duplicate's copy knew; the removed copy stays in the history."""
    survivor = company_factory(actor=manager, full_name="ООО «Альфа»")
    duplicate = company_factory(actor=other_manager, full_name="ООО «Альфа» (дубль)")
    number = generate_settlement_account(random.Random(5), SBERBANK_BIK)
    ours = bank_account_factory(
        actor=manager, company=survivor, settlement_account=number, correspondent_account="", bank_name=""
    )
    theirs = bank_account_factory(actor=other_manager, company=duplicate, settlement_account=number)
    services.company_merge(actor=head, survivor=survivor, duplicate=duplicate)
    ours.refresh_from_db()
    assert list(BankAccount.objects.filter(company=survivor)) == [ours]
    assert ours.is_primary
    assert (ours.bank_name, ours.correspondent_account) == ("ПАО Сбербанк", SBERBANK_CORR)
    assert BankAccount.history.filter(id=theirs.pk, history_type="-").exists()


def test_the_survivor_takes_what_it_lacked_and_unites_lists(head, pair):
    """D1, D9, S2: empty fields are filled from the duplicate; phones, e-mails and product categories are
    united; the INN moves to the survivor (the duplicate gives it up, its history keeps it); the status that
    is further along wins; derived fields are recomputed."""
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    completeness = survivor.completeness
    merge(head, pair)
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert (survivor.inn, survivor.kpp, survivor.ogrn) == (SBERBANK["inn"], SBERBANK["kpp"], SBERBANK["ogrn"])
    assert (duplicate.inn, duplicate.kpp) == ("", "")
    assert Company.history.filter(id=duplicate.pk, inn=SBERBANK["inn"]).exists()
    assert survivor.phones == ["+74951112233", "+78124445566"]
    assert survivor.emails == ["info@romashka.ru", "sales@romashka.ru"]
    assert set(survivor.product_categories.all()) == set(pair["categories"])
    assert survivor.legal_address == "Москва, ул. Ленина, 1"
    assert survivor.website == "https://romashka.ru"
    assert survivor.source == pair["source"]
    assert survivor.status == CompanyStatus.CLIENT
    assert survivor.notes == "Любят скидки"
    assert survivor.curator == pair["survivor"].curator  # the survivor's curator stays
    assert survivor.completeness > completeness
    assert "петров петр" in survivor.search_text
    assert survivor.people_updated_at is not None and survivor.requisites_updated_at is not None


def test_recommendations_follow_the_survivor(head, pair):
    """S2: clients and inquiries the duplicate recommended now name the survivor."""
    merge(head, pair)
    pair["referred"].refresh_from_db()
    pair["referred_inquiry"].refresh_from_db()
    assert pair["referred"].referred_by == pair["survivor"]
    assert pair["referred_inquiry"].referred_by == pair["survivor"]


def test_a_survivor_recommended_by_its_duplicate_takes_the_duplicates_recommender(head, manager):
    """S2: "recommended by itself" cannot be: the survivor inherits who recommended the duplicate."""
    loyal = company_factory(actor=manager, full_name="ООО «Верный клиент»")
    duplicate = company_factory(actor=manager, full_name="ООО «Дубль»", referred_by=loyal)
    survivor = company_factory(actor=manager, full_name="ООО «Основная»", referred_by=duplicate)
    services.company_merge(actor=head, survivor=survivor, duplicate=duplicate)
    survivor.refresh_from_db()
    assert survivor.referred_by == loyal


def test_open_inquiries_of_the_duplicate_go_to_the_survivors_curator(head, manager, other_manager, pair):
    """R2: one client, one curator: open inquiries of the duplicate go to the survivor's curator; closed ones
    keep who worked them."""
    merge(head, pair)
    pair["open_inquiry"].refresh_from_db()
    pair["closed_inquiry"].refresh_from_db()
    assert pair["open_inquiry"].curator == manager
    assert pair["closed_inquiry"].curator == other_manager
    record = pair["open_inquiry"].history.first()
    assert record.history_user == head and record.history_change_reason == "Одна и та же фирма"


def test_the_survivors_history_shows_the_duplicates_history(head, pair):
    """D11, D12: the survivor's History tab keeps the duplicate's whole story, the merge with its reason."""
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    before = {(e.object_type, e.object_id, e.when) for e in company_history(company=duplicate)}
    merge(head, pair)
    entries = company_history(company=survivor)
    seen = {(e.object_type, e.object_id, e.when) for e in entries}
    assert before <= seen
    merged = [e for e in entries if any(c.field == "merged_into" for c in e.changes)]
    assert len(merged) == 1
    assert merged[0].object_id == duplicate.pk
    assert merged[0].reason == "Одна и та же фирма"
    assert merged[0].user == head


def test_history_query_count_does_not_grow_with_merges(head, manager, pair):
    """D11: the History tab costs the same number of queries with one merged duplicate or two."""
    survivor = pair["survivor"]
    merge(head, pair)
    with CaptureQueriesContext(connection) as before:
        company_history(company=survivor)
    another = company_factory(actor=manager, full_name="ООО «Ромашка-3»")
    contact_factory(actor=manager, company=another)
    services.company_merge(actor=head, survivor=survivor, duplicate=another)
    with CaptureQueriesContext(connection) as after:
        company_history(company=survivor)
    assert len(after) == len(before)


def test_both_curators_are_notified_with_a_link(
    head, manager, other_manager, pair, django_capture_on_commit_callbacks
):
    """R2: the curators of both companies learn about the merge, with a link to the survivor's dossier."""
    with django_capture_on_commit_callbacks(execute=True):
        merge(head, pair)
    url = reverse("companies:detail", args=[pair["survivor"].pk])
    for curator in (manager, other_manager):
        notice = Notification.objects.get(recipient=curator)
        assert notice.url == url
        assert "Ромашка (дубль)" in notice.text and "Одна и та же фирма" in notice.text
    assert not Notification.objects.filter(recipient=head).exists()


def test_a_merged_company_drops_out_of_lists_but_its_id_resolves(head, manager, pair):
    """R2, D12: lists, search and counts skip the merged company; its old id leads to the survivor."""
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    merge(head, pair)
    assert duplicate not in visible_companies(manager)
    assert duplicate in visible_companies(manager, include_merged=True)
    assert "Ромашка (дубль)" not in [c.short_name for c in company_list(actor=manager, search="ромашка")]
    assert access_company_by_id(manager, duplicate.pk) == survivor
    assert company_get(actor=manager, company_id=duplicate.pk) == survivor
    assert merged_survivor_id(manager, duplicate.pk) == survivor.pk
    assert merged_survivor_id(manager, survivor.pk) is None
    with pytest.raises(Http404):
        access_company_by_id(None, duplicate.pk)


def test_merging_a_survivor_later_repoints_its_old_duplicates(head, manager, pair):
    """R2, D12: no chains: when the survivor is itself merged later, its duplicates point at the new survivor,
    and every old id still resolves in one step."""
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    merge(head, pair)
    final = company_factory(actor=manager, full_name="ООО «Ромашка Групп»")
    services.company_merge(actor=head, survivor=final, duplicate=survivor, reason="Головная компания")
    duplicate.refresh_from_db()
    survivor.refresh_from_db()
    assert duplicate.merged_into == final and survivor.merged_into == final
    assert access_company_by_id(manager, duplicate.pk) == final
    assert Contact.objects.filter(company=final).count() == 3
    labels = {e.object_id for e in company_history(company=final)}
    assert {duplicate.pk, survivor.pk, final.pk} <= labels


@pytest.mark.parametrize("case", ["itself", "into_merged", "merged_duplicate"])
def test_impossible_merges_are_refused_and_write_nothing(head, manager, pair, case):
    """R2, D12: a company is not merged into itself, into a merged company, nor merged twice; nothing is
    written."""
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    if case != "itself":
        merge(head, pair)
    third = company_factory(actor=manager, full_name="ООО «Третья»")
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        if case == "itself":
            services.company_merge(actor=head, survivor=survivor, duplicate=survivor)
        elif case == "into_merged":
            services.company_merge(actor=head, survivor=duplicate, duplicate=third)
        else:
            services.company_merge(actor=head, survivor=third, duplicate=duplicate)
    codes = {e.code for errors in error.value.error_dict.values() for e in errors}
    assert codes & {"same_company", "survivor_merged", "already_merged"}
    assert snapshot() == before


@pytest.mark.parametrize("role", ["manager", "senior_manager", "finance"])
def test_only_the_head_of_sales_merges(request, pair, role):
    """R2, R4: a manager, a senior manager or finance cannot merge (AccessDenied); nothing is written."""
    actor = request.getfixturevalue(role)
    before = snapshot()
    with pytest.raises(AccessDenied):
        services.company_merge(actor=actor, survivor=pair["survivor"], duplicate=pair["duplicate"])
    assert snapshot() == before


def test_the_administrator_merges_too(admin_user, pair):
    """R2, R4: the administrator stands in for the head of sales."""
    services.company_merge(actor=admin_user, survivor=pair["survivor"], duplicate=pair["duplicate"])
    pair["duplicate"].refresh_from_db()
    assert pair["duplicate"].merged_into == pair["survivor"]


def test_a_too_long_reason_is_refused(head, pair):
    """D11: the history keeps 100 characters of reason; a longer one is refused naming `reason`."""
    before = snapshot()
    with pytest.raises(ValidationError) as error:
        merge(head, pair, reason="x" * 101)
    assert list(error.value.error_dict) == ["reason"]
    assert snapshot() == before


def test_the_survivor_keeps_its_own_inn_and_the_duplicate_keeps_a_different_one(head, manager, other_manager):
    """D1, D12: requisites are never overwritten: a survivor with an INN keeps it; the duplicate keeps its
    own different INN in its row."""
    survivor = company_factory(actor=manager, full_name="ООО «Бета»")
    duplicate = company_factory(actor=other_manager, full_name="ООО «Бета»", **SBERBANK)
    own_inn = survivor.inn
    services.company_merge(actor=head, survivor=survivor, duplicate=duplicate)
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert survivor.inn == own_inn
    assert duplicate.inn == SBERBANK["inn"]


def test_a_requisite_that_contradicts_the_survivor_is_left_with_the_duplicate(head, manager, other_manager):
    """D1, D12: a sole trader survivor does not take an organisation's INN; the merge still happens and the
    duplicate's row keeps the INN."""
    survivor = services.company_create(actor=manager, full_name="ИП Иванов Иван Иванович")
    assert survivor.legal_form == "ИП"
    duplicate = company_factory(actor=other_manager, full_name="ООО «Иванов»", **SBERBANK)
    services.company_merge(actor=head, survivor=survivor, duplicate=duplicate)
    survivor.refresh_from_db()
    duplicate.refresh_from_db()
    assert survivor.inn == "" and duplicate.inn == SBERBANK["inn"]
    assert duplicate.merged_into == survivor


def test_merge_preview_counts_what_will_move(head, pair):
    """D12: the confirm page shows exactly what the merge then moves."""
    from kurator.companies.selectors import company_merge_preview

    preview = company_merge_preview(actor=head, survivor=pair["survivor"], duplicate=pair["duplicate"])
    assert (preview.people, preview.bank_accounts, preview.inquiries) == (2, 2, 2)
    assert preview.open_inquiries == 1
    assert preview.referrals == 2
    assert preview.history_records >= 5
    assert {c.field for c in preview.fills} >= {"inn", "phones", "emails", "product_categories", "source"}
    assert preview.problems == []


# The API -------------------------------------------------------------------------------------------------


def api_client(user) -> APIClient:
    client = APIClient(headers={"Accept-Language": "en"})
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(user)}")
    return client


ROLES = ["manager", "other_manager", "senior_manager", "head", "finance", "admin_user", None]
MERGERS = {"head", "admin_user"}


@pytest.mark.parametrize("role", ROLES)
def test_merge_endpoint_by_role(request, pair, role):
    """R2, R4: POST /api/v1/companies/{id}/merge/ — the head of sales and the administrator merge (200 with
    the survivor); the curators, other sellers and finance get 403, anonymous 401; refusals write nothing."""
    user = request.getfixturevalue(role) if role else None
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    before = snapshot()
    response = api_client(user).post(
        f"/api/v1/companies/{survivor.pk}/merge/",
        {"duplicate": duplicate.pk, "reason": "Дубль"},
        format="json",
    )
    if role in MERGERS:
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["id"] == survivor.pk
        assert body["inn"] == SBERBANK["inn"]
        assert "+78124445566" in body["phones"]
    else:
        assert response.status_code == (401 if user is None else 403)
        assert snapshot() == before


def test_merge_endpoint_validation(head, pair):
    """R2: bad input is a 400 naming the field, and writes nothing."""
    client = api_client(head)
    survivor = pair["survivor"]
    before = snapshot()
    for payload, field in (
        ({}, "duplicate"),
        ({"duplicate": "x"}, "duplicate"),
        ({"duplicate": 987654}, "duplicate"),
        ({"duplicate": survivor.pk}, "duplicate"),
        ({"duplicate": pair["duplicate"].pk, "reason": "x" * 101}, "reason"),
    ):
        response = client.post(f"/api/v1/companies/{survivor.pk}/merge/", payload, format="json")
        assert response.status_code == 400, (payload, response.content)
        assert field in response.json(), response.json()
    assert snapshot() == before


def test_an_old_id_answers_with_a_redirect_to_the_survivor(head, finance, pair):
    """R2, D12: GET /api/v1/companies/{old id}/ answers 301 with the survivor's URL (its history too); a write
    to an old id answers 308 to the survivor and writes nothing at the old id."""
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    merge(head, pair)
    client = api_client(finance)
    response = client.get(f"/api/v1/companies/{duplicate.pk}/")
    assert response.status_code == 301
    assert response["Location"].endswith(f"/api/v1/companies/{survivor.pk}/")
    assert response.json()["merged_into"] == survivor.pk
    assert client.get(response["Location"]).json()["id"] == survivor.pk
    response = client.get(f"/api/v1/companies/{duplicate.pk}/history/?page=1")
    assert response.status_code == 301
    assert response["Location"].endswith(f"/api/v1/companies/{survivor.pk}/history/?page=1")
    before = snapshot()
    response = api_client(head).patch(f"/api/v1/companies/{duplicate.pk}/", {"city": "Тверь"}, format="json")
    assert response.status_code == 308
    assert response["Location"].endswith(f"/api/v1/companies/{survivor.pk}/")
    assert snapshot() == before
    # Lists skip it; records created with the old id land on the survivor.
    ids = [c["id"] for c in client.get("/api/v1/companies/?page_size=200").json()["results"]]
    assert duplicate.pk not in ids and survivor.pk in ids
    response = api_client(head).post(
        "/api/v1/contacts/", {"company": duplicate.pk, "full_name": "Новый Сотрудник"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["company"] == survivor.pk


# The pages -----------------------------------------------------------------------------------------------


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_the_dossier_of_a_merged_company_redirects_to_the_survivor(head, manager, pair):
    """R2, D12: every page of the old id redirects (302) to the same page of the survivor, with a message."""
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    merge(head, pair)
    client = login(manager)
    for name in ("companies:detail", "companies:people", "companies:history", "companies:profile"):
        response = client.get(reverse(name, args=[duplicate.pk]))
        assert response.status_code == 302
        assert response["Location"] == reverse(name, args=[survivor.pk])
    response = client.get(reverse("companies:detail", args=[duplicate.pk]), follow=True)
    page = unescape(response.content.decode())
    assert "Ромашка (дубль) was merged into this company" in page
    contact = pair["their_boss"]
    url = reverse("companies:contact_edit", args=[duplicate.pk, contact.pk])
    response = client.get(url)
    assert response["Location"] == reverse("companies:contact_edit", args=[survivor.pk, contact.pk])
    before = snapshot()
    response = login(head).post(reverse("companies:edit", args=[duplicate.pk]), {"full_name": "Перезапись"})
    assert response.status_code == 302
    assert snapshot()[:5] == before[:5]


def test_the_head_of_sales_merges_from_the_dossier(head, pair, django_capture_on_commit_callbacks):
    """R2, D12: the dossier offers the head of sales "Merge a duplicate": a search lists candidates, the
    confirm page shows what will move, and the merge with a reason lands on the survivor."""
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    client = login(head)
    page = unescape(client.get(reverse("companies:detail", args=[survivor.pk])).content.decode())
    assert reverse("companies:merge", args=[survivor.pk]) in page
    # By default the companies named like this one are offered.
    page = unescape(client.get(reverse("companies:merge", args=[survivor.pk])).content.decode())
    assert "Ромашка (дубль)" in page
    confirm_url = reverse("companies:merge_confirm", args=[survivor.pk, duplicate.pk])
    assert confirm_url in page
    page = unescape(
        client.get(reverse("companies:merge", args=[survivor.pk]), {"q": SBERBANK["inn"]}).content.decode()
    )
    assert confirm_url in page
    page = unescape(client.get(confirm_url).content.decode())
    assert "People who move" in page
    assert SBERBANK["inn"] in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(confirm_url, {"reason": "Дубль из выставки"})
    assert response.status_code == 302
    assert response["Location"] == reverse("companies:detail", args=[survivor.pk])
    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor
    assert Notification.objects.filter(kind="company_merged").count() == 2


def test_merge_pages_are_for_the_head_of_sales_only(manager, senior_manager, finance, pair):
    """R2, R4: managers and finance see no merge button and get 403 on the merge pages."""
    survivor, duplicate = pair["survivor"], pair["duplicate"]
    before = snapshot()
    for user in (manager, senior_manager, finance):
        client = login(user)
        page = client.get(reverse("companies:detail", args=[survivor.pk])).content.decode()
        assert reverse("companies:merge", args=[survivor.pk]) not in page
        assert client.get(reverse("companies:merge", args=[survivor.pk])).status_code == 403
        url = reverse("companies:merge_confirm", args=[survivor.pk, duplicate.pk])
        assert client.get(url).status_code == 403
        assert client.post(url, {"reason": "x"}).status_code == 403
    assert snapshot() == before


def test_the_confirm_page_explains_a_refused_merge(head, pair):
    """R2: merging into itself or an already merged company is explained and nothing happens."""
    survivor = pair["survivor"]
    client = login(head)
    url = reverse("companies:merge_confirm", args=[survivor.pk, survivor.pk])
    page = unescape(client.get(url).content.decode())
    assert "cannot be merged into itself" in page
    before = snapshot()
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "cannot be merged into itself" in unescape(response.content.decode())
    assert snapshot() == before
