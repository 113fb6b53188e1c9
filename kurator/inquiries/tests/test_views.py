"""The inquiry pages (R1, R2, S2): who sees and does what, the non-curator's refusal, the entry form, the
match and routing shown to people, the review queue, the response report, constant query counts."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from kurator.accounts.models import Role
from kurator.companies.models import Company, ContactSource
from kurator.inquiries import services
from kurator.inquiries.models import Inquiry, InquiryStatus, MatchConfidence
from tests.factories import company_factory, contact_factory

pytestmark = pytest.mark.django_db

CLIENT_PHONE = "+7 916 555-44-33"


@pytest.fixture(autouse=True)
def _english():
    # Stored explanations are written in the language of the moment; assertions quote the English msgids.
    with translation.override("en"):
        yield


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def text_of(response) -> str:
    return unescape(response.content.decode())


@pytest.fixture
def client_company(manager):
    """«ООО Ромашка», curated by ``manager``; its director's phone is known."""
    company = company_factory(actor=manager, full_name="ООО «Ромашка»", city="Тверь")
    contact_factory(actor=manager, company=company, full_name="Сидоров Пётр", phones=[CLIENT_PHONE])
    return company


@pytest.fixture
def curated_inquiry(client_company):
    """A web-form inquiry with the phone of the client's director: it lands with the client's curator."""
    return services.inquiry_create(
        actor=None, channel="web_form", company_name="ООО Ромашка", contact_name="Пётр", phone=CLIENT_PHONE
    )


@pytest.fixture
def possible_inquiry(client_company):
    """Only a similar name: the head of sales has to confirm the client."""
    return services.inquiry_create(actor=None, channel="email", company_name="Ромашка", contact_name="Ольга")


# Who sees what (R3, R4) ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_every_member_sees_the_list_and_the_detail(role, users_by_role, curated_inquiry):
    """R2, R3: the whole department sees inquiries."""
    client = login(users_by_role[role])
    assert client.get(reverse("inquiries:list")).status_code == 200
    assert client.get(reverse("inquiries:detail", args=[curated_inquiry.pk])).status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_entry_form_for_sellers_and_the_head(role, users_by_role):
    """R2, R4: sellers and the head of sales enter inquiries; finance does not."""
    expected = 403 if role == Role.FINANCE else 200
    assert login(users_by_role[role]).get(reverse("inquiries:create")).status_code == expected


@pytest.mark.parametrize("role", list(Role))
def test_review_queue_and_report_for_the_head_only(role, users_by_role):
    """R1, R2, R4: the review queue and the response report belong to the head of sales (and the admin)."""
    expected = 200 if role in (Role.HEAD_OF_SALES, Role.ADMIN) else 403
    client = login(users_by_role[role])
    assert client.get(reverse("inquiries:review")).status_code == expected
    assert client.get(reverse("inquiries:report")).status_code == expected


def test_anonymous_users_are_sent_to_the_login_page(curated_inquiry):
    """R4: no inquiry page opens without a login."""
    for url in (reverse("inquiries:list"), reverse("inquiries:detail", args=[curated_inquiry.pk])):
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_unknown_inquiry_is_404(manager):
    """R4: a missing id is 404, not 500."""
    assert login(manager).get(reverse("inquiries:detail", args=[999999])).status_code == 404


# The curator alone takes the inquiry (R2) ------------------------------------------------------------------


def test_the_detail_shows_the_match_reasons_and_why_this_curator(manager, curated_inquiry, client_company):
    """R2: the page says which client matched, how sure, why, and why the curator got it."""
    assert curated_inquiry.curator == manager
    page = text_of(login(manager).get(reverse("inquiries:detail", args=[curated_inquiry.pk])))
    assert "Strong" in page
    assert "belongs to Сидоров Пётр of this company" in page
    assert reverse("companies:detail", args=[client_company.pk]) in page
    assert "The inquiry goes to its curator" in page
    assert 'data-testid="take"' in page


def test_a_non_curator_manager_sees_the_curator_and_no_take_button(other_manager, manager, curated_inquiry):
    """R2: another manager sees who the curator is and cannot take the inquiry."""
    page = text_of(login(other_manager).get(reverse("inquiries:detail", args=[curated_inquiry.pk])))
    assert f"Curator: {manager.full_name} — only the curator can take this inquiry." in page
    assert 'data-testid="take"' not in page
    assert 'href="#reject"' not in page


