"""Reports of the head of sales: managers overlapping on one client and likely duplicates (R2), contact
sources with inquiries, new clients and conversion (S2) — the figures, the pages and the API."""

from __future__ import annotations

from datetime import date, timedelta
from html import unescape
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kurator.accounts.tests.factories import api_token_key
from kurator.companies import services
from kurator.companies.models import Company, ContactSource
from kurator.companies.reports import Period, default_period, overlap_report, sources_report
from kurator.inquiries.models import Inquiry
from tests.factories import company_factory, contact_factory

pytestmark = pytest.mark.django_db


def make_inquiry(**fields: Any) -> Inquiry:
    fields.setdefault("channel", "phone")
    fields.setdefault("received_at", timezone.now())
    return Inquiry.objects.create(**fields)


def backdate_company(company: Company, days: int) -> None:
    """Pretend the company and its history were created ``days`` ago."""
    moment = timezone.now() - timedelta(days=days)
    Company.objects.filter(pk=company.pk).update(created_at=moment)
    Company.history.filter(id=company.pk).update(history_date=moment)


# Overlap (R2) ----------------------------------------------------------------------------------------------


@pytest.fixture
def touched(manager, other_manager, senior_manager, head) -> dict[str, Company]:
    """Companies with different stories in the last days."""
    # Curated by manager; an inquiry of it was taken by a colleague.
    taken = company_factory(actor=manager, full_name="ООО «Перехват»")
    make_inquiry(
        company=taken, curator=manager, status="taken", taken_by=other_manager, taken_at=timezone.now()
    )
    # Created by manager, handed to the senior manager who added a person: two managers on the dossier.
    handed = company_factory(actor=manager, full_name="ООО «Передача»")
    handed = services.company_change_curator(
        actor=head, company=handed, curator=senior_manager, reason="Ключевой"
    )
    contact_factory(actor=senior_manager, company=handed)
    # Only its curator worked on it, and the head of sales (who is not a seller) edited it.
    quiet = company_factory(actor=manager, full_name="ООО «Тишина»")
    services.company_update(actor=head, company=quiet, city="Тверь")
    make_inquiry(company=quiet, curator=manager)
    # A colleague's work long ago does not count in the last 90 days.
    old = company_factory(actor=other_manager, full_name="ООО «Давно»")
    make_inquiry(
        company=old,
        curator=manager,
        received_at=timezone.now() - timedelta(days=200),
        taken_by=manager,
        taken_at=timezone.now() - timedelta(days=200),
    )
    backdate_company(old, 200)
    return {"taken": taken, "handed": handed, "quiet": quiet, "old": old}


def test_companies_touched_by_more_than_one_manager_are_listed(
    head, manager, other_manager, senior_manager, touched
):
    """R2: an inquiry taken by a colleague, or dossier edits by two sellers, make an overlap; a client only
    its curator worked on (the head of sales aside) does not; work outside the period does not count."""
    report = overlap_report(actor=head, period=default_period())
    rows = {row.company.short_name: row for row in report.overlaps}
    assert set(rows) == {"ООО «Перехват»", "ООО «Передача»"}
    taken = {t.user: t for t in rows["ООО «Перехват»"].touches}
    assert set(taken) == {manager, other_manager}
    assert taken[other_manager].inquiries == 1 and not taken[other_manager].is_curator
    assert taken[manager].is_curator and taken[manager].inquiries == 1 and taken[manager].edits == 1
    handed = {t.user: t for t in rows["ООО «Передача»"].touches}
    assert set(handed) == {manager, senior_manager}
    assert handed[senior_manager].is_curator and handed[senior_manager].edits == 1
    assert head not in handed
    # A period that covers the old work shows it.
    long_ago = Period(timezone.localdate() - timedelta(days=300), timezone.localdate() - timedelta(days=100))
    assert [r.company.short_name for r in overlap_report(actor=head, period=long_ago).overlaps] == [
        "ООО «Давно»"
    ]


def test_work_on_a_merged_duplicate_counts_for_its_survivor(head, manager, other_manager):
    """R2, D12: the duplicate's history is the survivor's: a colleague who worked the duplicate overlaps."""
    survivor = company_factory(actor=manager, full_name="ООО «Основа»")
    duplicate = company_factory(actor=other_manager, full_name="ООО «Основа-дубль»")
    assert overlap_report(actor=head, period=default_period()).overlaps == []
    services.company_merge(actor=head, survivor=survivor, duplicate=duplicate)
    rows = overlap_report(actor=head, period=default_period()).overlaps
    assert [r.company for r in rows] == [survivor]
    assert {t.user for t in rows[0].touches} == {manager, other_manager}


