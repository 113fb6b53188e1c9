"""Inquiry services (R2 one curator per client, R1 response standard, S2 sources) and their selectors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from kurator.activities.models import Notification
from kurator.companies.models import Company, Contact, ContactSource
from kurator.core.errors import AccessDenied
from kurator.inquiries import selectors, services
from kurator.inquiries.models import Inquiry, InquiryStatus
from tests.factories import company_factory, contact_factory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # Explanations are stored in the language of the moment; the assertions quote the English msgids.
    with translation.override("en"):
        yield


SBER_INN = "7707083893"


@pytest.fixture
def client_company(manager):
    """«ООО Ромашка», curated by ``manager``, whose director has a known phone."""
    company = company_factory(actor=manager, full_name="ООО «Ромашка»", emails=["office@romashka.ru"])
    contact_factory(actor=manager, company=company, full_name="Сидоров Пётр", phones=["+7 916 555-44-33"])
    return company


def _create(actor=None, **fields):
    fields.setdefault("channel", "phone")
    return services.inquiry_create(actor=actor, **fields)


# Creation and validation --------------------------------------------------------------------------------


def test_invalid_input_names_every_field_and_writes_nothing(manager):
    """R2: a bad INN, KPP, phone, e-mail and channel are each named; nothing is written."""
    companies = Company.objects.count()
    with pytest.raises(ValidationError) as caught:
        services.inquiry_create(
            actor=manager,
            channel="pigeon",
            company_name="ООО «Ромашка»",
            inn="7707083890",
            kpp="12",
            phone="12",
            email="not-an-email",
            source=999999,
        )
    errors = caught.value.message_dict
    assert set(errors) == {"channel", "inn", "kpp", "phone", "email", "source"}
    assert caught.value.error_dict["inn"][0].code == "inn_checksum"
    assert Inquiry.objects.count() == 0
    assert Company.objects.count() == companies


def test_an_inquiry_needs_something_to_answer_to(manager):
    """R2: without a company name, INN, phone or e-mail the inquiry is refused (a non-field error)."""
    with pytest.raises(ValidationError) as caught:
        _create(actor=manager, contact_name="Иван", text="Перезвоните")
    assert caught.value.error_dict["__all__"][0].code == "identity_required"
    assert Inquiry.objects.count() == 0


def test_finance_may_not_register_inquiries(finance):
    """R4: only sellers and the head of sales register inquiries."""
    with pytest.raises(AccessDenied):
        _create(actor=finance, company_name="ООО «Ромашка»")
    assert Inquiry.objects.count() == 0


def test_respond_by_follows_the_channels_standard(manager):
    """R1: the time to take an inquiry comes from its channel's response standard (phone: 15 minutes)."""
    received = timezone.now() - timedelta(minutes=3)
    inquiry = _create(actor=manager, company_name="Ромашка", phone="+74951234567", received_at=received)
    assert inquiry.respond_by == received + timedelta(minutes=15)
    assert inquiry.created_by == manager


# Routing ----------------------------------------------------------------------------------------------------


def test_known_client_goes_to_its_curator_who_is_notified(
    client_company, manager, other_manager, django_capture_on_commit_callbacks
):
    """R2: a web-form inquiry with the phone of a client's person lands with that client's curator."""
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = _create(
            actor=None, channel="web_form", company_name='ООО "Ромашка"', phone="8 916 555 44 33"
        )
    assert (inquiry.company, inquiry.curator, inquiry.match_confidence) == (client_company, manager, "strong")
    assert not inquiry.needs_review
    assert [r["code"] for r in inquiry.match_reasons] == ["phone", "name"]
    assert "Сидоров Пётр" in inquiry.routing_explanation
    notice = Notification.objects.get(recipient=manager)
    assert notice.kind == "inquiry_assigned"
    assert str(inquiry.pk) in notice.url
    assert not Notification.objects.filter(recipient=other_manager).exists()


def test_same_inn_attaches_even_when_a_colleague_enters_it(client_company, other_manager, manager):
    """R2: a colleague who registers an inquiry of a curated client does not become its curator."""
    inquiry = _create(actor=other_manager, inn=client_company.inn, company_name="Что-то другое")
    assert (inquiry.company, inquiry.curator, inquiry.match_confidence) == (
        client_company,
        manager,
        "certain",
    )