def test_a_non_curator_managers_post_is_403_and_changes_nothing(other_manager, curated_inquiry):
    """R2: taking, qualifying or rejecting a colleague's client's inquiry is refused; nothing changes."""
    client = login(other_manager)
    before = Inquiry.objects.filter(pk=curated_inquiry.pk).values().get()
    history = curated_inquiry.history.count()
    for name, data in (("take", {}), ("qualify", {}), ("reject", {"reason": "мой клиент"})):
        response = client.post(reverse(f"inquiries:{name}", args=[curated_inquiry.pk]), data)
        assert response.status_code == 403, name
    assert Inquiry.objects.filter(pk=curated_inquiry.pk).values().get() == before
    assert curated_inquiry.history.count() == history


def test_the_curator_takes_then_qualifies(manager, curated_inquiry):
    """R1, R2: the curator takes the inquiry (first response recorded) and qualifies it."""
    client = login(manager)
    response = client.post(reverse("inquiries:take", args=[curated_inquiry.pk]))
    assert response.status_code == 302
    curated_inquiry.refresh_from_db()
    assert curated_inquiry.status == InquiryStatus.TAKEN and curated_inquiry.taken_by == manager
    page = text_of(client.get(reverse("inquiries:detail", args=[curated_inquiry.pk])))
    assert 'data-testid="first-response"' in page and "taken in time" in page
    assert 'data-testid="take"' not in page
    client.post(reverse("inquiries:qualify", args=[curated_inquiry.pk]))
    curated_inquiry.refresh_from_db()
    assert curated_inquiry.status == InquiryStatus.QUALIFIED


def test_take_needs_post(manager, curated_inquiry):
    """R4: a GET never changes an inquiry."""
    assert login(manager).get(reverse("inquiries:take", args=[curated_inquiry.pk])).status_code == 405
    curated_inquiry.refresh_from_db()
    assert curated_inquiry.status == InquiryStatus.NEW


def test_reject_needs_a_reason(manager, curated_inquiry):
    """R2: rejecting without a reason is refused with the field's error; with one it is recorded."""
    client = login(manager)
    response = client.post(reverse("inquiries:reject", args=[curated_inquiry.pk]), {"reason": " "})
    assert response.status_code == 400
    curated_inquiry.refresh_from_db()
    assert curated_inquiry.status == InquiryStatus.NEW
    client.post(reverse("inquiries:reject", args=[curated_inquiry.pk]), {"reason": "Спам"})
    curated_inquiry.refresh_from_db()
    assert curated_inquiry.status == InquiryStatus.REJECTED and curated_inquiry.reject_reason == "Спам"
    assert "Спам" in text_of(client.get(reverse("inquiries:detail", args=[curated_inquiry.pk])))


def test_the_history_lists_the_changes(manager, curated_inquiry):
    """R2, D11: the inquiry's history shows who took it."""
    client = login(manager)
    client.post(reverse("inquiries:take", args=[curated_inquiry.pk]))
    page = text_of(client.get(reverse("inquiries:detail", args=[curated_inquiry.pk])))
    history = page.split("History of the inquiry", 1)[1]
    assert manager.full_name in history and "Taken" in history


# The entry form (R2, S2) -----------------------------------------------------------------------------------


def test_a_typed_in_call_goes_to_the_clients_curator(other_manager, manager, client_company):
    """R2: a manager types in a call; it is matched with the client and the page says where it went."""
    client = login(other_manager)
    response = client.post(
        reverse("inquiries:create"),
        {"channel": "phone", "company_name": "Ромашка", "phone": "8 (916) 555-44-33", "contact_name": "Пётр"},
    )
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert response["Location"] == reverse("inquiries:detail", args=[inquiry.pk])
    assert inquiry.company == client_company and inquiry.curator == manager
    assert inquiry.created_by == other_manager
    page = text_of(client.get(response["Location"]))
    assert f"The inquiry was registered and given to {manager.full_name}." in page
    assert "The inquiry goes to its curator" in page


def test_the_entry_form_groups_sub_sources_and_takes_the_recommending_client(manager, client_company):
    """S2: sources are grouped with their sub-sources; a recommendation names the client by its INN."""
    parent = ContactSource.objects.create(name="Выставки тест")
    child = ContactSource.objects.create(name="Иннопром", parent=parent)
    page = text_of(login(manager).get(reverse("inquiries:create")))
    assert '<optgroup label="Выставки тест">' in page
    assert f'<option value="{child.pk}">Иннопром</option>' in page
    response = login(manager).post(
        reverse("inquiries:create"),
        {
            "channel": "recommendation",
            "source": child.pk,
            "referred_by": client_company.inn,
            "company_name": "ООО «Новый друг»",
            "phone": "+7 912 000-11-22",
        },
    )
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert inquiry.source == child and inquiry.referred_by == client_company