def _duplicates(head) -> list[tuple[set[str], set[tuple[str, str]]]]:
    return [
        ({c.short_name for c in g.companies}, {(r.code, r.value) for r in g.reasons})
        for g in overlap_report(actor=head, period=default_period()).duplicates
    ]


def test_likely_duplicates_by_name_phone_and_email(head, manager, other_manager):
    """R2: companies with the same normalised name, a shared phone (theirs or their people's) or a shared
    e-mail are listed as likely duplicates; one group per set of companies with all its reasons."""
    a = company_factory(actor=manager, full_name="ООО «Ромашка»", phones=["+7 495 111-22-33"])
    company_factory(actor=other_manager, full_name='АО "РОМАШКА"', phones=["8 (495) 111-22-33"])
    c = company_factory(actor=manager, full_name="ООО «Василёк»", emails=["info@vasilek.ru"])
    company_factory(actor=other_manager, full_name="ЗАО «Лютик»", emails=["info@vasilek.ru"])
    e = company_factory(actor=manager, full_name="ООО «Клевер»")
    f = company_factory(actor=other_manager, full_name="ООО «Одуванчик»")
    contact_factory(actor=manager, company=e, phones=["+7 916 000-00-01"])
    contact_factory(actor=other_manager, company=f, phones=["+7 916 000-00-01"])
    company_factory(actor=manager, full_name="ООО «Одиночка»", phones=["+7 495 999-99-99"])
    groups = _duplicates(head)
    assert (
        {"ООО «Ромашка»", 'АО "РОМАШКА"'},
        {("name", "ромашка"), ("phone", "+74951112233")},
    ) in groups
    assert ({"ООО «Василёк»", "ЗАО «Лютик»"}, {("email", "info@vasilek.ru")}) in groups
    assert ({"ООО «Клевер»", "ООО «Одуванчик»"}, {("phone", "+79160000001")}) in groups
    assert len(groups) == 3
    # The group with the most evidence comes first; the fuller dossier is the suggested survivor.
    first = overlap_report(actor=head, period=default_period()).duplicates[0]
    assert {c.short_name for c in first.companies} == {"ООО «Ромашка»", 'АО "РОМАШКА"'}
    assert first.survivor == max(first.companies, key=lambda x: (x.completeness, -x.pk))
    assert a.pk in {x.pk for x in first.companies} and c.pk not in {x.pk for x in first.companies}


def test_merged_companies_are_not_duplicates_any_more(head, manager, other_manager):
    """R2, D12: after the merge the pair is gone from the likely duplicates."""
    a = company_factory(actor=manager, full_name="ООО «Ромашка»")
    b = company_factory(actor=other_manager, full_name="ООО «Ромашка»")
    assert len(_duplicates(head)) == 1
    services.company_merge(actor=head, survivor=a, duplicate=b)
    assert _duplicates(head) == []


def test_the_overlap_report_costs_the_same_queries_for_more_companies(head, manager, other_manager):
    """R2: the report is set-based (GROUP BY): its query count does not grow with the number of companies."""

    def add(n: int) -> None:
        for i in range(n):
            company = company_factory(
                actor=manager, full_name=f"ООО «Пара {n}-{i}»", phones=[f"+7 495 200-{n:02d}-{i:02d}"]
            )
            company_factory(
                actor=other_manager, full_name=f"ООО «Пара {n}-{i}»", phones=[f"+7 495 200-{n:02d}-{i:02d}"]
            )
            make_inquiry(company=company, curator=manager, taken_by=other_manager, taken_at=timezone.now())

    add(2)
    with CaptureQueriesContext(connection) as few:
        report = overlap_report(actor=head, period=default_period())
    assert len(report.overlaps) == 2 and len(report.duplicates) == 2
    add(6)
    with CaptureQueriesContext(connection) as many:
        report = overlap_report(actor=head, period=default_period())
    assert len(report.overlaps) == 8 and len(report.duplicates) == 8
    assert len(many) == len(few)


# Sources (S2) ----------------------------------------------------------------------------------------------


@pytest.fixture
def sources(manager) -> dict[str, Any]:
    # Two of the sources every base starts with, sub-sources of one, and a retired source.
    internet = ContactSource.objects.get(name="Интернет", parent=None)
    fair = ContactSource.objects.get(name="Выставки", parent=None)
    yandex = ContactSource.objects.create(name="Яндекс", parent=internet)
    site = ContactSource.objects.create(name="Сайт", parent=internet)
    ContactSource.objects.create(name="Архивный", position=30, is_active=False)
    for status in ("new", "qualified", "converted", "rejected"):
        make_inquiry(source=yandex, status=status)
    make_inquiry(source=internet, status="qualified")
    make_inquiry(source=fair, status="taken")
    make_inquiry(source=None, status="new")
    make_inquiry(source=fair, status="converted", received_at=timezone.now() - timedelta(days=120))
    company_factory(actor=manager, full_name="ООО «Из Яндекса»", source=yandex)
    company_factory(actor=manager, full_name="ООО «С выставки»", source=fair)
    old = company_factory(actor=manager, full_name="ООО «Старая»", source=fair)
    backdate_company(old, 120)
    return {"internet": internet, "yandex": yandex, "site": site, "fair": fair}