def test_possible_match_waits_for_the_head_of_sales(
    client_company, manager, head, django_capture_on_commit_callbacks
):
    """R2: a similar name only: no curator yet; the head of sales is asked to confirm."""
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = _create(actor=manager, company_name="Ромашка", phone="+7 999 000-11-22")
    assert inquiry.match_confidence == "possible"
    assert inquiry.needs_review
    assert (inquiry.company, inquiry.curator) == (None, None)
    assert inquiry.match_candidates[0]["company"] == client_company.pk
    assert Notification.objects.filter(recipient=head, kind="inquiry_review").count() == 1
    assert not Notification.objects.filter(recipient=manager).exists()


def test_no_match_opens_a_prospect_with_the_person_and_the_source(manager, other_manager):
    """R2, S2: no match and enough to identify a company: a prospect is opened with the caller as its person
    and the inquiry's source; the curator is chosen by the rules."""
    source = ContactSource.objects.get(name="Выставки")
    inquiry = _create(
        actor=manager,
        channel="exhibition",
        company_name="ООО «Лютик»",
        inn=SBER_INN,
        city="Тула",
        contact_name="Иван Смирнов",
        phone="+7 916 111-22-33",
        email="ivan@lutik.ru",
        source=source.pk,
    )
    company = inquiry.company
    assert company is not None
    assert (company.inn, company.status, company.source, company.city) == (
        SBER_INN,
        "prospect",
        source,
        "Тула",
    )
    assert company.curator == inquiry.curator
    person = Contact.objects.get(company=company)
    assert (person.full_name, person.phones, person.emails) == (
        "Иван Смирнов",
        ["+79161112233"],
        ["ivan@lutik.ru"],
    )
    assert "Лютик" in inquiry.routing_explanation
    # The next inquiry of the same firm finds it.
    again = _create(actor=other_manager, email="ivan@lutik.ru")
    assert (again.company, again.curator) == (company, inquiry.curator)


def test_no_match_and_too_little_to_open_a_dossier(manager):
    """R2: a name alone opens no dossier, but someone is still responsible for the inquiry."""
    inquiry = _create(actor=manager, company_name="Какая-то фирма")
    assert inquiry.company is None
    assert inquiry.curator is not None
    assert "no dossier was opened" in inquiry.routing_explanation


def test_a_client_whose_curator_left_waits_for_the_head(client_company, manager):
    """R2: the client's curator no longer works: the head of sales decides, nobody takes it meanwhile."""
    manager.is_active = False
    manager.save()
    inquiry = _create(actor=None, channel="email", email="office@romashka.ru")
    assert inquiry.company == client_company
    assert inquiry.curator is None
    assert inquiry.needs_review


# Taking, qualifying, rejecting ------------------------------------------------------------------------------


def test_only_the_curator_takes_a_curated_clients_inquiry(client_company, manager, other_manager):
    """R2: another manager is refused and told who the curator is; nothing changes. The curator takes it."""
    inquiry = _create(actor=None, channel="web_form", phone="+79165554433")
    with pytest.raises(AccessDenied) as caught:
        services.inquiry_take(actor=other_manager, inquiry=inquiry)
    assert manager.full_name in str(caught.value)
    inquiry.refresh_from_db()
    assert (inquiry.status, inquiry.taken_at, inquiry.taken_by) == ("new", None, None)

    taken = services.inquiry_take(actor=manager, inquiry=inquiry)
    assert (taken.status, taken.taken_by, taken.curator) == ("taken", manager, manager)
    minutes = selectors.first_response_minutes(taken)
    assert minutes is not None and minutes >= 0


def test_head_of_sales_may_take_and_finance_may_not(client_company, head, finance, manager):
    """R2, R4: the head of sales may take any inquiry (the curator stays); finance never."""
    inquiry = _create(actor=None, channel="web_form", phone="+79165554433")
    with pytest.raises(AccessDenied):
        services.inquiry_take(actor=finance, inquiry=inquiry)
    taken = services.inquiry_take(actor=head, inquiry=inquiry)
    assert (taken.taken_by, taken.curator) == (head, manager)


