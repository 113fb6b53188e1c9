"""Routing of new clients by the head of sales' distribution rules (R2): which rule, which member, and why."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import cast

import pytest
from django.utils import timezone, translation

from kurator.accounts.models import Role, User
from kurator.companies.models import ApplicationSphere, SalesTechnology
from kurator.inquiries import services
from kurator.inquiries.models import Assignment, RuleKind
from kurator.inquiries.routing import choose_curator
from kurator.inquiries.settings_services import distribution_rule_save
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    # Explanations are stored in the language of the moment; the assertions quote the English msgids.
    with translation.override("en"):
        yield


@pytest.fixture
def team(db):
    return [
        UserFactory(username=f"seller{i}", role=Role.MANAGER, first_name="Менеджер", last_name=f"Номер{i}")
        for i in range(3)
    ]


def test_city_rule_takes_clients_of_its_cities_whatever_the_case(head, team, manager):
    """R2: a region rule covers its cities (several, folded: «москва» is «Москва»); others go elsewhere."""
    rule = distribution_rule_save(
        actor=head, name="Москва и область", kind=RuleKind.CITY, value="Москва; Химки", members=team[:1]
    )
    decision = choose_curator(city="москва")
    assert decision is not None
    assert (decision.rule, decision.curator) == (rule, team[0])
    assert "Москва и область" in decision.explanation
    assert team[0].full_name in decision.explanation
    assert choose_curator(city="ХИМКИ").curator == team[0]  # type: ignore[union-attr]
    other = choose_curator(city="Казань")
    assert other is not None and other.rule is None


def test_sphere_and_technology_rules(head, team):
    """R2: industry and sales-technology rules cover clients of their sphere or technology only."""
    sphere = ApplicationSphere.objects.get(name="Строительство")
    technology = SalesTechnology.objects.get(name="Тендер")
    by_sphere = distribution_rule_save(
        actor=head, name="Стройка", kind=RuleKind.SPHERE, sphere=sphere, members=[team[0]]
    )
    by_tech = distribution_rule_save(
        actor=head, name="Тендеры", kind=RuleKind.TECHNOLOGY, sales_technology=technology, members=[team[1]]
    )
    assert choose_curator(sphere_id=sphere.pk).rule == by_sphere  # type: ignore[union-attr]
    assert choose_curator(technology_id=technology.pk).rule == by_tech  # type: ignore[union-attr]
    assert choose_curator().rule is None  # type: ignore[union-attr]


def test_first_matching_rule_by_position_wins_and_inactive_rules_are_skipped(head, team):
    """R2: rules are tried in their order; a switched-off rule is ignored."""
    distribution_rule_save(
        actor=head,
        name="Выключено",
        kind=RuleKind.ROUND_ROBIN,
        members=[team[2]],
        position=0,
        is_active=False,
    )
    first = distribution_rule_save(
        actor=head, name="Москва", kind=RuleKind.CITY, value="Москва", members=[team[0]], position=1
    )
    distribution_rule_save(actor=head, name="Все", kind=RuleKind.ROUND_ROBIN, members=[team[1]], position=2)
    assert choose_curator(city="Москва").rule == first  # type: ignore[union-attr]
    assert choose_curator(city="Тула").curator == team[1]  # type: ignore[union-attr]


def test_round_robin_is_fair_and_goes_to_who_waited_longest(head, team):
    """R2: within a team the member who got a new client longest ago gets the next: 9 clients, 3 each."""
    rule = distribution_rule_save(actor=head, name="Команда", kind=RuleKind.ROUND_ROBIN, members=team)
    start = timezone.now()
    chosen = [
        choose_curator(now=start + timedelta(minutes=i)).curator  # type: ignore[union-attr]
        for i in range(9)
    ]
    assert Counter(u.pk for u in chosen) == {u.pk: 3 for u in team}
    # Strict turns: nobody gets a second client before everyone has had one.
    assert len({u.pk for u in chosen[:3]}) == 3
    assert chosen[3:6] == chosen[:3]
    assert Assignment.objects.filter(rule=rule).count() == 3

    # Someone who joins the team has never had a client: they are next.
    newcomer = cast(User, UserFactory(username="newcomer", role=Role.SENIOR_MANAGER))
    distribution_rule_save(
        actor=head, rule=rule, name="Команда", kind=RuleKind.ROUND_ROBIN, members=[*team, newcomer]
    )
    assert choose_curator(now=start + timedelta(hours=1)).curator == newcomer  # type: ignore[union-attr]


def test_rule_whose_team_cannot_curate_is_skipped_and_said_so(head, team):
    """R2: a rule whose members have all left is skipped; the explanation names it."""
    distribution_rule_save(
        actor=head, name="Ушедшие", kind=RuleKind.ROUND_ROBIN, members=[team[0]], position=0
    )
    distribution_rule_save(
        actor=head, name="Остальные", kind=RuleKind.ROUND_ROBIN, members=[team[1]], position=1
    )
    team[0].is_active = False
    team[0].save()
    decision = choose_curator()
    assert decision is not None
    assert decision.curator == team[1]
    assert "Ушедшие" in decision.explanation


def test_without_rules_all_curators_take_turns(manager, other_manager, head, finance):
    """R2: no rule fits: all active curator candidates take turns (finance never curates)."""
    chosen = [choose_curator().curator for _ in range(6)]  # type: ignore[union-attr]
    assert Counter(u.pk for u in chosen) == {manager.pk: 2, other_manager.pk: 2, head.pk: 2}
    assert "No distribution rule fits" in choose_curator().explanation  # type: ignore[union-attr]


def test_new_client_from_an_inquiry_goes_by_the_rule_with_an_explanation(head, team, manager):
    """R2: an inquiry with no match opens a prospect curated by the rule's member, and says why."""
    rule = distribution_rule_save(
        actor=head, name="Казань", kind=RuleKind.CITY, value="Казань", members=[team[2]]
    )
    inquiry = services.inquiry_create(
        actor=manager,
        channel="phone",
        company_name="ООО «Новый клиент»",
        city="Казань",
        phone="+7 843 200-00-00",
        contact_name="Ильдар",
    )
    assert inquiry.curator == team[2]
    assert inquiry.company is not None and inquiry.company.curator == team[2]
    assert inquiry.company.city == "Казань"
    assert rule.name in inquiry.routing_explanation
    assert "Новый клиент" in inquiry.routing_explanation
