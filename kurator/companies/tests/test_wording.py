"""Words and page furniture of the dossier as a new user reads them (D1, D2, D11, R2, R4): titles,
messages, freshness, refusals, breadcrumbs. English msgids are asserted; they are written so that Russian
reads right."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kurator.companies.models import Company
from tests.factories import bank_account_factory, company_factory, contact_factory

ROOT = Path(__file__).resolve().parents[2]


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text_of(response) -> str:
    return unescape(response.content.decode())


def page_title(response) -> str:
    match = re.search(r'<h2 class="page-title[^"]*">\s*(.*?)\s*<', text_of(response), re.S)
    return match.group(1).strip() if match else ""


@pytest.fixture
def gazprom(manager):
    company = company_factory(actor=manager, full_name="Публичное акционерное общество «Газпром»")
    contact_factory(actor=manager, company=company, full_name="Миллер Алексей Борисович")
    bank_account_factory(actor=manager, company=company)
    return company


# Company names carry their own «»: messages do not wrap them in quotes again ---------------------------

# A placeholder that holds a company's name, wrapped in quotes of any kind.
_NAME = r"%\((?:company|duplicate|survivor)\)s"
_QUOTED_COMPANY = re.compile(rf"[“”«»]{_NAME}|{_NAME}[“”«»]")


@pytest.mark.parametrize(
    "path",
    [
        "companies/services.py",
        "companies/views.py",
        "companies/forms.py",
        "inquiries/services.py",
        "inquiries/views.py",
    ],
)
def test_messages_do_not_put_company_names_in_quotes(path):
    """D1: «Компания «ПАО «Газпром»» добавлена» is what a quoted name gives in Russian: the messages name a
    company without quotes of their own."""
    source = (ROOT / path).read_text(encoding="utf-8")
    assert not _QUOTED_COMPANY.search(source)
    assert "The company “%(name)s”" not in source


def test_the_added_company_is_named_without_extra_quotes(manager):
    """D1: after adding a company the message names it as it is written, with its own quotes only."""
    response = login(manager).post(
        reverse("companies:create"),
        {"full_name": "Публичное акционерное общество «Газпром»", "status": "prospect"},
        follow=True,
    )
    assert "The company ПАО «Газпром» was added." in text_of(response)


def test_the_new_curator_message_names_the_company_without_extra_quotes(head, other_manager, gazprom):
    """R2: the message after a change of curator names the company as it is written."""
    response = login(head).post(
        reverse("companies:curator", args=[gazprom.pk]),
        {"curator": other_manager.pk, "reason": "Отпуск"},
        follow=True,
    )
    assert f"{other_manager.full_name} is now the curator of ПАО «Газпром»." in text_of(response)


# Freshness (D11) -------------------------------------------------------------------------------------------


def test_freshness_reads_as_a_label_and_a_value(manager, gazprom):
    """D11: next to a section title the freshness reads "Updated: …" or "Not updated yet", which agrees
    with any section name in Russian; a section never filled gets a grey mark, not the green of fresh."""
    page = text_of(login(manager).get(reverse("companies:detail", args=[gazprom.pk])))
    assert "Updated: just now" in page
    assert "Not updated yet" in page  # the purchase profile
    assert "never updated" not in page and "updated just now" not in page
    profile = re.search(r'<div class="section([^"]*)">\s*<div class="fw-medium">Purchase profile', page)
    people = re.search(r'<div class="section([^"]*)">\s*<div class="fw-medium">People', page)
    assert profile is not None and profile.group(1) == " never"
    assert people is not None and people.group(1) == ""

    Company.objects.filter(pk=gazprom.pk).update(general_updated_at=timezone.now() - timedelta(days=150))
    page = text_of(login(manager).get(reverse("companies:detail", args=[gazprom.pk])))
    assert "Updated: 4\xa0months ago" in page  # Django's timesince keeps the number with its unit


# Titles, breadcrumbs, cards (D1, D2) ---------------------------------------------------------------------


def test_form_pages_have_consistent_titles(manager, gazprom):
    """D1, D2: "New …" and "Edit …" name each form the same way."""
    client = login(manager)
    person = gazprom.contacts.get()
    account = gazprom.bank_accounts.get()
    titles = {
        reverse("companies:create"): "New company",
        reverse("companies:contact_create", args=[gazprom.pk]): "New person",
        reverse("companies:bank_account_create", args=[gazprom.pk]): "New bank account",
        reverse("companies:edit", args=[gazprom.pk]): "Edit dossier",
        reverse("companies:contact_edit", args=[gazprom.pk, person.pk]): "Edit person",
        reverse("companies:bank_account_edit", args=[gazprom.pk, account.pk]): "Edit bank account",
    }
    for url, title in titles.items():
        assert page_title(client.get(url)) == title, url


def test_the_breadcrumb_shows_companies_and_the_company_only(manager, gazprom):
    """D1: the legal form is not a level of the path: the dossier says "Companies", its forms
    "Companies / <company>"."""
    client = login(manager)
    dossier = text_of(client.get(reverse("companies:detail", args=[gazprom.pk])))
    pretitle = re.search(r'<div class="page-pretitle">(.*?)</div>', dossier, re.S)
    assert pretitle is not None
    assert re.sub(r"<[^>]+>|\s+", "", pretitle.group(1)) == "Companies"
    form = text_of(client.get(reverse("companies:edit", args=[gazprom.pk])))
    pretitle = re.search(r'<div class="page-pretitle">(.*?)</div>', form, re.S)
    assert pretitle is not None
    assert re.sub(r"<[^>]+>|\s+", " ", pretitle.group(1)).split() == ["Companies", "/", "ПАО", "«Газпром»"]


def test_the_edit_form_card_is_not_titled_like_a_status(manager, gazprom):
    """R2: the card with status, curator and source is "Work with the client", not "Client" (a status)."""
    page = text_of(login(manager).get(reverse("companies:edit", args=[gazprom.pk])))
    assert "Work with the client</h3>" in page
    assert re.search(r"</svg>\s*Client</h3>", page) is None


def test_removal_pages_say_what_is_removed_from_where(manager, gazprom):
    """D2, D11: the confirmation is titled by what it removes and says from which company, and that the
    history keeps it."""
    client = login(manager)
    person = gazprom.contacts.get()
    account = gazprom.bank_accounts.get()

    page = client.get(reverse("companies:contact_delete", args=[gazprom.pk, person.pk]))
    assert page_title(page) == "Remove a person"
    assert "<title>Remove a person" in text_of(page)
    assert (
        "Миллер Алексей Борисович will be removed from the people of ПАО «Газпром». The history keeps the "
        "record." in text_of(page)
    )

    page = client.get(reverse("companies:bank_account_delete", args=[gazprom.pk, account.pk]))
    assert page_title(page) == "Remove a bank account"
    assert (
        f"The account {account.settlement_account} will be removed from the requisites of ПАО «Газпром». "
        "The history keeps the record." in text_of(page)
    )


# Refusals (R4) -------------------------------------------------------------------------------------------


def test_a_refused_dossier_edit_says_who_may_edit(other_manager, gazprom):
    """R3, R4: a colleague may read the dossier but not change it, and the 403 page says so and who can."""
    client = login(other_manager)
    for url in (
        reverse("companies:edit", args=[gazprom.pk]),
        reverse("companies:contact_create", args=[gazprom.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 403
        assert (
            "You may read this page but not change it: only the curator of the client, the head of sales or "
            "the administrator can." in text_of(response)
        )


def test_other_refusals_are_generic(manager):
    """R4: a page a role may not open at all gets the generic refusal, not the dossier's."""
    response = login(manager).get(reverse("companies:dictionaries"))
    assert response.status_code == 403
    page = text_of(response)
    assert "This action is not open to you. If you need it, ask the head of sales." in page
    assert "You may read this page" not in page


# Layout (D1) ---------------------------------------------------------------------------------------------


def test_long_labels_get_a_wider_column_and_the_save_button_stays_in_view(manager, gazprom):
    """D1: the general information's labels («Организационно-правовая форма») get five twelfths of the card;
    the long company form keeps its buttons in a bar stuck to the bottom of the window."""
    client = login(manager)
    dossier = text_of(client.get(reverse("companies:detail", args=[gazprom.pk])))
    assert '<dt class="col-sm-5">Legal form</dt>' in dossier
    form = text_of(client.get(reverse("companies:edit", args=[gazprom.pk])))
    bar = re.search(r'<div class="kurator-form-actions[^>]*>(.*?)</div>', form, re.S)
    assert bar is not None and 'type="submit"' in bar.group(1)
    css = (ROOT.parent / "static/kurator/kurator.css").read_text(encoding="utf-8")
    assert re.search(r"\.kurator-form-actions \{[^}]*position: sticky; bottom: 0", css)