def test_the_entry_form_shows_errors_and_writes_nothing(manager):
    """R2: an empty inquiry, a bad INN or an unknown recommending client are named; nothing is written."""
    client = login(manager)
    response = client.post(reverse("inquiries:create"), {"channel": "phone"})
    assert response.status_code == 200
    assert "Enter at least the company" in text_of(response)
    response = client.post(
        reverse("inquiries:create"), {"channel": "phone", "company_name": "X", "referred_by": "7707083893"}
    )
    assert 'id="id_referred_by_errors"' in text_of(response)
    response = client.post(
        reverse("inquiries:create"), {"channel": "phone", "company_name": "X", "inn": "7707083890"}
    )
    assert 'id="id_inn_errors"' in text_of(response)
    assert Inquiry.objects.count() == 0 and not Company.objects.filter(full_name="X").exists()


def test_finance_cannot_post_an_inquiry(finance):
    """R4: a refused role's POST writes nothing."""
    response = login(finance).post(reverse("inquiries:create"), {"channel": "phone", "company_name": "X"})
    assert response.status_code == 403
    assert Inquiry.objects.count() == 0


# The head of sales' review (R2) -----------------------------------------------------------------------------


def test_a_possible_match_waits_in_the_review_queue_with_candidates(head, possible_inquiry, client_company):
    """R2: a similar name only: the inquiry waits for the head with the candidate and the reason."""
    assert possible_inquiry.needs_review and possible_inquiry.match_confidence == MatchConfidence.POSSIBLE
    page = text_of(login(head).get(reverse("inquiries:review")))
    assert f'id="review-{possible_inquiry.pk}"' in page
    assert client_company.short_name in page
    assert "Same name" in page or "Similar name" in page
    assert "Confirm the match" in page and "It is a new client" in page


def test_a_manager_cannot_take_an_inquiry_waiting_for_review(manager, possible_inquiry):
    """R2: nobody takes an inquiry before the head settles the client."""
    login(manager).post(reverse("inquiries:take", args=[possible_inquiry.pk]))
    possible_inquiry.refresh_from_db()
    assert possible_inquiry.status == InquiryStatus.NEW


