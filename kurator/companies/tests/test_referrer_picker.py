"""The recommending client (S2): picked by name or INN as you type, never the company itself, a choice when
branches share an INN."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from kurator.companies.models import Company, CompanyStatus
from tests.factories import company_factory

SBER = {"inn": "7707083893", "kpp": "773601001"}


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text_of(response) -> str:
    return unescape(response.content.decode())


def field_errors(response, field: str) -> str:
    match = re.search(rf'id="id_{field}_errors">(.*?)</div>', response.content.decode(), re.S)
    return unescape(match.group(1)) if match else ""


def offered(response) -> list[int]:
    """The ids of the clients offered as radio buttons to pick from."""
    radios = re.findall(r'type="radio" name="referred_by_id" value="(\d+)"', text_of(response))
    return [int(pk) for pk in radios]


def new_company(**fields):
    return {"full_name": "ООО «Новичок»", "status": CompanyStatus.PROSPECT, **fields}


@pytest.fixture
def sber(manager):
    return company_factory(actor=manager, full_name="ПАО Сбербанк", **SBER)


def test_the_picker_offers_up_to_ten_clients_by_name_or_inn(manager, other_manager, sber):
    """S2: typing two or more characters of a name or an INN lists matching clients (a colleague's too,
    R3), at most ten, with INN and city; the company being edited is never offered."""
    for n in range(12):
        company_factory(actor=other_manager, full_name=f"ООО «Газсервис {n:02d}»", city="Тула")
    own = Company.objects.get(full_name="ООО «Газсервис 00»")
    client = login(manager)
    url = reverse("companies:referrers")

    by_name = client.get(url, {"referred_by": "газсервис", "for": str(own.pk)})
    assert by_name.status_code == 200
    assert len(offered(by_name)) == 10 and own.pk not in offered(by_name)
    assert "Тула" in text_of(by_name) and "<html" not in text_of(by_name)
    assert offered(client.get(url, {"referred_by": "7707 083"})) == [sber.pk]
    assert offered(client.get(url, {"referred_by": "г"})) == []  # one character lists nothing
    assert "No client matches “Ёжик”." in text_of(client.get(url, {"referred_by": "Ёжик"}))


def test_the_picker_needs_a_login(sber):
    """R4: the picker answers signed-in members only (it names clients and their INNs)."""
    response = Client().get(reverse("companies:referrers"), {"referred_by": "сбер"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_picked_client_is_saved_as_the_referrer(manager, sber):
    """S2: the radio button picked in the list is the recommending client, whatever the box shows of it
    (its name written there by the page, or the fragment it was found by without JavaScript)."""
    client = login(manager)
    for box in ("ПАО Сбербанк", "сбер"):
        response = client.post(
            reverse("companies:create"),
            new_company(full_name=f"ООО «Новичок {box}»", referred_by=box, referred_by_id=sber.pk),
        )
        assert response.status_code == 302, field_errors(response, "referred_by")
        assert Company.objects.get(full_name=f"ООО «Новичок {box}»").referred_by == sber


def test_a_typed_inn_or_exact_name_still_works_without_picking(manager, sber):
    """S2: typing the INN (spaces allowed) or the exact name is enough when it points to one client."""
    client = login(manager)
    typed = client.post(reverse("companies:create"), new_company(referred_by="7707 083 893"))
    assert typed.status_code == 302
    assert Company.objects.get(full_name="ООО «Новичок»").referred_by == sber
    named = client.post(
        reverse("companies:create"), new_company(full_name="ООО «Второй»", referred_by="пао сбербанк")
    )
    assert named.status_code == 302
    assert Company.objects.get(full_name="ООО «Второй»").referred_by == sber


def test_a_pick_typed_over_gives_way_to_the_box(manager, sber):
    """S2: a client picked, then replaced by another INN typed in the box: the box wins."""
    other = company_factory(actor=manager, full_name="ПАО «Газпром»", inn="7736050003")
    response = login(manager).post(
        reverse("companies:create"), new_company(referred_by="7736050003", referred_by_id=sber.pk)
    )
    assert response.status_code == 302
    assert Company.objects.get(full_name="ООО «Новичок»").referred_by == other


def test_a_company_cannot_recommend_itself(manager, sber):
    """S2: its own INN, name or pick is refused as a self-recommendation, not as an unknown client; nothing
    changes."""
    client = login(manager)
    url = reverse("companies:edit", args=[sber.pk])
    for fields in ({"referred_by": "7707083893"}, {"referred_by": "ПАО Сбербанк", "referred_by_id": sber.pk}):
        response = client.post(
            url, {"full_name": sber.full_name, "status": sber.status, "version": sber.version, **fields}
        )
        assert response.status_code == 200
        assert field_errors(response, "referred_by") == "A company cannot recommend itself."
    sber.refresh_from_db()
    assert sber.referred_by is None


def test_branches_sharing_an_inn_are_offered_to_choose(manager, sber):
    """S2: when the INN belongs to a head office and its branches, the form asks which one recommended the
    company, offering them; the pick is then saved. Nothing is written before."""
    branch = company_factory(
        actor=manager, full_name="ПАО Сбербанк, Тверское отделение", inn=SBER["inn"], kpp="695002001"
    )
    client = login(manager)

    ambiguous = client.post(reverse("companies:create"), new_company(referred_by=SBER["inn"]))
    assert ambiguous.status_code == 200
    assert "Several companies have INN 7707083893" in field_errors(ambiguous, "referred_by")
    assert offered(ambiguous) == [sber.pk, branch.pk]
    assert not Company.objects.filter(full_name="ООО «Новичок»").exists()

    picked = client.post(
        reverse("companies:create"), new_company(referred_by=SBER["inn"], referred_by_id=branch.pk)
    )
    assert picked.status_code == 302
    assert Company.objects.get(full_name="ООО «Новичок»").referred_by == branch


def test_a_name_fragment_fitting_several_clients_is_offered_to_choose(manager, sber):
    """S2: a fragment that fits several clients is not guessed: they are offered to pick from."""
    company_factory(actor=manager, full_name="ООО «Сбертех»")
    response = login(manager).post(reverse("companies:create"), new_company(referred_by="сбер"))
    assert response.status_code == 200
    assert "Several clients match “сбер”" in field_errors(response, "referred_by")
    assert len(offered(response)) == 2


def test_the_edit_form_shows_the_referrer_by_name(manager, sber):
    """S2: editing a recommended company shows its referrer's name in the box, with the pick kept, so that
    saving without touching it changes nothing."""
    company = company_factory(actor=manager, full_name="ООО «Новичок»", referred_by=sber)
    client = login(manager)
    html = client.get(reverse("companies:edit", args=[company.pk])).content.decode()
    assert re.search(r'name="referred_by" value="ПАО Сбербанк"', unescape(html))
    assert f'<input type="hidden" name="referred_by_id" value="{sber.pk}">' in html
    # The picker leaves the company itself out of its matches.
    assert f'hx-vals="{{&quot;for&quot;: {company.pk}}}"' in html
    response = client.post(
        reverse("companies:edit", args=[company.pk]),
        {
            "full_name": company.full_name,
            "status": company.status,
            "version": company.version,
            "referred_by": "ПАО Сбербанк",
            "referred_by_id": sber.pk,
        },
    )
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.referred_by == sber
