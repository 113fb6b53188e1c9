"""R4, D12: security headers and a Content Security Policy without inline scripts.

Every HTML page carries the policy (a crawl of every page without arguments, and the dossier, for several
roles); no template holds an inline <script> or an on* handler (they would be blocked); the public inquiry
form alone may be framed by other sites; ``check --deploy`` is clean in production settings.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import get_resolver, reverse

from kurator.access.tests.test_policy_coverage import iter_routes
from kurator.core.middleware import DEFAULT_CSP, parse_policy

pytestmark = pytest.mark.django_db

ROOT = Path(django_settings.BASE_DIR)
# An inline <script> (one without src; JSON data blocks are not run and stay allowed), an on* handler
# attribute, htmx's hx-on (it evaluates code), or a javascript: URL.
INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc\s*=)(?![^>]*\btype\s*=\s*[\"']application/json)[^>]*>", re.I
)
INLINE_HANDLER = re.compile(r"<[a-z][^>]*?\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']\s*javascript:""", re.I)


def inline_code(html: str) -> list[str]:
    patterns = (INLINE_SCRIPT, INLINE_HANDLER, JAVASCRIPT_URL)
    return [m.group(0)[:120] for rx in patterns for m in rx.finditer(html)]


def template_files() -> list[Path]:
    return sorted(p for p in (ROOT / "kurator").rglob("templates/**/*.html"))


def test_the_scanner_finds_what_it_is_meant_to_find():
    """R4: the template check itself catches each kind of inline code and lets the allowed ones be."""
    assert inline_code("<script>alert(1)</script>")
    assert inline_code('<script type="text/javascript">x()</script>')
    assert inline_code('<button onclick="go()">')
    assert inline_code('<select class="x" onchange="this.form.submit()">')
    assert inline_code('<div hx-on:click="go()">')
    assert inline_code('<a href="javascript:go()">')
    assert not inline_code('<script src="/static/kurator/kurator.js" defer></script>')
    assert not inline_code('<script type="application/json" id="data">{"a": 1}</script>')
    assert not inline_code('<button data-confirm="Remove?" data-online="1">')


def test_no_template_has_an_inline_script_or_handler():
    """R4: the policy allows scripts from Kurator's static files only, so no template may carry inline code:
    behaviour lives in static JS (static/kurator/behaviours.js) and is declared with data- attributes."""
    files = template_files()
    assert len(files) > 50  # the walk reaches the apps' templates
    found = {
        str(path.relative_to(ROOT)): hits for path in files if (hits := inline_code(path.read_text("utf-8")))
    }
    assert found == {}


def _crawlable_urls() -> list[str]:
    urls = []
    for route in iter_routes(get_resolver().url_patterns):
        if "<" in route.route or route.route.startswith("api/") or not route.name:
            continue
        if route.route in {"accounts/logout/", "i18n/setlang/"}:  # POST-only
            continue
        urls.append("/" + route.route)
    return urls


EMBEDDABLE = {"/forms/inquiry/", "/forms/inquiry/thanks/"}  # see the public form's own test


def _assert_policy(response, where: str) -> None:
    policy = parse_policy(response["Content-Security-Policy"])
    assert policy["script-src"] == "'self'", where
    assert policy["object-src"] == "'none'", where
    assert policy["frame-ancestors"] == ("*" if where in EMBEDDABLE else "'none'"), where
    assert "'unsafe-eval'" not in response["Content-Security-Policy"], where
    assert response["Referrer-Policy"] == "same-origin", where
    assert "camera=()" in response["Permissions-Policy"], where
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", where
    assert response["X-Content-Type-Options"] == "nosniff", where


@pytest.mark.parametrize("role", ["manager", "head", "finance", "admin_user"])
def test_every_html_page_carries_the_policy_and_no_inline_code(request, role, company):
    """R4: a crawl of every page without arguments (and a dossier): each HTML answer carries the Content
    Security Policy and the other headers, and its HTML holds no inline script or handler."""
    user = request.getfixturevalue(role)
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    urls = [*_crawlable_urls(), reverse("companies:detail", args=[company.pk]), "/api/docs/"]
    seen = 0
    for url in urls:
        response = client.get(url, follow=True)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        seen += 1
        _assert_policy(response, url)
        assert inline_code(response.content.decode()) == [], url
    assert seen > 15