def test_an_unassigned_inquiry_goes_to_whoever_takes_it(manager, other_manager):
    """R2: an inquiry without a curator is taken by any seller, who becomes its curator."""
    inquiry = _create(actor=manager, company_name="Фирма")
    Inquiry.objects.filter(pk=inquiry.pk).update(curator=None)
    taken = services.inquiry_take(actor=other_manager, inquiry=inquiry)
    assert taken.curator == other_manager


def test_an_inquiry_waiting_for_review_cannot_be_taken(client_company, manager, head):
    """R2: a possible match is settled by the head of sales first, even for the likely curator."""
    inquiry = _create(actor=manager, company_name="Ромашка")
    with pytest.raises(ValidationError) as caught:
        services.inquiry_take(actor=head, inquiry=inquiry)
    assert caught.value.error_dict["status"][0].code == "needs_review"


def test_status_transitions(client_company, manager):
    """R2, S3: new → taken → qualified → converted (into a deal); taking twice, qualifying a new one and
    converting twice are refused."""
    inquiry = _create(actor=None, channel="web_form", phone="+79165554433")
    with pytest.raises(ValidationError):
        services.inquiry_qualify(actor=manager, inquiry=inquiry)
    services.inquiry_take(actor=manager, inquiry=inquiry)
    with pytest.raises(ValidationError):
        services.inquiry_take(actor=manager, inquiry=inquiry)
    qualified = services.inquiry_qualify(actor=manager, inquiry=inquiry)
    assert qualified.status == "qualified"
    deal = services.inquiry_convert(actor=manager, inquiry=qualified)
    qualified.refresh_from_db()
    assert qualified.status == "converted"
    assert (deal.inquiry_id, deal.company_id, deal.owner) == (qualified.pk, qualified.company_id, manager)
    with pytest.raises(ValidationError) as caught:
        services.inquiry_convert(actor=manager, inquiry=qualified)
    assert caught.value.error_dict["status"][0].code == "invalid_transition"


def test_reject_needs_a_reason_and_counts_as_the_first_response(client_company, manager):
    """R1, R2: a rejection says why; rejecting a new inquiry records the first response; rejected is final."""
    inquiry = _create(actor=None, channel="web_form", phone="+79165554433")
    with pytest.raises(ValidationError) as caught:
        services.inquiry_reject(actor=manager, inquiry=inquiry, reason="  ")
    assert "reason" in caught.value.message_dict
    rejected = services.inquiry_reject(actor=manager, inquiry=inquiry, reason="Спам")
    assert (rejected.status, rejected.reject_reason, rejected.taken_by) == ("rejected", "Спам", manager)
    with pytest.raises(ValidationError):
        services.inquiry_reject(actor=manager, inquiry=rejected, reason="Ещё раз")


def test_a_colleague_cannot_reject_a_curated_clients_inquiry(client_company, other_manager):
    """R2: rejecting is working on the inquiry: only the curator or the head of sales."""
    inquiry = _create(actor=None, channel="web_form", phone="+79165554433")
    with pytest.raises(AccessDenied):
        services.inquiry_reject(actor=other_manager, inquiry=inquiry, reason="Не наш")
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.NEW


# The head of sales settles possible matches ----------------------------------------------------------------


def test_head_confirms_the_client_and_its_curator_is_notified(
    client_company, manager, head, django_capture_on_commit_callbacks
):
    """R2: the head of sales confirms the candidate: the inquiry goes to its curator, who is notified."""
    inquiry = _create(actor=head, company_name="Ромашка")
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = services.inquiry_confirm_match(actor=head, inquiry=inquiry, company=client_company.pk)
    assert (confirmed.company, confirmed.curator, confirmed.needs_review) == (client_company, manager, False)
    assert head.full_name in confirmed.routing_explanation
    assert confirmed.match_reasons and confirmed.match_reasons[0]["code"] == "name"
    assert Notification.objects.filter(recipient=manager, kind="inquiry_assigned").exists()
    # Settled: a second decision is refused.
    with pytest.raises(ValidationError):
        services.inquiry_confirm_match(actor=head, inquiry=confirmed, company=None)