def test_sources_report_counts_per_source_and_sub_source(head, sources):
    """S2: per source and sub-source for the period: inquiries, new clients, qualified/converted and the
    conversion; a source's line includes its sub-sources; totals add up; nothing outside the period."""
    report = sources_report(actor=head, period=default_period())
    rows = {(r.name, r.level): r for r in report.rows}
    mine = {"Интернет", "Сайт", "Яндекс", "Выставки", ""}
    assert [(r.name, r.level) for r in report.rows if r.name in mine] == [
        ("Интернет", 0),
        ("Сайт", 1),
        ("Яндекс", 1),
        ("Выставки", 0),
        ("", 0),
    ]
    assert report.rows[-1].source is None
    assert "Архивный" not in [r.name for r in report.rows]
    assert "Средства массовой информации" in [r.name for r in report.rows]  # active, even with nothing
    internet, yandex, fair, unknown = (
        rows[("Интернет", 0)],
        rows[("Яндекс", 1)],
        rows[("Выставки", 0)],
        rows[("", 0)],
    )
    assert (yandex.inquiries, yandex.new_clients, yandex.qualified, yandex.converted) == (4, 1, 2, 1)
    assert yandex.conversion == 50.0
    assert (internet.inquiries, internet.new_clients, internet.qualified, internet.converted) == (5, 1, 3, 1)
    assert internet.conversion == 60.0
    assert (fair.inquiries, fair.new_clients, fair.qualified) == (1, 1, 0)
    assert rows[("Сайт", 1)].conversion is None
    assert unknown.source is None and unknown.inquiries == 1
    totals = report.totals
    assert (totals.inquiries, totals.new_clients, totals.qualified, totals.converted) == (7, 2, 3, 1)
    assert totals.conversion == round(100 * 3 / 7, 1)
    # A period that holds the older inquiry and company.
    today = timezone.localdate()
    wide = sources_report(actor=head, period=Period(today - timedelta(days=200), today))
    assert {(r.name, r.level): r for r in wide.rows}[("Выставки", 0)].inquiries == 2
    assert wide.totals.new_clients == 3


def test_sources_report_lists_the_clients_who_recommended(head, manager):
    """S2: which client recommended whom: new clients and inquiries per recommending client."""
    loyal = company_factory(actor=manager, full_name="ООО «Верный клиент»")
    company_factory(actor=manager, full_name="ООО «По рекомендации»", referred_by=loyal)
    make_inquiry(referred_by=loyal)
    make_inquiry(referred_by=loyal)
    report = sources_report(actor=head, period=default_period())
    assert [(r.company, r.new_clients, r.inquiries) for r in report.referrers] == [(loyal, 1, 2)]


def test_default_period_is_the_last_90_days():
    """S2: the reports open on the last 90 days, today included."""
    period = default_period(date(2026, 11, 27))
    assert (period.date_from, period.date_to, period.days) == (date(2026, 8, 30), date(2026, 11, 27), 90)


# Pages and API ---------------------------------------------------------------------------------------------


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def api_client(user) -> APIClient:
    client = APIClient(headers={"Accept-Language": "en"})
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_key(user)}")
    return client


