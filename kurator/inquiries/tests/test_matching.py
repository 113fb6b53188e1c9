"""The matcher (R2, S1): certain, strong and possible matches, each with the reasons people see.

Runs on both engines: on PostgreSQL it finds candidates through the exact-key and trigram indexes, on SQLite
through substrings; the verdicts and reasons must be the same.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from kurator.companies.models import Company
from kurator.inquiries.matching import (
    is_public_domain,
    match_company,
    reason_text,
    website_domain,
)
from kurator.inquiries.models import PublicMailDomain
from tests.factories import company_factory, contact_factory

pytestmark = pytest.mark.django_db

SBER_INN = "7707083893"
SBER_KPP = "773601001"
SBER_OGRN = "1027700132195"


def _codes(result) -> list[str]:
    return [r["code"] for r in result.reasons]


# Certain ----------------------------------------------------------------------------------------------------


def test_same_inn_is_certain_and_the_reason_names_it(manager):
    """R2: the same INN (typed with spaces) is a certain match; the reason names the INN."""
    company = company_factory(actor=manager, inn=SBER_INN, kpp=SBER_KPP, full_name='ПАО "Сбербанк"')
    result = match_company(inn="7707 083 893")
    assert result.confidence == "certain"
    assert result.company == company
    assert result.is_match
    assert _codes(result) == ["inn"]
    assert result.reasons[0]["company"] == company.pk
    assert "7707083893" in result.reasons[0]["text"]
    assert result.candidates[0]["curator"] == manager.pk


def test_same_inn_and_kpp_is_certain_another_kpp_is_a_branch(manager):
    """R2: INN + the same KPP is certain; the same INN with another KPP is a branch — strong, not certain."""
    head_office = company_factory(actor=manager, inn=SBER_INN, kpp=SBER_KPP)
    exact = match_company(inn=SBER_INN, kpp=SBER_KPP)
    assert (exact.confidence, exact.company) == ("certain", head_office)
    assert SBER_KPP in exact.reasons[0]["text"]

    branch = match_company(inn=SBER_INN, kpp="773643001")
    assert (branch.confidence, branch.company) == ("strong", head_office)
    assert branch.reasons[0]["key"] == "inn_branch"
    assert SBER_KPP in branch.reasons[0]["text"]


def test_same_ogrn_is_certain(manager):
    """R2: the same OGRN is a certain match."""
    company = company_factory(actor=manager, inn=SBER_INN, kpp=SBER_KPP, ogrn=SBER_OGRN)
    result = match_company(ogrn=SBER_OGRN)
    assert (result.confidence, result.company) == ("certain", company)
    assert _codes(result) == ["ogrn"]
    assert SBER_OGRN in result.reasons[0]["text"]


def test_certain_beats_strong_evidence_for_another_company(manager):
    """R2: an INN outweighs a phone that points elsewhere; both companies are listed as candidates."""
    by_inn = company_factory(actor=manager, inn=SBER_INN, kpp=SBER_KPP)
    by_phone = company_factory(actor=manager, phones=["+7 495 500-55-50"])
    result = match_company(inn=SBER_INN, phones=["+74955005550"])
    assert (result.confidence, result.company) == ("certain", by_inn)
    assert [c["company"] for c in result.candidates] == [by_inn.pk, by_phone.pk]


# Strong -----------------------------------------------------------------------------------------------------


def test_company_phone_in_any_spelling_is_strong(manager):
    """R2: the company's own phone typed the Russian way (8 …) is a strong match; extensions do not matter."""
    company = company_factory(actor=manager, phones=["+7 495 123-45-67 доб. 12"])
    result = match_company(phones=["8 (495) 123-45-67"])
    assert (result.confidence, result.company) == ("strong", company)
    assert _codes(result) == ["phone"]
    assert "+74951234567" in result.reasons[0]["text"]


def test_person_phone_is_strong_and_names_the_person(manager):
    """R2: the phone of one of the company's people is a strong match; the reason names the person."""
    company = company_factory(actor=manager, full_name="ООО «Ромашка»")
    contact_factory(actor=manager, company=company, full_name="Сидоров Пётр", phones=["+7 916 123-45-67"])
    result = match_company(phones=["+7 (916) 123 45 67"], name='ООО "Ромашка"')
    assert (result.confidence, result.company) == ("strong", company)
    assert _codes(result) == ["phone", "name"]
    assert "Сидоров Пётр" in result.reasons[0]["text"]


def test_person_who_left_is_not_a_phone_match(manager):
    """R2: a person marked as no longer working at the company does not tie a phone to it."""
    company = company_factory(actor=manager)
    contact_factory(actor=manager, company=company, phones=["+7 916 123-45-67"], is_active=False)
    assert match_company(phones=["+79161234567"]).confidence == "none"


