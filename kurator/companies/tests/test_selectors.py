"""Reading the dossier: search, filters and sorting of the company list (D1, D2, R3). Runs on SQLite and
PostgreSQL alike: Cyrillic case folding must not depend on the engine."""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kurator.companies import services
from kurator.companies.models import Company, CompanyStatus, ContactSource
from kurator.companies.selectors import company_get, company_list, search_terms
from kurator.core.requisites import generate_inn
from kurator.core.text import normalize_company_name
from tests.factories import bank_account_factory, company_factory, contact_factory


def names(qs) -> list[str]:
    return [c.short_name for c in qs]


def found(actor, query: str) -> set[str]:
    return set(names(company_list(actor=actor, search=query)))


@pytest.fixture
def base(manager, other_manager):
    """A small client base with names in different cases, ё, phones and people."""
    sources = list(ContactSource.objects.order_by("position")[:2])
    companies = {
        "gazprom": company_factory(
            actor=manager,
            full_name="Публичное акционерное общество «Газпром»",
            short_name="ПАО «Газпром»",
            inn="7736050003",
            kpp="772801001",
            city="Санкт-Петербург",
            status=CompanyStatus.CLIENT,
            source=sources[0],
            phones=["+7 495 123 45 67"],
        ),
        "romashka": company_factory(
            actor=other_manager,
            full_name="ООО «РОМАШКА»",
            city="Москва",
            status=CompanyStatus.PROSPECT,
            source=sources[1],
            phones=["8 (812) 555-00-11"],
        ),
        "yolka": company_factory(
            actor=manager,
            full_name="ООО «Ёлка-Трейд»",
            city="Москва",
            status=CompanyStatus.FORMER,
            emails=["office@elka.ru"],
        ),
        "gazstroy": company_factory(
            actor=other_manager,
            full_name="АО «ГазСтройМонтаж»",
            city="Казань",
            status=CompanyStatus.CLIENT,
        ),
    }
    contact_factory(
        actor=other_manager,
        company=companies["gazstroy"],
        full_name="Семёнов Артём Петрович",
        phones=["+7 916 765 43 21"],
    )
    return companies


# Search -------------------------------------------------------------------------------------------------


def test_name_fragment_in_lower_case_finds_capitalised_cyrillic_names(manager, base):
    """D1, R3: `газ` finds «Газпром» and «ГазСтройМонтаж»; `ромашка` finds ООО «РОМАШКА»."""
    assert found(manager, "газ") == {"ПАО «Газпром»", "АО «ГазСтройМонтаж»"}
    assert found(manager, "ромашка") == {"ООО «РОМАШКА»"}
    assert found(manager, "РоМаШкА") == {"ООО «РОМАШКА»"}
    assert found(manager, "ГАЗПРОМ") == {"ПАО «Газпром»"}


def test_yo_and_ye_are_the_same_letter_in_search(manager, base):
    """D1: `елка` finds «Ёлка», `ёлка` too; and the other way round for people's names."""
    assert found(manager, "елка") == {"ООО «Ёлка-Трейд»"}
    assert found(manager, "ЁЛКА") == {"ООО «Ёлка-Трейд»"}
    assert found(manager, "семенов") == {"АО «ГазСтройМонтаж»"}
    assert found(manager, "Артём") == {"АО «ГазСтройМонтаж»"}


def test_search_by_inn(manager, base):
    """D1: the INN, whole or in part, finds the company."""
    assert found(manager, "7736050003") == {"ПАО «Газпром»"}
    assert found(manager, " 7736 050 003 ") == {"ПАО «Газпром»"}
    assert found(manager, "77360500") == {"ПАО «Газпром»"}


def test_search_by_inn_that_also_reads_as_a_phone_number(manager):
    """D1: an INN of Crimea (91…) or Sevastopol (92…) is also a valid mobile number (+7 91x/92x); searching
    for it must still find the company by its INN."""
    rng = random.Random(5)
    inn = next(i for i in (generate_inn(rng, "legal") for _ in range(1000)) if i.startswith("910"))
    company = company_factory(actor=manager, full_name="ООО «Крымский берег»", inn=inn)
    assert found(manager, inn) == {company.short_name}


@pytest.mark.parametrize(
    "spelling", ["8 (495) 123-45-67", "+7 495 123 45 67", "+74951234567", "84951234567", "(495) 123-45-67"]
)
def test_search_by_company_phone_in_any_spelling(manager, base, spelling):
    """D1: a phone stored as `+7 495 123 45 67` is found however it is typed."""
    assert found(manager, spelling) == {"ПАО «Газпром»"}


