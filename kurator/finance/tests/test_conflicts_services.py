"""The conflict register (D7): validation (nothing half-written), people of both sides, links to the same
client, resolving and reopening, versions, who may write (R3), history with the people."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from kurator.core.errors import AccessDenied, EditConflict
from kurator.finance.models import Conflict
from kurator.finance.selectors.conflicts import company_conflicts, conflict_history
from kurator.finance.services.conflicts import (
    conflict_create,
    conflict_reopen,
    conflict_resolve,
    conflict_update,
)
from kurator.finance.tests.factories_contracts import conflict_factory, contract_factory
from kurator.sales import services as sales_services
from tests.factories import company_factory, contact_factory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def codes(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str | None]]:
    return {field: [e.code for e in errors] for field, errors in exc.value.error_dict.items()}


def snapshot() -> tuple[int, int]:
    return Conflict.objects.count(), Conflict.history.count()


def test_a_conflict_is_registered_with_the_people_of_both_sides(manager, other_manager, company):
    """D7: date, title, description, severity, our people and the client's, links; open by default."""
    person = contact_factory(actor=manager, company=company, full_name="Сидоров Пётр")
    deal = sales_services.deal_create(actor=manager, company=company)
    contract = contract_factory(actor=manager, company=company)
    conflict = conflict_create(
        actor=manager,
        company=company,
        occurred_on="2026-01-10",
        title="Сорвана поставка",
        description="Поставка задержана на две недели",
        severity="high",
        our_people=[manager.pk, other_manager],
        client_people=[person.pk],
        deal=deal.pk,
        contract=contract,
    )
    conflict.refresh_from_db()
    assert (conflict.status, conflict.severity, conflict.author) == ("open", "high", manager)
    assert set(conflict.our_people.all()) == {manager, other_manager}
    assert list(conflict.client_people.all()) == [person]
    assert (conflict.deal, conflict.contract) == (deal, contract)
    assert conflict.history.count() == 1


def test_every_bad_field_is_named_and_nothing_is_written(manager, company):
    """D7: the date, title and description are required; the date is not ahead; choices are checked."""
    before = snapshot()
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ValidationError) as caught:
        conflict_create(
            actor=manager,
            company=company,
            occurred_on=tomorrow,
            title=" ",
            description="",
            severity="apocalyptic",
            status="maybe",
        )
    assert codes(caught) == {
        "occurred_on": ["future"],
        "title": ["required"],
        "description": ["required"],
        "severity": ["invalid_choice"],
        "status": ["invalid_choice"],
    }
    assert snapshot() == before


def test_people_and_links_of_another_client_are_refused(manager, company):
    """D7: the client's people are contacts of this company only; deal, contract and invoice are its own;
    our people are active users."""
    other = company_factory(actor=manager)
    stranger = contact_factory(actor=manager, company=other, full_name="Чужой Человек")
    foreign_deal = sales_services.deal_create(actor=manager, company=other)
    foreign_contract = contract_factory(actor=manager, company=other)
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        conflict_factory(
            actor=manager,
            company=company,
            client_people=[stranger.pk],
            deal=foreign_deal,
            contract=foreign_contract.pk,
            invoice=987654,
            our_people=[987654],
        )
    assert codes(caught) == {
        "client_people": ["other_client"],
        "deal": ["other_client"],
        "contract": ["other_client"],
        "invoice": ["invalid_choice"],
        "our_people": ["invalid_choice"],
    }
    assert "another company" in caught.value.message_dict["client_people"][0]
    assert snapshot() == before


def test_resolving_needs_the_resolution_and_a_date_not_before_the_conflict(manager, company):
    """D7: resolved needs how and when; the date is not before the conflict's nor in the future."""
    conflict = conflict_factory(actor=manager, company=company, occurred_on="2026-01-10")
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        conflict_resolve(actor=manager, conflict=conflict, resolution="", resolved_on="2026-01-05")
    assert codes(caught) == {"resolution": ["required"], "resolved_on": ["before_conflict"]}
    with pytest.raises(ValidationError) as caught:
        conflict_update(actor=manager, conflict=conflict, status="resolved")
    assert codes(caught) == {"resolution": ["required"], "resolved_on": ["required"]}
    with pytest.raises(ValidationError) as caught:
        conflict_update(actor=manager, conflict=conflict, resolved_on="2026-01-12")
    assert codes(caught) == {"resolved_on": ["not_resolved"]}
    assert snapshot() == before
    resolved = conflict_resolve(actor=manager, conflict=conflict, resolution="Скидка 5 %")
    assert (resolved.status, resolved.resolved_on) == ("resolved", timezone.localdate())