def test_company_and_person_email_are_strong_in_any_case(manager):
    """R2: the same e-mail — of the company or of a person — is a strong match, whatever the case."""
    company = company_factory(actor=manager, emails=["office@romashka.ru"])
    contact_factory(actor=manager, company=company, emails=["p.sidorov@romashka.ru"])
    by_company = match_company(emails=["Office@Romashka.RU"])
    assert (by_company.confidence, by_company.company) == ("strong", company)
    assert by_company.reasons[0]["key"] == "email_company"
    by_person = match_company(emails="p.sidorov@romashka.ru")
    assert by_person.reasons[0]["key"] == "email_person"
    assert by_person.company == company


def test_corporate_domain_of_a_colleague_is_strong(manager):
    """R2: a new address at the company's mail domain is a strong match; the reason shows a known address."""
    company = company_factory(actor=manager)
    contact_factory(actor=manager, company=company, emails=["buh@romashka-trade.ru"])
    result = match_company(emails=["director@romashka-trade.ru"])
    assert (result.confidence, result.company) == ("strong", company)
    assert _codes(result) == ["domain"]
    assert "romashka-trade.ru" in result.reasons[0]["text"]
    assert "buh@romashka-trade.ru" in result.reasons[0]["text"]


def test_website_domain_is_strong_also_for_a_subdomain(manager):
    """R2: a mail domain equal to the company's website (or a subdomain of it) is a strong match."""
    company = company_factory(actor=manager, website="https://www.Romashka-Trade.ru/contacts")
    result = match_company(emails=["ivan@romashka-trade.ru"])
    assert (result.confidence, result.company) == ("strong", company)
    assert result.reasons[0]["key"] == "domain_website"
    sub = match_company(emails=["ivan@msk.romashka-trade.ru"])
    assert sub.company == company


@pytest.mark.parametrize("domain", ["mail.ru", "gmail.com", "yandex.ru", "bk.ru", "list.ru", "inbox.ru"])
def test_public_mail_domains_never_match(manager, domain):
    """R2: a public mail service's domain says nothing about the company, even on its website."""
    company_factory(actor=manager, emails=[f"romashka@{domain}"], website=f"https://{domain}")
    result = match_company(emails=[f"ivan.petrov@{domain}"])
    assert result.confidence == "none"
    assert is_public_domain(domain)
    # The exact address still identifies its owner: it is the domain alone that says nothing.
    assert match_company(emails=[f"romashka@{domain}"]).confidence == "strong"


def test_public_domain_list_is_editable(manager):
    """R2: a domain added to the public list stops being a match reason (subdomains included)."""
    company_factory(actor=manager, emails=["office@corp-mail.example"])
    assert match_company(emails=["x@corp-mail.example"]).confidence == "strong"
    PublicMailDomain.objects.create(domain="corp-mail.example")
    assert match_company(emails=["x@corp-mail.example"]).confidence == "none"
    assert is_public_domain("eu.corp-mail.example")


def test_strong_evidence_for_two_companies_waits_for_a_person(manager, other_manager):
    """R2: a phone of one company and an e-mail of another: possible — the head of sales decides."""
    first = company_factory(actor=manager, phones=["+74951112233"])
    second = company_factory(actor=other_manager, emails=["info@second.ru"])
    result = match_company(phones=["+7 495 111-22-33"], emails=["info@second.ru"])
    assert result.confidence == "possible"
    assert {c["company"] for c in result.candidates} == {first.pk, second.pk}
    assert all(c["confidence"] == "strong" for c in result.candidates)


def test_phone_of_a_company_with_another_inn_is_only_possible(manager):
    """R2: the inquiry's INN differs from the one on record: the phone may be a related firm's — possible."""
    company = company_factory(actor=manager, phones=["+74951112233"])
    result = match_company(inn=SBER_INN, phones=["+74951112233"])
    assert result.confidence == "possible"
    assert result.company == company
    assert not result.is_match


# Possible: names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        'ООО "Ёлка-Трейд"',
        "елка трейд",
        "«ЁЛКА ТРЕЙД», ООО",
        "Общество с ограниченной ответственностью «Ёлка Трейд»",
        "Elka",  # unrelated in Latin: not the same name (control below)
        "OOO «Елка Трейд»",  # Latin look-alike letters of ООО
        "Ёлка Трейд LLC",
    ],
)
def test_name_variants_are_a_possible_match(manager, typed):
    """R2: legal forms (ООО, LLC, OOO), quotes, case and ё are set aside: the same name is possible."""
    company = company_factory(actor=manager, full_name="ООО «Ёлка Трейд»")
    result = match_company(name=typed)
    if typed == "Elka":
        assert result.confidence == "none"
        return
    assert (result.confidence, result.company) == ("possible", company)
    assert _codes(result) == ["name"]
    assert result.reasons[0]["score"] == 100.0
    # The reason quotes the company as written, not its folded sort key.
    assert "ООО «Ёлка Трейд»" in result.reasons[0]["text"]


