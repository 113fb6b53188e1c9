"""The company list as a new user meets it (R2, R3): bad filters, empty results, "My clients", short names."""

from __future__ import annotations

import re
from html import unescape
from typing import cast

import pytest
from django.test import Client
from django.urls import reverse

from kurator.accounts.models import Role, User
from tests.factories import UserFactory, company_factory


def login(user) -> Client:
    # English msgids in assertions stay valid whatever the Russian translation says.
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text_of(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def two_companies(manager, other_manager):
    return (
        company_factory(actor=manager, full_name="ООО «Альфа»"),
        company_factory(actor=other_manager, full_name="ООО «Бета»"),
    )


@pytest.mark.parametrize(
    "params",
    [{"curator": "99999"}, {"curator": "x"}, {"q": "а" * 201}, {"status": "nope"}, {"source": "99999"}],
    ids=["unknown-curator", "malformed-curator", "search-too-long", "unknown-status", "unknown-source"],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_filter_that_cannot_be_applied_is_reported_and_lists_nothing(params, htmx, manager, two_companies):
    """R3: a bad filter value (a stale link, a search longer than allowed) is named with its error and the
    list is empty: the whole base is never shown as if it were the filtered answer."""
    headers = {"HX-Request": "true"} if htmx else {}
    response = login(manager).get(reverse("companies:list"), params, headers=headers)

    assert response.status_code == 200
    page = text_of(response)
    assert "This filter cannot be applied, so no companies are listed:" in page
    assert "ООО «Альфа»" not in page and "ООО «Бета»" not in page
    assert 'href="/companies/">' in page  # "Reset filters"
    assert "Reset filters" in page


def test_a_search_too_long_is_marked_under_the_search_box(manager, two_companies):
    """R3: on the whole page the search box itself is marked invalid with the reason under it."""
    page = text_of(login(manager).get(reverse("companies:list"), {"q": "а" * 201}))
    search_box = re.search(r'<input type="search" name="q"[^>]*>', page)
    assert search_box is not None
    assert "is-invalid" in search_box.group(0) and 'aria-invalid="true"' in search_box.group(0)
    assert re.search(r'id="id_q_errors">[^<]*200', page)


def test_a_bad_sort_or_page_size_falls_back_to_the_default(manager, two_companies):
    """R3: a sort or a page size that does not exist narrows nothing, so the list is shown in its default
    order without an error."""
    page = text_of(login(manager).get(reverse("companies:list"), {"sort": "nope", "per_page": "7"}))
    assert "ООО «Альфа»" in page and "ООО «Бета»" in page
    assert "cannot be applied" not in page
    assert page.index("ООО «Альфа»") < page.index("ООО «Бета»")


def test_an_empty_result_offers_to_reset_the_filters(manager, two_companies):
    """R3: a search that finds nothing says so and offers one click back to the whole list (keeping the
    sort); without filters there is nothing to reset."""
    client = login(manager)
    page = text_of(client.get(reverse("companies:list"), {"q": "Гамма", "sort": "-name"}))
    assert "No companies match" in page
    assert re.search(r'<a class="btn btn-primary" href="/companies/\?sort=-name">.*Reset filters', page, re.S)

    found = text_of(client.get(reverse("companies:list"), {"q": "Альфа"}))
    assert "Reset filters" in found  # beside the count, while a filter applies
    assert "Reset filters" not in text_of(client.get(reverse("companies:list")))


def test_sellers_get_a_my_clients_switch(manager, head, finance, two_companies):
    """R2: a seller narrows the list to their own clients in one click; the switch shows when it is on.
    Finance curates nobody and gets no such switch."""
    client = login(manager)
    page = text_of(client.get(reverse("companies:list")))
    switch = re.search(r"<a [^>]*data-my-clients=\"(\d+)\"[^>]*>", page)
    assert switch is not None and switch.group(1) == str(manager.pk)
    assert 'aria-pressed="false"' in switch.group(0)
    assert f'href="?curator={manager.pk}"' in switch.group(0)

    mine = text_of(client.get(reverse("companies:list"), {"curator": manager.pk, "status": "prospect"}))
    assert "ООО «Альфа»" in mine and "ООО «Бета»" not in mine
    pressed = re.search(r"<a [^>]*data-my-clients[^>]*>", mine)
    assert pressed is not None and 'aria-pressed="true"' in pressed.group(0)
    # Pressed again, it lets go of the curator and keeps the other filters.
    assert 'href="?status=prospect"' in pressed.group(0)

    assert "data-my-clients" in text_of(login(head).get(reverse("companies:list")))
    assert "data-my-clients" not in text_of(login(finance).get(reverse("companies:list")))


def test_curators_are_listed_by_surname_and_initials(manager):
    """R2: the curator column shows «Петров И. С.» (the full name in its tooltip), so rows stay one line."""
    curator = cast(
        User,
        UserFactory(
            username="petrov",
            role=Role.MANAGER,
            last_name="Петров",
            first_name="Иван",
            patronymic="Сергеевич",
        ),
    )
    company_factory(actor=curator, full_name="ООО «Альфа»")
    page = text_of(login(manager).get(reverse("companies:list")))
    assert '<td class="d-none d-md-table-cell" title="Петров Иван Сергеевич">Петров И. С.</td>' in page


@pytest.mark.parametrize(
    ("last", "first", "patronymic", "username", "expected"),
    [
        ("Петров", "Алексей", "Викторович", "p", "Петров А. В."),
        ("Петров", "Алексей", "", "p", "Петров А."),
        ("Петров", "", "", "p", "Петров"),
        ("", "Алексей", "", "p", "Алексей"),
        ("", "", "", "apetrov", "apetrov"),
    ],
)
def test_short_name_is_surname_and_initials(db, last, first, patronymic, username, expected):
    """R2: the short form of a user's name, for tight places (lists, badges)."""
    user = UserFactory.build(last_name=last, first_name=first, patronymic=patronymic, username=username)
    assert user.short_name == expected