def test_reopening_clears_the_date_and_the_history_keeps_it(manager, company):
    """D7: a resolved conflict reopens; the history shows old → new values."""
    conflict = conflict_factory(actor=manager, company=company, occurred_on="2026-01-10")
    conflict = conflict_resolve(
        actor=manager, conflict=conflict, resolution="Договорились", resolved_on="2026-01-20"
    )
    conflict = conflict_reopen(actor=manager, conflict=conflict, expected_version=2)
    assert (conflict.status, conflict.resolved_on, conflict.version) == ("open", None, 3)
    with pytest.raises(ValidationError):
        conflict_reopen(actor=manager, conflict=conflict)
    entries = conflict_history(conflict=conflict)
    assert [e.action for e in entries] == ["changed", "changed", "created"]
    reopened = {c.field: (c.old, c.new) for c in entries[0].changes}
    assert reopened["resolved_on"] == (date(2026, 1, 20), "")


def test_the_history_shows_people_changes(manager, other_manager, company):
    """D7: who was involved is part of the history."""
    conflict = conflict_factory(actor=manager, company=company, our_people=[manager])
    conflict_update(actor=manager, conflict=conflict, our_people=[manager, other_manager])
    (latest, _created) = conflict_history(conflict=conflict)
    change = {c.field: (c.old, c.new) for c in latest.changes}
    assert change["our_people"] == (str(manager), ", ".join(sorted([str(manager), str(other_manager)])))


def test_who_may_register_and_resolve(
    manager, other_manager, senior_manager, head, finance, admin_user, company
):
    """R3, D7: the curator, the head of sales, finance and the administrator; not another manager."""
    for outsider in (other_manager, senior_manager):
        with pytest.raises(AccessDenied):
            conflict_factory(actor=outsider, company=company)
    assert not Conflict.objects.exists()
    for writer in (manager, head, finance, admin_user):
        conflict_factory(actor=writer, company=company)
    conflict = Conflict.objects.first()
    assert conflict is not None
    with pytest.raises(AccessDenied):
        conflict_resolve(actor=other_manager, conflict=conflict, resolution="x")
    conflict_resolve(actor=finance, conflict=conflict, resolution="Погашено")


def test_a_stale_version_is_an_edit_conflict(manager, company):
    """D7: of two edits of the same version the second is refused."""
    conflict = conflict_factory(actor=manager, company=company)
    conflict_update(actor=manager, conflict=conflict, expected_version=1, severity="critical")
    with pytest.raises(EditConflict):
        conflict_update(actor=manager, conflict=conflict, expected_version=1, severity="low")
    conflict.refresh_from_db()
    assert conflict.severity == "critical"


def test_the_tab_lists_open_ones_first_most_severe_first(manager, company):
    """D7: open and in-progress conflicts first, by severity; resolved ones after."""
    low = conflict_factory(actor=manager, company=company, severity="low", occurred_on="2026-01-20")
    resolved = conflict_factory(actor=manager, company=company, severity="critical")
    conflict_resolve(actor=manager, conflict=resolved, resolution="ok")
    high = conflict_factory(actor=manager, company=company, severity="high", status="in_progress")
    assert [c.pk for c in company_conflicts(actor=manager, company=company)] == [high.pk, low.pk, resolved.pk]


def test_someone_who_left_stays_among_the_people_but_is_not_added_anew(manager, other_manager, company):
    """D7: an inactive user already involved stays on an edit; naming one anew is refused."""
    conflict = conflict_factory(actor=manager, company=company, our_people=[other_manager])
    other_manager.is_active = False
    other_manager.save()
    conflict_update(actor=manager, conflict=conflict, our_people=[other_manager, manager], title="Ещё")
    assert set(Conflict.objects.get(pk=conflict.pk).our_people.all()) == {manager, other_manager}
    with pytest.raises(ValidationError) as caught:
        conflict_factory(actor=manager, company=company, our_people=[other_manager])
    assert codes(caught) == {"our_people": ["invalid_choice"]}