def test_search_by_part_of_a_phone(manager, base):
    """D1: the tail of a number, as people remember it, finds the company."""
    assert found(manager, "555-00-11") == {"ООО «РОМАШКА»"}
    assert found(manager, "5550011") == {"ООО «РОМАШКА»"}


def test_phone_among_words_is_searched_as_a_phone(manager, base):
    """D1: `газпром 8-495-123-45-67` finds the company by name and phone together."""
    assert found(manager, "газпром 8-495-123-45-67") == {"ПАО «Газпром»"}
    assert found(manager, "ромашка 8-495-123-45-67") == set()


def test_persons_phone_finds_the_company(manager, base):
    """D2: the phone of a person of the client finds the client."""
    assert found(manager, "8-916-765-43-21") == {"АО «ГазСтройМонтаж»"}


def test_search_by_email(manager, base):
    """D1: an e-mail address finds the company."""
    assert found(manager, "office@elka.ru") == {"ООО «Ёлка-Трейд»"}


def test_several_words_must_all_match(manager, base):
    """D1: `газ монтаж` finds only the company with both words, in any order."""
    assert found(manager, "газ монтаж") == {"АО «ГазСтройМонтаж»"}
    assert found(manager, "монтаж газ") == {"АО «ГазСтройМонтаж»"}
    assert found(manager, "газ ромашка") == set()
    assert found(manager, "  газ   пао  ") == {"ПАО «Газпром»"}


def test_search_finds_after_an_edit(manager, base):
    """D1: the search follows the dossier: a renamed company is found by its new name only."""
    services.company_update(actor=manager, company=base["yolka"], short_name="Сосна", full_name="ООО «Сосна»")
    assert found(manager, "сосна") == {"Сосна"}
    assert found(manager, "елка") == set()


def test_search_finds_a_person_added_through_a_stale_instance(manager, base):
    """D2: people added after an edit, through an older copy of the company, are still searchable, and the
    edit is not undone in the search."""
    stale = Company.objects.get(pk=base["romashka"].pk)
    services.company_update(actor=base["romashka"].curator, company=base["romashka"], short_name="Ромашка-Юг")
    contact_factory(actor=base["romashka"].curator, company=stale, full_name="Жукова Алла")
    assert found(manager, "жукова") == {"Ромашка-Юг"}
    assert found(manager, "юг") == {"Ромашка-Юг"}


def test_hyphens_and_spaces_find_each_other(manager):
    """D1, R3: «Бетонмонтаж-Сервис» finds «Бетонмонтаж Сервис» and the other way round; quotes and dots
    typed with a name do not get in the way."""
    company_factory(actor=manager, full_name="ООО «Бетонмонтаж Сервис»")
    company_factory(actor=manager, full_name="ООО «Ёлка-Трейд»")
    assert found(manager, "Бетонмонтаж-Сервис") == {"ООО «Бетонмонтаж Сервис»"}
    assert found(manager, "бетонмонтаж–сервис") == {"ООО «Бетонмонтаж Сервис»"}  # an en dash
    assert found(manager, "Елка Трейд") == {"ООО «Ёлка-Трейд»"}
    assert found(manager, "«Ёлка-Трейд»") == {"ООО «Ёлка-Трейд»"}
    assert found(manager, "ООО «Бетонмонтаж-Сервис»") == {"ООО «Бетонмонтаж Сервис»"}
    assert found(manager, "Бетонмонтаж-Трейд") == set()


def test_search_terms_split_words_on_punctuation_but_keep_numbers_whole():
    """D1: punctuation separates words; a number keeps its digits together (a phone typed with dashes)."""
    assert search_terms("Бетонмонтаж-Сервис") == [["бетонмонтаж"], ["сервис"]]
    assert search_terms("ООО «Ромашка»") == [["ооо"], ["ромашка"]]
    assert search_terms("Каскад-2000") == [["каскад"], ["2000"]]
    assert search_terms("ромашка 555-00-11") == [["ромашка"], ["5550011"]]
    assert search_terms("%") == [["%"]]


def test_kpp_is_searchable(manager, base):
    """D1: a branch is found by its KPP, as by its INN."""
    assert found(manager, "772801001") == {"ПАО «Газпром»"}
    assert found(manager, "7728") == {"ПАО «Газпром»"}


def test_search_special_characters_are_literal(manager, base):
    """D1: `%` and `_` are not wildcards."""
    assert found(manager, "%") == set()
    assert found(manager, "_") == set()


