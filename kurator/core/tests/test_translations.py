"""The Russian interface is complete: translated, placeholders kept, catalogue current, page in Russian."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

LOCALE_DIR = Path(settings.BASE_DIR) / "kurator" / "locale"
RU_PO = LOCALE_DIR / "ru" / "LC_MESSAGES" / "django.po"
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
RU_PLURAL_FORMS = (
    "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
)
# The same source tree the documented `makemessages` command scans; "locale" keeps the run from
# registering kurator/locale as an output directory (see test_catalogue_is_current).
IGNORE = [".venv", "var", "static", "bench", "tests", "locale"]
# %(name)s, %(sec).1f, %s, %d …; "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[diouxXeEfFgGcrsa]")


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text.replace("%%", "")))


def key(entry: polib.POEntry) -> tuple[str | None, str]:
    return (entry.msgctxt, entry.msgid)


@pytest.fixture(scope="module")
def ru() -> polib.POFile:
    return polib.pofile(str(RU_PO))


def test_ru_catalogue_has_no_untranslated_or_fuzzy_entries(ru):
    """Every message of the interface has a reviewed Russian translation; Russian is the default language."""
    assert settings.LANGUAGE_CODE == "ru"
    assert ru.metadata["Language"] == "ru"
    assert "charset=UTF-8" in ru.metadata["Content-Type"]
    assert ru.metadata["Plural-Forms"] == RU_PLURAL_FORMS
    assert not ru.metadata_is_fuzzy
    entries = [e for e in ru if not e.obsolete]
    assert len(entries) > 300
    assert [e.msgid for e in ru.untranslated_entries()] == []
    assert [e.msgid for e in ru.fuzzy_entries()] == []
    for entry in entries:
        if entry.msgid_plural:
            assert sorted(entry.msgstr_plural) == [0, 1, 2], entry.msgid


def test_ru_translations_keep_the_placeholders(ru):
    """A translation uses exactly its msgid's placeholders, so `%` formatting never fails or loses data."""
    wrong = []
    for entry in ru:
        if entry.obsolete or "python-format" not in entry.flags:
            continue
        if entry.msgid_plural:
            # Russian form 0 also serves 21, 31, …, so every form carries the plural msgid's placeholders.
            expected = placeholders(entry.msgid_plural)
            forms = entry.msgstr_plural.values()
            wrong += [(entry.msgid, form) for form in forms if placeholders(form) != expected]
        elif placeholders(entry.msgstr) != placeholders(entry.msgid):
            wrong.append((entry.msgid, entry.msgstr))
    assert wrong == []


def test_en_catalogue_header():
    """English falls back to the msgids; its catalogue exists with a proper header and nothing fuzzy."""
    en = polib.pofile(str(EN_PO))
    assert en.metadata["Language"] == "en"
    assert en.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert not en.metadata_is_fuzzy
    assert en.fuzzy_entries() == []


def test_catalogue_is_current(ru, tmp_path, settings, monkeypatch):
    """No msgid of the code or templates is missing from the committed Russian catalogue."""
    if shutil.which("xgettext") is None:
        if os.environ.get("REQUIRE_GETTEXT") == "1":
            pytest.fail("REQUIRE_GETTEXT=1 but GNU gettext (xgettext) is not installed")
        pytest.skip("GNU gettext (xgettext) is not installed: makemessages cannot extract the msgids")
    # makemessages writes to the first LOCALE_PATHS entry; with kurator/locale ignored it never
    # touches the committed catalogue.
    settings.LOCALE_PATHS = [str(tmp_path)]
    monkeypatch.chdir(settings.BASE_DIR)
    call_command("makemessages", locale=["ru"], domain="django", ignore_patterns=IGNORE, verbosity=0)
    extracted = polib.pofile(str(tmp_path / "ru" / "LC_MESSAGES" / "django.po"))
    committed = {key(e) for e in ru if not e.obsolete}
    missing = sorted(
        f"{e.msgid!r} ({', '.join(f'{path}:{line}' for path, line in e.occurrences)})"
        for e in extracted
        if key(e) not in committed
    )
    assert missing == [], (
        "run `manage.py makemessages -l ru -l en --ignore=.venv --ignore=var --ignore=static "
        "--ignore=bench --ignore=tests` and translate the new entries"
    )


@pytest.mark.django_db
def test_company_list_renders_in_russian(manager, ru, settings, tmp_path):
    """The client base page speaks Russian to a browser that asks for Russian."""
    # The committed catalogue is compiled into a private directory: the shared .mo may be stale, and
    # rewriting it in place would race with parallel test workers reading it.
    (tmp_path / "ru" / "LC_MESSAGES").mkdir(parents=True)
    ru.save_as_mofile(str(tmp_path / "ru" / "LC_MESSAGES" / "django.mo"))
    # Assigning LOCALE_PATHS also drops Django's cached catalogues, so this .mo is the one read.
    settings.LOCALE_PATHS = [str(tmp_path)]
    client = Client(headers={"Accept-Language": "ru"})
    client.force_login(manager)
    response = client.get("/companies/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ru"' in html
    for russian in (">Компании<", "Клиентская база", "Найти", "Выйти"):
        assert russian in html
    for english in ("Companies", "Client base", ">Find<", "Log out"):
        assert english not in html


@pytest.mark.django_db
def test_words_agree_with_what_they_name_in_russian(head, manager, ru, settings, tmp_path):
    """One English word, several Russian ones (by context): a person's «Name» is «ФИО», a user's «Deactivate»
    is «Отключить», an API token (masculine) is «активен»."""
    from kurator.accounts.tokens import api_token_create

    (tmp_path / "ru" / "LC_MESSAGES").mkdir(parents=True)
    ru.save_as_mofile(str(tmp_path / "ru" / "LC_MESSAGES" / "django.mo"))
    settings.LOCALE_PATHS = [str(tmp_path)]
    api_token_create(actor=head, name="1С")
    client = Client(headers={"Accept-Language": "ru"})
    client.force_login(head)
    users = client.get("/users/").content.decode()
    assert "<th>ФИО</th>" in users and "<th>Название</th>" not in users
    assert ">Отключить</a>" in users  # the colleague's row
    tokens = client.get("/accounts/tokens/").content.decode()
    assert ">активен<" in tokens and ">активна<" not in tokens