def test_the_head_confirms_the_match_from_the_queue(head, manager, possible_inquiry, client_company):
    """R2: confirming attaches the inquiry to the company and gives it to the curator."""
    response = login(head).post(
        reverse("inquiries:confirm_match", args=[possible_inquiry.pk]),
        {"decision": "attach", "company": client_company.pk, "back": "review"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("inquiries:review")
    possible_inquiry.refresh_from_db()
    assert possible_inquiry.company == client_company and possible_inquiry.curator == manager
    assert not possible_inquiry.needs_review
    assert f'id="review-{possible_inquiry.pk}"' not in text_of(login(head).get(reverse("inquiries:review")))


def test_the_head_finds_another_company_by_inn(head, possible_inquiry, other_manager):
    """R2: the right company may not be among the candidates: the head names it by INN."""
    other = company_factory(actor=other_manager, full_name="ООО «Лютик»")
    login(head).post(
        reverse("inquiries:confirm_match", args=[possible_inquiry.pk]),
        {"decision": "attach", "company_query": other.inn},
    )
    possible_inquiry.refresh_from_db()
    assert possible_inquiry.company == other and possible_inquiry.curator == other_manager


def test_the_head_declares_a_new_client(head, possible_inquiry, client_company):
    """R2: a new client is routed by the rules and no longer waits."""
    response = login(head).post(
        reverse("inquiries:confirm_match", args=[possible_inquiry.pk]), {"decision": "new"}
    )
    assert response.status_code == 302
    possible_inquiry.refresh_from_db()
    assert not possible_inquiry.needs_review and possible_inquiry.company != client_company


def test_a_manager_cannot_confirm_a_match(manager, possible_inquiry, client_company):
    """R2, R4: the POST is 403; the inquiry still waits."""
    response = login(manager).post(
        reverse("inquiries:confirm_match", args=[possible_inquiry.pk]),
        {"decision": "attach", "company": client_company.pk},
    )
    assert response.status_code == 403
    possible_inquiry.refresh_from_db()
    assert possible_inquiry.needs_review and possible_inquiry.company is None


def test_an_unknown_inn_is_a_field_error(head, possible_inquiry):
    """R2: a company INN not in the base is named on the detail page; nothing changes."""
    response = login(head).post(
        reverse("inquiries:confirm_match", args=[possible_inquiry.pk]),
        {"decision": "attach", "company_query": "7707083893"},
    )
    assert response.status_code == 400
    assert "No company matching “7707083893” is in the base." in text_of(response)
    possible_inquiry.refresh_from_db()
    assert possible_inquiry.needs_review


# The list (R1, R2) ---------------------------------------------------------------------------------------


def _late(inquiry: Inquiry, minutes: int = 90) -> None:
    Inquiry.objects.filter(pk=inquiry.pk).update(respond_by=timezone.now() - timedelta(minutes=minutes))


def test_late_inquiries_are_flagged_with_how_late(manager, curated_inquiry):
    """R1: a new inquiry past its standard carries a red badge saying how late it is."""
    _late(curated_inquiry)
    page = text_of(login(manager).get(reverse("inquiries:list")))
    row = page.split(f'data-inquiry="{curated_inquiry.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "bg-red" in row and "1 h 30 min late" in row


def test_filters_late_and_needs_review(head, curated_inquiry, possible_inquiry):
    """R1, R2: the late and the waiting-for-review filters narrow the list."""
    _late(curated_inquiry)
    client = login(head)
    late = text_of(client.get(reverse("inquiries:list"), {"late": "on"}))
    assert (
        f'data-inquiry="{curated_inquiry.pk}"' in late and f'data-inquiry="{possible_inquiry.pk}"' not in late
    )
    review = text_of(client.get(reverse("inquiries:list"), {"needs_review": "on"}))
    assert (
        f'data-inquiry="{possible_inquiry.pk}"' in review
        and f'data-inquiry="{curated_inquiry.pk}"' not in review
    )


def test_a_manager_starts_on_their_own_and_the_unassigned(
    manager, other_manager, curated_inquiry, possible_inquiry
):
    """R2: a seller starts on "mine" (their inquiries and the unassigned ones); "all" shows the rest."""
    mine = text_of(login(other_manager).get(reverse("inquiries:list")))
    assert f'data-inquiry="{possible_inquiry.pk}"' in mine  # unassigned
    assert f'data-inquiry="{curated_inquiry.pk}"' not in mine  # a colleague's
    everything = text_of(login(other_manager).get(reverse("inquiries:list"), {"scope": "all"}))
    assert f'data-inquiry="{curated_inquiry.pk}"' in everything
    assert f'data-inquiry="{curated_inquiry.pk}"' in text_of(login(manager).get(reverse("inquiries:list")))


def test_the_head_starts_on_everything(head, curated_inquiry):
    """R2: the head of sales sees all inquiries by default."""
    assert f'data-inquiry="{curated_inquiry.pk}"' in text_of(login(head).get(reverse("inquiries:list")))


def test_search_finds_by_phone_and_name(head, curated_inquiry, possible_inquiry):
    """R2: the search box finds an inquiry by the caller's phone digits or the company's name."""
    client = login(head)
    page = text_of(client.get(reverse("inquiries:list"), {"q": "5554433"}))
    assert (
        f'data-inquiry="{curated_inquiry.pk}"' in page and f'data-inquiry="{possible_inquiry.pk}"' not in page
    )


def test_bad_filter_values_are_ignored(head, curated_inquiry):
    """R4: a broken shared link narrows nothing instead of failing."""
    response = login(head).get(reverse("inquiries:list"), {"curator": "x", "status": "nope", "page": "zz"})
    assert response.status_code == 200


def test_the_list_answers_htmx_with_the_table_alone(head, curated_inquiry):
    """R2: with htmx only the results are sent back."""
    response = login(head).get(reverse("inquiries:list"), headers={"HX-Request": "true"})
    assert "<html" not in response.content.decode() and "data-inquiry" in response.content.decode()


def _many(n: int, start: int, company: Company) -> None:
    for i in range(start, start + n):
        if i % 2:
            services.inquiry_create(
                actor=None, channel="phone", phone=CLIENT_PHONE, contact_name=f"Звонок {i}"
            )
        else:
            services.inquiry_create(
                actor=None,
                channel="web_form",
                contact_name=f"Гость {i}",
                phone=f"+7 912 345-{i // 100:02d}-{i % 100:02d}",
            )


def test_the_list_runs_a_constant_number_of_queries(head, manager, client_company):
    """R2: 10 or 50 inquiries on a page cost the same number of queries."""
    _many(10, 0, client_company)
    client = login(head)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("inquiries:list"), {"per_page": 50}).status_code == 200
    _many(40, 10, client_company)
    with CaptureQueriesContext(connection) as many:
        page = text_of(client.get(reverse("inquiries:list"), {"per_page": 50}))
    assert page.count("data-inquiry=") == 50
    assert len(few) == len(many), [q["sql"] for q in many.captured_queries]


def test_the_review_queue_runs_a_constant_number_of_queries(head, client_company):
    """R2: the review queue costs the same for 2 or 12 waiting inquiries."""
    client = login(head)
    for i in range(2):
        services.inquiry_create(actor=None, channel="email", company_name="Ромашка", contact_name=f"A{i}")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("inquiries:review"))
    for i in range(10):
        services.inquiry_create(actor=None, channel="email", company_name="Ромашка", contact_name=f"B{i}")
    with CaptureQueriesContext(connection) as many:
        page = text_of(client.get(reverse("inquiries:review")))
    assert len(re.findall(r'id="review-\d+"', page)) == 12
    assert len(few) == len(many)


# The navbar and the report --------------------------------------------------------------------------------


def test_the_navbar_counts_new_inquiries_for_the_user(
    manager, other_manager, curated_inquiry, possible_inquiry
):
    """R2: the badge counts the user's new inquiries and the unassigned ones."""

    def badge(user) -> str | None:
        html = login(user).get(reverse("notifications:list")).content.decode()
        found = re.search(r'data-testid="new-inquiries"[^>]*>(\d+)<', html)
        return found.group(1) if found else None

    assert badge(manager) == "2"  # their client's inquiry and the unassigned one
    assert badge(other_manager) == "1"  # only the unassigned one


def test_the_response_report_counts_per_channel_and_manager(head, manager, curated_inquiry):
    """R1: the report shows the inquiries, the taken and the late ones, and first-response times."""
    services.inquiry_take(actor=manager, inquiry=curated_inquiry)
    page = text_of(login(head).get(reverse("inquiries:report")))
    assert 'data-testid="total-inquiries">1<' in page
    assert "Web form" in page and manager.full_name in page
    assert text_of(login(head).get(reverse("inquiries:report"), {"from": "bad", "to": "2020-01-01"}))


def test_nobody_sees_take_while_the_head_has_to_review(head, manager, possible_inquiry):
    """R2: while the client is unsettled there is no Take button; a seller is told why."""
    head_page = text_of(login(head).get(reverse("inquiries:detail", args=[possible_inquiry.pk])))
    assert 'data-testid="take"' not in head_page and "Confirm the match" in head_page
    seller_page = text_of(login(manager).get(reverse("inquiries:detail", args=[possible_inquiry.pk])))
    assert 'data-testid="take"' not in seller_page and 'data-testid="waits-review"' in seller_page
    assert "Confirm the match" not in seller_page


def test_the_head_sees_the_settings_and_the_review_count(head, manager, possible_inquiry):
    """R2: the list links the head of sales to the review queue (with its count) and the settings."""
    page = text_of(login(head).get(reverse("inquiries:list")))
    assert reverse("inquiries:settings_standards") in page and reverse("inquiries:review") in page
    seller = text_of(login(manager).get(reverse("inquiries:list")))
    assert reverse("inquiries:settings_standards") not in seller and reverse("inquiries:review") not in seller


def test_the_head_finds_another_company_by_name(head, possible_inquiry, other_manager):
    """R2: the head of sales may name the company by part of its name; an ambiguous name is refused."""
    company_factory(actor=other_manager, full_name="ООО «Василёк-Север»")
    company_factory(actor=other_manager, full_name="ООО «Василёк-Юг»")
    client = login(head)
    response = client.post(
        reverse("inquiries:confirm_match", args=[possible_inquiry.pk]),
        {"decision": "attach", "company_query": "Василёк"},
    )
    assert response.status_code == 400 and "Several companies match" in text_of(response)
    possible_inquiry.refresh_from_db()
    assert possible_inquiry.needs_review
    client.post(
        reverse("inquiries:confirm_match", args=[possible_inquiry.pk]),
        {"decision": "attach", "company_query": "василек-юг"},
    )
    possible_inquiry.refresh_from_db()
    assert (
        possible_inquiry.company.full_name == "ООО «Василёк-Юг»" and possible_inquiry.curator == other_manager
    )
