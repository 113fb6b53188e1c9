"""Hardening in a real Chromium (R4, D12), under the Content Security Policy (the ``page`` fixture fails on
any violation): the behaviours moved out of inline scripts still work; the API docs start; a user makes and
revokes an API token; five wrong passwords lock the account with the time it opens again."""

from __future__ import annotations

import re
from typing import Any

import pytest

from kurator.accounts.models import ApiToken, Role
from tests.e2e.helpers import PASSWORD, log_in, make_user

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_behaviours_from_static_files_work_under_the_policy(page: Any, screenshot: Any) -> None:
    """R4: the rule form shows only the condition of the chosen kind, the inquiry form shows the
    recommending client's INN only for a recommendation, and the API docs render — with no inline script."""
    make_user("orlova", Role.HEAD_OF_SALES, "Мария", "Орлова")
    log_in(page, "orlova")

    page.goto("/inquiries/settings/rules/new/")
    city = page.locator("[data-show-if='id_kind=city']")
    sphere = page.locator("[data-show-if='id_kind=sphere']")
    page.select_option("#id_kind", "city")
    assert city.is_visible() and not sphere.is_visible()
    page.select_option("#id_kind", "sphere")
    assert sphere.is_visible() and not city.is_visible()
    page.select_option("#id_kind", "round_robin")
    assert not sphere.is_visible() and not city.is_visible()

    page.goto("/inquiries/new/")
    referred = page.locator("#referred-by")
    page.select_option("#id_channel", "phone")
    assert not referred.is_visible()
    page.select_option("#id_channel", "recommendation")
    assert referred.is_visible()
    screenshot(page, "inquiry-recommendation")

    page.goto("/api/docs/")
    page.wait_for_selector("#swagger-ui .info", timeout=20_000)
    assert "Kurator API" in page.inner_text("#swagger-ui .info")


def test_a_user_makes_and_revokes_an_api_token(page: Any, screenshot: Any) -> None:
    """R4: from the user menu to «API tokens»; the key is shown once; Revoke asks first and revokes."""
    user = make_user("sokolov", Role.MANAGER, "Сергей", "Соколов")
    log_in(page, "sokolov")
    page.click(".navbar-nav.order-lg-last .dropdown > a[data-bs-toggle=dropdown]")
    page.click("[data-testid=nav-api-tokens]")
    page.wait_for_url(re.compile(r"/accounts/tokens/"))
    page.fill("[name=name]", "Обмен с 1С")
    page.click("[data-testid=token-form] button[type=submit]")
    key = page.input_value("[data-testid=new-token-key]")
    token = ApiToken.objects.get(user=user)
    assert key.startswith(token.prefix)
    screenshot(page, "token-created")

    page.once("dialog", lambda dialog: dialog.dismiss())  # «Revoke?» — No: nothing happens
    page.click(f"[data-testid=revoke-{token.pk}]")
    token.refresh_from_db()
    assert token.revoked_at is None

    page.once("dialog", lambda dialog: dialog.accept())
    page.click(f"[data-testid=revoke-{token.pk}]")
    page.wait_for_selector(f"[data-testid=token-{token.pk}] .badge.bg-red-lt")
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert key not in page.content()


def test_five_wrong_passwords_lock_the_account_with_the_time(page: Any) -> None:
    """R4: the fifth failure says the account is locked until a given time; the right password is then
    refused too."""
    make_user("kuznetsov", Role.MANAGER, "Олег", "Кузнецов")
    page.goto("/accounts/login/")
    for _ in range(5):
        page.fill("[name=username]", "kuznetsov")
        page.fill("[name=password]", "не-тот-пароль")
        page.click("form[method=post] button[type=submit]")
        page.wait_for_load_state()
    message = page.inner_text(".alert")
    assert re.search(r"\d{2}:\d{2}", message), message
    page.fill("[name=username]", "kuznetsov")
    page.fill("[name=password]", PASSWORD)
    page.click("form[method=post] button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/" in page.url
