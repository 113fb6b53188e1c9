"""The shell of the UI: vendored assets only, log in and out, language switch, error pages, helpers."""

from __future__ import annotations

import io
import re
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client
from django.urls import reverse

from kurator.ui import vendor
from tests.factories import company_factory

pytestmark = pytest.mark.django_db

STATIC = Path(settings.BASE_DIR) / "static"


def login(user, language: str = "en") -> Client:
    client = Client(headers={"Accept-Language": language})
    client.force_login(user)
    return client


def test_vendored_assets_are_committed_small_and_listed():
    """The UI needs no network at run time: every pinned file is in static/vendor, listed with its version."""
    versions = (STATIC / "vendor" / "VERSIONS.txt").read_text(encoding="utf-8")
    for package in vendor.PACKAGES:
        assert f"{package.name} {package.version} " in versions
        for destination in package.files.values():
            assert (STATIC / vendor.static_path(package, destination)).is_file(), destination
    sprite = (STATIC / vendor.static_path(vendor.TABLER_ICONS, vendor.SPRITE_NAME)).read_text(
        encoding="utf-8"
    )
    for name in vendor.ICONS:
        assert f'id="tabler-{name}"' in sprite
    total = sum(f.stat().st_size for f in (STATIC / "vendor").rglob("*") if f.is_file())
    assert total < 5 * 1024 * 1024
    css = (STATIC / vendor.static_path(vendor.TABLER_CORE, "css/tabler.min.css")).read_text(encoding="utf-8")
    assert not re.search(r"url\((?![\"']?data:)", css), "the stylesheet must not load anything else"
    assert "@import" not in css


def test_sprite_is_built_from_the_outline_icons():
    """make vendor: an icon's SVG becomes a <symbol> keyed by name, without Tabler's invisible frame."""
    svg = (
        '<svg\n  xmlns="http://www.w3.org/2000/svg"\n  width="24"\n  viewBox="0 0 24 24"\n  class="icon">\n'
        '  <path stroke="none" d="M0 0h24v24H0z" fill="none" />\n  <path d="M3 21l18 0" />\n</svg>\n'
    )
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in vendor.ICONS:
            data = svg.encode()
            info = tarfile.TarInfo(f"package/icons/outline/{name}.svg")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    with tarfile.open(fileobj=buffer, mode="r:gz") as archive:
        sprite = vendor.build_sprite(archive)
    assert '<symbol id="tabler-building" viewBox="0 0 24 24"><path d="M3 21l18 0" /></symbol>' in sprite
    assert "M0 0h24v24H0z" not in sprite


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'<(?:link|script|img)\b[^>]*\b(?:href|src)="([^"]+)"', html)


def test_pages_load_assets_only_from_kurator(manager):
    """No asset comes from the network: every stylesheet, script and icon is a local /static/ URL."""
    company = company_factory(actor=manager, full_name="ООО «Ромашка»")
    pages = [
        Client().get(reverse("login")).content.decode(),
        login(manager).get(reverse("companies:list")).content.decode(),
        login(manager).get(reverse("companies:detail", args=[company.pk])).content.decode(),
    ]
    for html in pages:
        urls = _asset_urls(html) + re.findall(r'<use href="([^"]+)"', html)
        assert urls
        assert all(url.startswith("/static/") for url in urls), urls


def test_login_and_logout(manager):
    """R4: a user logs in with the form, lands on the company list, and logs out with a POST."""
    client = Client()
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert 'name="username"' in page.content.decode()
    wrong = client.post(reverse("login"), {"username": "manager", "password": "nope"})
    assert wrong.status_code == 200 and "alert-danger" in wrong.content.decode()
    response = client.post(reverse("login"), {"username": "manager", "password": "kurator-test-pass"})
    assert response.status_code == 302 and response["Location"] == reverse("companies:list")
    menu = client.get(reverse("companies:list")).content.decode()
    assert "Петров Иван" in menu and 'action="/accounts/logout/"' in menu
    assert client.get(reverse("logout")).status_code == 405  # logging out is a POST only
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("companies:list")).status_code == 302


def test_language_switch_sets_the_language(manager):
    """The UI speaks Russian by default and switches to English with the set_language form."""
    client = Client()
    client.force_login(manager)
    page = client.get(reverse("companies:list")).content.decode()
    assert '<html lang="ru">' in page
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("companies:list")})
    assert response.status_code == 302
    assert '<html lang="en">' in client.get(reverse("companies:list")).content.decode()


def test_forbidden_page_uses_the_kurator_layout(finance):
    """R4: a refused action answers 403 with an explanation inside the normal layout."""
    response = login(finance).get(reverse("companies:create"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "403" in page and "kurator.css" in page and "Соколов Сергей" in page


def test_not_found_page_uses_the_kurator_layout(manager, settings):
    settings.DEBUG = False
    response = login(manager).get("/no-such-page/")
    assert response.status_code == 404
    assert "kurator.css" in response.content.decode()


def test_icon_tag_refuses_an_icon_that_is_not_vendored():
    """A typo in an icon name fails the page tests instead of showing an empty square."""
    rendered = Template('{% load ui %}{% icon "building" %}').render(Context())
    assert "#tabler-building" in rendered and rendered.startswith("<svg")
    with pytest.raises(TemplateSyntaxError):
        Template('{% load ui %}{% icon "no-such-icon" %}').render(Context())
