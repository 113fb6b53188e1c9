"""The company list in a real Chromium: as-you-type search and Back/Forward keep the fields and the rows in
step (R3), and the "My clients" switch (R2)."""

from __future__ import annotations

from typing import Any, cast

import pytest

from kurator.accounts.models import Role, User
from kurator.companies.models import CompanyStatus
from tests.e2e.helpers import log_in
from tests.factories import UserFactory, company_factory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def shown(page: Any) -> dict[str, Any]:
    """What the user sees: the address's query, the fields, and the names in the table."""
    return page.evaluate(
        """() => ({
          query: decodeURIComponent(location.search),
          q: document.querySelector('[name=q]').value,
          status: document.querySelector('[name=status]').value,
          curator: document.querySelector('[name=curator]').value,
          mine: document.querySelector('[data-my-clients]').getAttribute('aria-pressed'),
          rows: [...document.querySelectorAll('.kurator-company-table td.company-name > a')]
            .map(a => a.innerText),
        })"""
    )


def settle(page: Any) -> None:
    # The search waits 300 ms after the last key, then htmx swaps the table.
    page.wait_for_timeout(600)
    page.wait_for_load_state("networkidle")


def test_back_after_a_search_restores_the_fields_with_the_rows(page: Any, screenshot: Any) -> None:
    """R3: after typing a search and picking a status, Back shows the earlier table *and* the earlier search
    box and filters (htmx's snapshots alone would keep the rows but empty the fields); Forward likewise."""
    manager = cast(
        User, UserFactory(username="ivanov", role=Role.MANAGER, first_name="Иван", last_name="Иванов")
    )
    company_factory(actor=manager, full_name="ООО «Кедр»")
    company_factory(actor=manager, full_name="ООО «Кедр-Групп»", status=CompanyStatus.CLIENT)
    company_factory(actor=manager, full_name="ООО «Альфа»")
    log_in(page, manager.username)
    page.goto("/companies/")

    page.type("[name=q]", "кедр", delay=20)
    settle(page)
    assert shown(page)["rows"] == ["ООО «Кедр»", "ООО «Кедр-Групп»"]
    page.select_option("[name=status]", CompanyStatus.CLIENT)
    settle(page)
    assert shown(page)["rows"] == ["ООО «Кедр-Групп»"]

    page.go_back()
    settle(page)
    back = shown(page)
    assert "q=кедр" in back["query"] and "status" not in back["query"]
    assert (back["q"], back["status"], back["rows"]) == ("кедр", "", ["ООО «Кедр»", "ООО «Кедр-Групп»"])
    screenshot(page, "back-keeps-the-search")

    page.go_back()
    settle(page)
    start = shown(page)
    assert (start["q"], start["status"]) == ("", "")
    assert start["rows"] == ["ООО «Альфа»", "ООО «Кедр»", "ООО «Кедр-Групп»"]

    page.go_forward()
    settle(page)
    page.go_forward()
    settle(page)
    forward = shown(page)
    assert (forward["q"], forward["status"], forward["rows"]) == ("кедр", "client", ["ООО «Кедр-Групп»"])


def test_my_clients_switches_the_curator_filter_in_place(page: Any) -> None:
    """R2: "My clients" narrows the list to the seller's own clients, shows itself pressed, and lets go on a
    second click; Back returns to the pressed state with the curator filter set."""
    manager = cast(
        User, UserFactory(username="ivanov", role=Role.MANAGER, first_name="Иван", last_name="Иванов")
    )
    colleague = cast(
        User, UserFactory(username="petrova", role=Role.MANAGER, first_name="Ольга", last_name="Петрова")
    )
    company_factory(actor=manager, full_name="ООО «Мой клиент»")
    company_factory(actor=colleague, full_name="ООО «Чужой клиент»")
    log_in(page, manager.username)
    page.goto("/companies/")

    page.click("[data-my-clients]")
    settle(page)
    mine = shown(page)
    assert (mine["curator"], mine["mine"], mine["rows"]) == (str(manager.pk), "true", ["ООО «Мой клиент»"])

    page.click("[data-my-clients]")
    settle(page)
    everyone = shown(page)
    assert (everyone["curator"], everyone["mine"]) == ("", "false")
    assert everyone["rows"] == ["ООО «Мой клиент»", "ООО «Чужой клиент»"]

    page.go_back()
    settle(page)
    again = shown(page)
    assert (again["curator"], again["mine"], again["rows"]) == (str(manager.pk), "true", ["ООО «Мой клиент»"])