def test_a_merged_company_stands_for_its_survivor(client_company, manager, other_manager, head):
    """R2, D12: confirming a merged duplicate gives the inquiry to the survivor."""
    duplicate = company_factory(actor=other_manager, full_name="ООО «Ромашка-2»")
    Company.objects.filter(pk=duplicate.pk).update(merged_into=client_company)
    inquiry = _create(actor=head, company_name="Ромашка")
    confirmed = services.inquiry_confirm_match(actor=head, inquiry=inquiry, company=duplicate.pk)
    assert (confirmed.company, confirmed.curator) == (client_company, manager)


def test_head_declares_a_new_client(client_company, head):
    """R2: the head of sales says it is another firm: a prospect is opened and routed."""
    inquiry = _create(actor=head, company_name="Ромашка", phone="+7 999 000-11-22")
    companies = Company.objects.count()
    settled = services.inquiry_confirm_match(actor=head, inquiry=inquiry, company=None)
    assert Company.objects.count() == companies + 1
    assert settled.company is not None and settled.company != client_company
    assert settled.curator == settled.company.curator
    assert not settled.needs_review
    assert "declared a new client" in settled.routing_explanation


def test_only_the_head_settles_matches(client_company, manager):
    """R2, R4: a manager cannot confirm a match; nothing changes."""
    inquiry = _create(actor=manager, company_name="Ромашка")
    with pytest.raises(AccessDenied):
        services.inquiry_confirm_match(actor=manager, inquiry=inquiry, company=client_company.pk)
    inquiry.refresh_from_db()
    assert inquiry.needs_review and inquiry.company is None


def test_confirming_an_unknown_company_is_a_field_error(client_company, head):
    """R2: a wrong company id is named, not a server error."""
    inquiry = _create(actor=head, company_name="Ромашка")
    with pytest.raises(ValidationError) as caught:
        services.inquiry_confirm_match(actor=head, inquiry=inquiry, company=10**9)
    assert "company" in caught.value.message_dict


# Selectors: lists, late flags, the response report ---------------------------------------------------------


def test_late_inquiries_are_flagged_and_filtered(client_company, manager, head):
    """R1: new past its deadline, or taken after it: late; taken in time: not late."""
    long_ago = timezone.now() - timedelta(hours=2)
    waiting = _create(actor=None, channel="web_form", phone="+79165554433", received_at=long_ago)
    taken_late = _create(actor=None, channel="web_form", email="office@romashka.ru", received_at=long_ago)
    services.inquiry_take(actor=manager, inquiry=taken_late)
    in_time = _create(actor=None, channel="web_form", email="office@romashka.ru")
    services.inquiry_take(actor=manager, inquiry=in_time)
    flags = {i.pk: i.is_late for i in selectors.inquiry_list(actor=head, status="all")}  # type: ignore[attr-defined]
    assert flags == {waiting.pk: True, taken_late.pk: True, in_time.pk: False}
    late = selectors.inquiry_list(actor=head, status="all", late=True)
    assert {i.pk for i in late} == {waiting.pk, taken_late.pk}
    assert selectors.inquiry_get(actor=head, inquiry_id=waiting.pk).is_late  # type: ignore[attr-defined]


def test_list_filters_and_search(client_company, manager, other_manager, head):
    """R2: status (open by default), channel, curator, review queue, mine and search by name/phone/e-mail."""
    web = _create(actor=None, channel="web_form", phone="+79165554433")
    review = _create(actor=head, company_name="Ромашка")
    other = _create(actor=other_manager, company_name="ООО «Вектор»", email="info@vector.ru")
    rejected = _create(actor=manager, email="office@romashka.ru")
    services.inquiry_reject(actor=manager, inquiry=rejected, reason="Дубль")

    def ids(**filters):
        return {i.pk for i in selectors.inquiry_list(actor=head, **filters)}

    assert ids() == {web.pk, review.pk, other.pk}
    assert rejected.pk in ids(status="all")
    assert ids(status="rejected") == {rejected.pk}
    assert ids(channel="web_form") == {web.pk}
    assert ids(needs_review=True) == {review.pk}
    assert ids(curator=manager.pk) == {web.pk}
    assert ids(search="вектор") == {other.pk}
    assert ids(search="ВЕКТОР") == {other.pk}
    assert ids(search="916 555-44-33") == {web.pk}
    assert ids(search="info@vector") == {other.pk}
    mine = {i.pk for i in selectors.inquiry_list(actor=manager, mine=True)}
    assert mine == {web.pk, review.pk} | ({other.pk} if other.curator == manager else set())