def test_the_login_page_carries_the_policy():
    """R4: a visitor who is not signed in gets the same policy."""
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    _assert_policy(response, "login")
    assert response["X-Frame-Options"] == "DENY"


def test_the_api_docs_run_without_an_inline_script(manager):
    """R4: Swagger UI's start-up script is a file of its own (drf-spectacular's split view) under the
    policy; the page still loads the bundled Swagger UI."""
    client = Client()
    client.force_login(manager)
    page = client.get("/api/docs/", HTTP_ACCEPT="text/html")
    html = page.content.decode()
    assert page.status_code == 200 and "Content-Security-Policy" in page
    assert inline_code(html) == []
    script_url = re.search(r'<script src="([^"]*script[^"]*)"', html)
    assert script_url, html
    script = client.get(script_url.group(1).replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_the_public_form_may_be_framed_by_other_sites_and_nothing_else_may(manager):
    """R2, R4: the embeddable inquiry form (and its thank-you page) lets any site frame it, as companies put
    it on their own sites; every other page forbids framing (clickjacking)."""
    for name in ("public_inquiry", "public_inquiry_thanks"):
        response = Client().get(reverse(name))
        policy = parse_policy(response["Content-Security-Policy"])
        assert policy["frame-ancestors"] == "*", name
        assert policy["script-src"] == "'self'", name
        assert "X-Frame-Options" not in response, name


def test_the_public_form_framing_follows_the_setting(settings):
    """R4: KURATOR_EMBED_FRAME_ANCESTORS narrows who may frame the form to the company's own sites."""
    settings.KURATOR_EMBED_FRAME_ANCESTORS = "https://romashka.ru https://*.romashka.ru"
    response = Client().get(reverse("public_inquiry"))
    assert parse_policy(response["Content-Security-Policy"])["frame-ancestors"] == (
        "https://romashka.ru https://*.romashka.ru"
    )


def test_kurator_csp_replaces_the_policy_and_report_only_reports(settings):
    """R4: KURATOR_CSP replaces the whole policy; KURATOR_CSP_REPORT_ONLY sends it as a report only."""
    settings.KURATOR_CSP = "default-src 'self'; script-src 'self' https://cdn.example.ru"
    response = Client().get(reverse("login"))
    assert (
        response["Content-Security-Policy"] == "default-src 'self'; script-src 'self' https://cdn.example.ru"
    )
    settings.KURATOR_CSP_REPORT_ONLY = True
    response = Client().get(reverse("login"))
    assert "Content-Security-Policy" not in response
    assert response["Content-Security-Policy-Report-Only"].startswith("default-src 'self'")


def test_json_answers_carry_no_page_policy(manager):
    """R4: the policy is for pages; API answers and downloads are left as they are (a PDF opens in the
    browser's viewer), with nosniff and the other headers still set."""
    client = Client()
    client.force_login(manager)
    response = client.get("/api/v1/users/me/")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response
    assert response["X-Content-Type-Options"] == "nosniff"


def test_default_policy_is_the_documented_one():
    """R4: no inline scripts, no eval, no plugins, no foreign forms or base URLs, no framing."""
    assert DEFAULT_CSP["script-src"] == "'self'"
    assert DEFAULT_CSP["default-src"] == "'self'"
    assert DEFAULT_CSP["form-action"] == "'self'"
    assert DEFAULT_CSP["base-uri"] == "'self'"


def test_cookies_are_http_only_and_same_site():
    """R4: the session cookie is out of scripts' reach; both cookies are SameSite=Lax. (The CSRF cookie is
    readable on purpose: the deal board's fetch() sends it; Django's docs say HttpOnly would add nothing.)"""
    assert django_settings.SESSION_COOKIE_HTTPONLY is True
    assert django_settings.SESSION_COOKIE_SAMESITE == "Lax"
    assert django_settings.CSRF_COOKIE_SAMESITE == "Lax"


def test_production_settings_pass_check_deploy(tmp_path):
    """R4: with HTTPS=1 DEBUG=0 and a real SECRET_KEY, `manage.py check --deploy` has nothing to warn about
    (secure cookies, HSTS, SSL redirect, …)."""
    env = dict(
        os.environ,
        HTTPS="1",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="kurator.example.ru",
        KURATOR_VAR_DIR=str(tmp_path),
    )
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp_path}/check.sqlite3")
    # The browser tests' fixtures set it in this process (Playwright runs an event loop); production does not.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