def test_empty_search_returns_everything(manager, base):
    """R3: no search, no filter: the whole base."""
    assert len(found(manager, "")) == 4
    assert search_terms("   ") == []


# Filters and sorting -------------------------------------------------------------------------------------


def test_filters_by_curator_status_source_and_city(manager, other_manager, base):
    """R2, D1: the list is filtered by curator, status, contact source and city, together."""
    assert set(names(company_list(actor=manager, curator=other_manager.pk))) == {
        "ООО «РОМАШКА»",
        "АО «ГазСтройМонтаж»",
    }
    assert set(names(company_list(actor=manager, status=CompanyStatus.CLIENT))) == {
        "ПАО «Газпром»",
        "АО «ГазСтройМонтаж»",
    }
    assert names(company_list(actor=manager, source=base["romashka"].source_id)) == ["ООО «РОМАШКА»"]
    assert set(names(company_list(actor=manager, city="Москва"))) == {"ООО «РОМАШКА»", "ООО «Ёлка-Трейд»"}
    assert names(company_list(actor=manager, city="Москва", curator=manager.pk)) == ["ООО «Ёлка-Трейд»"]
    assert names(company_list(actor=manager, search="газ", status=CompanyStatus.CLIENT, city="Казань")) == [
        "АО «ГазСтройМонтаж»"
    ]


def test_city_filter_ignores_the_case_of_cyrillic(manager, base):
    """D1: `москва` and `САНКТ-ПЕТЕРБУРГ` typed in the filter find `Москва` and `Санкт-Петербург`."""
    assert set(names(company_list(actor=manager, city="москва"))) == {"ООО «РОМАШКА»", "ООО «Ёлка-Трейд»"}
    assert names(company_list(actor=manager, city=" САНКТ-ПЕТЕРБУРГ ")) == ["ПАО «Газпром»"]
    assert names(company_list(actor=manager, city="Моск")) == []


def test_sorts(manager, base):
    """D1: sorting by name (without the legal form and quotes), completeness, update time and curator."""
    by_name = names(company_list(actor=manager, sort="name"))
    assert by_name == sorted(by_name, key=normalize_company_name)
    # «ПАО «Газпром»» sorts under Г, before «ООО «РОМАШКА»», although «ООО» < «ПАО» letter by letter.
    assert by_name.index("ПАО «Газпром»") < by_name.index("ООО «РОМАШКА»")
    assert names(company_list(actor=manager, sort="-name")) == by_name[::-1]

    complete = base["romashka"]
    bank_account_factory(actor=complete.curator, company=complete)
    completeness = [c.completeness for c in company_list(actor=manager, sort="-completeness")]
    assert completeness == sorted(completeness, reverse=True)
    assert company_list(actor=manager, sort="-completeness")[0] == complete
    assert [c.completeness for c in company_list(actor=manager, sort="completeness")] == completeness[::-1]

    services.company_update(actor=manager, company=base["gazprom"], notes="свежая правка")
    assert company_list(actor=manager, sort="-updated")[0] == base["gazprom"]

    curators = [c.curator.last_name for c in company_list(actor=manager, sort="curator")]
    assert curators == sorted(curators)

    assert names(company_list(actor=manager, sort="no-such-sort")) == by_name


def test_list_runs_a_constant_number_of_queries(manager, base):
    """R3: the list reads curator and source without a query per row."""
    with CaptureQueriesContext(connection) as few:
        [(c.curator.full_name, c.source) for c in company_list(actor=manager)]
    for _ in range(5):
        company_factory(actor=manager, source=ContactSource.objects.first())
    with CaptureQueriesContext(connection) as many:
        [(c.curator.full_name, c.source) for c in company_list(actor=manager)]
    assert len(few) == len(many) == 1


def test_outsiders_get_an_empty_list(base):
    """R4: a visitor who is not logged in sees no company."""
    visitor: Any = AnonymousUser()
    assert not company_list(actor=visitor).exists()


def test_company_get_reads_the_whole_dossier_in_constant_queries(manager, base):
    """D1, D2: the dossier page reads company, accounts and people in a fixed number of queries."""
    company = base["gazstroy"]
    for index in range(3):
        contact_factory(actor=company.curator, company=company, full_name=f"Сотрудник {index}")
    with CaptureQueriesContext(connection) as queries:
        dossier = company_get(actor=manager, company_id=str(company.pk))
        people = [(p.full_name, p.reports_to) for p in dossier.contacts.all()]
        accounts = list(dossier.bank_accounts.all())
        categories = list(dossier.product_categories.all())
    assert len(people) == 4
    assert accounts == categories == []
    assert len(queries) == 4