def test_list_runs_the_same_queries_for_any_length(client_company, head, django_assert_num_queries):
    """R2: the list page costs one query whatever its length (companies, curators, sources joined)."""
    for _ in range(3):
        _create(actor=None, channel="web_form", phone="+79165554433")

    def read():
        return [
            (i.company, i.curator, i.source, i.taken_by, i.is_late)  # type: ignore[attr-defined]
            for i in selectors.inquiry_list(actor=head)
        ]

    with django_assert_num_queries(1):
        first = read()
    for _ in range(5):
        _create(actor=None, channel="web_form", phone="+79165554433")
    with django_assert_num_queries(1):
        second = read()
    assert (len(first), len(second)) == (3, 8)


def test_response_report_per_channel_and_manager(client_company, manager, head):
    """R1: inquiries, taken, late, median and average first-response minutes per channel and per manager."""
    now = timezone.now()
    for minutes_ago in (60, 20):
        inquiry = _create(
            actor=None,
            channel="web_form",
            phone="+79165554433",
            received_at=now - timedelta(minutes=minutes_ago),
        )
        services.inquiry_take(actor=manager, inquiry=inquiry)
    _create(actor=None, channel="phone", phone="+79165554433", received_at=now - timedelta(minutes=90))
    # From the day of the earliest inquiry: after midnight in Moscow it was received yesterday.
    report = selectors.response_report(
        actor=head, date_from=timezone.localdate(now - timedelta(minutes=90)), date_to=timezone.localdate()
    )
    web = next(r for r in report.by_channel if r.key == "web_form")
    assert (web.inquiries, web.taken, web.late) == (2, 2, 1)  # 60 minutes > the 30 of the web form
    assert web.median_minutes == pytest.approx(40, abs=1)
    assert web.average_minutes == pytest.approx(40, abs=1)
    phone = next(r for r in report.by_channel if r.key == "phone")
    assert (phone.inquiries, phone.taken, phone.late, phone.median_minutes) == (1, 0, 1, None)
    assert [(r.label, r.inquiries, r.late) for r in report.by_manager] == [(manager.full_name, 3, 2)]
    assert (report.total.inquiries, report.total.taken, report.total.late) == (3, 2, 2)
    before = timezone.localdate(now - timedelta(minutes=90)) - timedelta(days=1)
    assert selectors.response_report(actor=head, date_from=before, date_to=before).total.inquiries == 0


def test_history_records_who_did_what(client_company, manager):
    """D11: the inquiry's history shows its arrival and who took it."""
    inquiry = _create(actor=None, channel="web_form", phone="+79165554433")
    services.inquiry_take(actor=manager, inquiry=inquiry)
    history = selectors.inquiry_history(inquiry=inquiry)
    assert [e.user for e in history] == [manager, None]
    assert "status" in {c.field for c in history[0].changes}


def test_a_company_opened_meanwhile_is_found_again_not_duplicated(manager, other_manager, monkeypatch):
    """R2: if the INN's company appears between the match and the insert (a parallel inquiry), the unique
    INN/KPP constraint refuses the twin and the inquiry is attached to the company found on a new match."""
    existing = company_factory(actor=other_manager, inn=SBER_INN, kpp="")
    real_match = services._match
    calls = {"count": 0}

    def blind_then_real(inquiry):
        calls["count"] += 1
        # The first two matches (before and after the lock) miss it, as if it were not committed yet.
        return services.matching.MatchResult() if calls["count"] <= 2 else real_match(inquiry)

    monkeypatch.setattr(services, "_match", blind_then_real)
    companies = Company.objects.count()
    inquiry = _create(actor=manager, company_name="ООО «Сбер»", inn=SBER_INN, phone="+79161112233")
    assert calls["count"] == 3
    assert Company.objects.count() == companies
    assert (inquiry.company, inquiry.curator) == (existing, other_manager)
    assert inquiry.match_confidence == "certain"