ROLES = ["manager", "senior_manager", "head", "finance", "admin_user", None]
READERS = {"head", "admin_user"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", ["/api/v1/reports/sources/", "/api/v1/reports/overlap/"])
def test_report_endpoints_by_role(request, sources, touched, role, url):
    """R2, S2, R4: the reports are the head of sales' (and the administrator's): others 403, anonymous 401."""
    user = request.getfixturevalue(role) if role else None
    response = api_client(user).get(url)
    if role in READERS:
        assert response.status_code == 200
    else:
        assert response.status_code == (401 if user is None else 403)


def test_sources_endpoint(head, sources):
    """S2: GET /api/v1/reports/sources/?from=&to= answers the rows, the totals and the period."""
    client = api_client(head)
    body = client.get("/api/v1/reports/sources/").json()
    period = default_period()
    assert (body["date_from"], body["date_to"]) == (str(period.date_from), str(period.date_to))
    first = next(row for row in body["rows"] if row["source"] == sources["internet"].pk)
    assert first == {
        "inquiries": 5,
        "new_clients": 1,
        "qualified": 3,
        "converted": 1,
        "conversion": 60.0,
        "source": sources["internet"].pk,
        "parent": None,
        "name": "Интернет",
        "level": 0,
    }
    assert {row["name"] for row in body["rows"] if row["parent"] == sources["internet"].pk} == {
        "Сайт",
        "Яндекс",
    }
    assert body["totals"]["inquiries"] == 7
    wide = client.get(
        "/api/v1/reports/sources/",
        {"from": str(timezone.localdate() - timedelta(days=200)), "to": str(timezone.localdate())},
    )
    assert wide.json()["totals"]["inquiries"] == 8
    for params, field in (
        ({"from": "вчера"}, "from"),
        ({"to": "2026-13-01"}, "to"),
        ({"from": str(timezone.localdate()), "to": str(timezone.localdate() - timedelta(days=1))}, "to"),
    ):
        response = client.get("/api/v1/reports/sources/", params)
        assert response.status_code == 400
        assert field in response.json()


def test_overlap_endpoint(head, manager, other_manager, touched):
    """R2: GET /api/v1/reports/overlap/ answers the overlapping companies with their managers and the likely
    duplicates with the suggested survivor."""
    a = company_factory(actor=manager, full_name="ООО «Двойник»")
    b = company_factory(actor=other_manager, full_name="ООО «Двойник»")
    body = api_client(head).get("/api/v1/reports/overlap/").json()
    names = {row["company"]["short_name"] for row in body["overlaps"]}
    assert names == {"ООО «Перехват»", "ООО «Передача»"}
    row = next(r for r in body["overlaps"] if r["company"]["short_name"] == "ООО «Перехват»")
    assert {m["user"]["id"] for m in row["managers"]} == {manager.pk, other_manager.pk}
    group = body["duplicates"][0]
    assert {c["id"] for c in group["companies"]} == {a.pk, b.pk}
    assert group["reasons"] == [{"code": "name", "value": "двойник"}]
    assert group["survivor"] in {a.pk, b.pk}


def test_report_pages_for_the_head_of_sales(head, manager, other_manager, sources, touched):
    """R2, S2: the head of sales finds both reports under Reports in the menu, with a period picker (last 90
    days by default); likely duplicates carry a merge link."""
    a = company_factory(actor=manager, full_name="ООО «Двойник»")
    b = company_factory(actor=other_manager, full_name="ООО «Двойник»")
    client = login(head)
    page = unescape(client.get(reverse("companies:report_sources")).content.decode())
    assert reverse("companies:report_overlap") in page  # the menu
    assert "Интернет" in page and "Яндекс" in page and "60.0" in page
    assert f'value="{default_period().date_from:%Y-%m-%d}"' in page
    page = unescape(client.get(reverse("companies:report_overlap")).content.decode())
    assert "ООО «Перехват»" in page and "ООО «Передача»" in page and "ООО «Тишина»" not in page
    survivor, duplicate = (a, b) if a.completeness >= b.completeness else (b, a)
    assert reverse("companies:merge_confirm", args=[survivor.pk, duplicate.pk]) in page
    page = unescape(
        client.get(
            reverse("companies:report_overlap"), {"from": "2020-01-01", "to": "2020-02-01"}
        ).content.decode()
    )
    assert "No overlaps in this period" in page
    response = client.get(reverse("companies:report_sources"), {"from": "2026-02-01", "to": "2026-01-01"})
    assert response.status_code == 200
    assert "The end of the period is before its start." in unescape(response.content.decode())


@pytest.mark.parametrize("role", ["manager", "senior_manager", "finance"])
def test_report_pages_are_closed_to_others(request, role):
    """R4: sellers and finance get 403 and see no Reports menu."""
    client = login(request.getfixturevalue(role))
    for name in ("companies:report_overlap", "companies:report_sources"):
        assert client.get(reverse(name)).status_code == 403
    page = client.get(reverse("companies:list")).content.decode()
    assert reverse("companies:report_sources") not in page


def test_a_switchboard_shared_by_many_companies_is_not_a_duplicate(head, manager):
    """R2: a phone on more than ten companies (a business centre's switchboard) is no evidence of a double
    entry; two companies sharing a number are."""
    for n in range(11):
        company_factory(actor=manager, full_name=f"ООО «Арендатор {n}»", phones=["+7 495 777-00-00"])
    company_factory(actor=manager, full_name="ООО «Сосед 1»", phones=["+7 495 777-00-01"])
    company_factory(actor=manager, full_name="ООО «Сосед 2»", phones=["+7 495 777-00-01"])
    assert _duplicates(head) == [({"ООО «Сосед 1»", "ООО «Сосед 2»"}, {("phone", "+74957770001")})]