def test_similar_name_with_a_typo_is_possible_with_a_score(manager):
    """R2: a typo still finds the company (rapidfuzz score ≥ 85, shown in the reason)."""
    company = company_factory(actor=manager, full_name="ООО «Стройтехмонтаж»")
    result = match_company(name="Стройтехмантаж")
    assert (result.confidence, result.company) == ("possible", company)
    assert 85 <= result.reasons[0]["score"] < 100
    assert "%" in result.reasons[0]["text"]


def test_a_longer_different_name_is_not_a_match(manager):
    """R2: «Ромашка Плюс Логистик» is not «Ромашка»: below the threshold, no match."""
    company_factory(actor=manager, full_name="ООО «Ромашка»")
    assert match_company(name="ООО «Ромашка Плюс Логистик»").confidence == "none"


# Merged, excluded, nothing ---------------------------------------------------------------------------------


def test_merged_companies_are_never_matched(manager):
    """R2, D12: a merged duplicate is not matched by INN, phone, e-mail or name; its survivor is."""
    survivor = company_factory(actor=manager, full_name="ООО «Ромашка»", phones=["+74951234567"])
    duplicate = company_factory(
        actor=manager, inn=SBER_INN, kpp=SBER_KPP, full_name="ООО «Ромашка»", emails=["a@romashka.ru"]
    )
    contact_factory(actor=manager, company=duplicate, phones=["+79161234567"])
    Company.objects.filter(pk=duplicate.pk).update(merged_into=survivor)
    assert match_company(inn=SBER_INN).confidence == "none"
    assert match_company(phones=["+79161234567"]).confidence == "none"
    assert match_company(emails=["a@romashka.ru"]).confidence == "none"
    by_name = match_company(name="Ромашка")
    assert [c["company"] for c in by_name.candidates] == [survivor.pk]


def test_excluded_ids_are_left_out(manager):
    """S1: a company compared with the rest of the base does not match itself."""
    company = company_factory(actor=manager, inn=SBER_INN, kpp=SBER_KPP)
    assert match_company(inn=SBER_INN, exclude_ids=[company.pk]).confidence == "none"


def test_nothing_known_or_invalid_input_is_no_match(manager):
    """R2: unknown or malformed values give ``none`` with no reasons (the caller validates its input)."""
    company_factory(actor=manager)
    result = match_company(inn="123", phones=["not a phone"], emails=["nobody"], name="")
    assert (result.confidence, result.company, result.reasons, result.candidates) == ("none", None, [], [])
    assert match_company().confidence == "none"


def test_a_match_costs_a_few_queries_whatever_the_evidence(manager, django_assert_max_num_queries):
    """R2: a match runs a bounded number of queries (speed at 100,000 companies is measured by the bench)."""
    for index in range(5):
        company = company_factory(
            actor=manager, full_name=f"ООО «Ромашка {index}»", emails=[f"office@romashka{index}.ru"]
        )
        contact_factory(actor=manager, company=company, phones=[f"+7 916 123-45-6{index}"])
    with django_assert_max_num_queries(7):
        result = match_company(
            inn=SBER_INN,
            ogrn=SBER_OGRN,
            phones=["+79161234561"],
            emails=["ivan@romashka2.ru", "x@gmail.com"],
            name="Ромашка 3",
        )
    assert result.confidence == "possible"  # strong evidence for two companies


def test_reason_text_renders_in_the_readers_language(manager):
    """R2: a stored reason is shown again in the language of whoever reads it."""
    company_factory(actor=manager, inn=SBER_INN, kpp=SBER_KPP)
    with translation.override("en"):
        reason = match_company(inn=SBER_INN).reasons[0]
    with translation.override("en"):
        assert reason_text(reason) == "Same INN 7707083893"
    assert reason_text({"text": "as stored"}) == "as stored"


def test_website_domain_reads_usual_spellings():
    """R2: website hosts are compared without scheme, www and path."""
    assert website_domain("https://www.Romashka.ru/contacts") == "romashka.ru"
    assert website_domain("romashka.ru") == "romashka.ru"
    assert website_domain("") == ""
    assert website_domain("not a site") == ""
