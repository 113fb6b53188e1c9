"""The head of sales' inquiry settings (R1, R2): response standards, distribution rules, public mail domains,
the embed code; and the short durations they are shown in."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kurator.accounts.models import Role
from kurator.companies.models import ApplicationSphere
from kurator.core.errors import AccessDenied
from kurator.inquiries import settings_services
from kurator.inquiries.models import DistributionRule, PublicMailDomain, ResponseStandard, RuleKind
from kurator.inquiries.templatetags.inquiries_ui import duration_human, minutes_human

pytestmark = pytest.mark.django_db

PAGES = [
    "inquiries:settings_standards",
    "inquiries:settings_rules",
    "inquiries:settings_rule_create",
    "inquiries:settings_domains",
    "inquiries:settings_embed",
]


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("minutes", "english"),
    [(15, "15 min"), (60, "1 h"), (90, "1 h 30 min"), (1440, "1 d"), (1500, "1 d 1 h"), (0, "0 min")],
)
def test_minutes_are_shown_in_the_largest_units(minutes, english):
    """R1: standards read "15 min", "1 h", "1 d" (in Russian "15 мин", "1 ч", "1 д")."""
    with translation.override("en"):
        assert minutes_human(minutes) == english


def test_durations_round_up_to_a_minute():
    """R1: thirty seconds late is one minute late, never "0 min"."""
    with translation.override("en"):
        assert duration_human(timedelta(seconds=30)) == "1 min"
        assert duration_human(timedelta(hours=2, minutes=5)) == "2 h 5 min"


@pytest.mark.parametrize("role", list(Role))
def test_settings_pages_are_for_the_head_of_sales_and_the_administrator(role, users_by_role):
    """R1, R2, R4: only the head of sales and the administrator open the settings."""
    client = login(users_by_role[role])
    expected = 200 if role in (Role.HEAD_OF_SALES, Role.ADMIN) else 403
    for name in PAGES:
        assert client.get(reverse(name)).status_code == expected, name


def test_response_standards_are_saved_in_any_unit(head):
    """R1: the head of sales sets each channel's time in minutes, hours or days."""
    response = login(head).post(
        reverse("inquiries:settings_standards"),
        {
            "phone_0": "10",
            "phone_1": "min",
            "email_0": "2",
            "email_1": "h",
            "exhibition_0": "3",
            "exhibition_1": "d",
        },
    )
    assert response.status_code == 302
    minutes = dict(ResponseStandard.objects.values_list("channel", "minutes"))
    assert minutes["phone"] == 10 and minutes["email"] == 120 and minutes["exhibition"] == 3 * 1440
    page = unescape(login(head).get(reverse("inquiries:settings_standards")).content.decode())
    assert "2 h" in page and "3 d" in page


def test_a_zero_standard_is_refused(head):
    """R1: a time limit is at least a minute; nothing is saved otherwise."""
    before = dict(ResponseStandard.objects.values_list("channel", "minutes"))
    response = login(head).post(reverse("inquiries:settings_standards"), {"phone_0": "0", "phone_1": "min"})
    assert response.status_code == 200
    assert dict(ResponseStandard.objects.values_list("channel", "minutes")) == before


def test_a_manager_cannot_change_standards(manager):
    """R1, R4: a POST by a manager is 403 and changes nothing."""
    before = dict(ResponseStandard.objects.values_list("channel", "minutes"))
    response = login(manager).post(
        reverse("inquiries:settings_standards"), {"phone_0": "1", "phone_1": "min"}
    )
    assert response.status_code == 403
    assert dict(ResponseStandard.objects.values_list("channel", "minutes")) == before
    with pytest.raises(AccessDenied):
        settings_services.response_standards_save(actor=manager, minutes={"phone": 1})


def test_a_rule_is_created_and_explained_in_words(head, manager, senior_manager):
    """R2: a region rule names its city and its team, and the list says what it means."""
    response = login(head).post(
        reverse("inquiries:settings_rule_create"),
        {
            "name": "Тверь",
            "kind": RuleKind.CITY,
            "value": " Тверь ",
            "members": [manager.pk, senior_manager.pk],
            "position": "1",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    rule = DistributionRule.objects.get()
    assert rule.value == "Тверь" and set(rule.members.all()) == {manager, senior_manager}
    page = unescape(login(head).get(reverse("inquiries:settings_rules")).content.decode())
    assert "New clients from “Тверь” go in turn to" in page
    assert manager.full_name in page


def test_a_rule_keeps_only_what_its_kind_uses(head, manager):
    """R2: a sphere rule does not keep a stale city."""
    sphere = ApplicationSphere.objects.create(name="Тестовая сфера для правил")
    rule = settings_services.distribution_rule_save(
        actor=head, name="Стройка", kind=RuleKind.SPHERE, value="Тверь", sphere=sphere, members=[manager]
    )
    assert rule.value == "" and rule.sphere == sphere


def test_an_incomplete_rule_is_refused_with_field_errors(head, finance):
    """R2: a region rule without a city, or with a member who cannot curate, is refused; nothing saved."""
    response = login(head).post(
        reverse("inquiries:settings_rule_create"),
        {"name": "Регион", "kind": RuleKind.CITY, "value": "", "members": [], "position": "0"},
    )
    assert response.status_code == 200
    assert DistributionRule.objects.count() == 0
    with pytest.raises(ValidationError) as excinfo:
        settings_services.distribution_rule_save(
            actor=head, name="X", kind=RuleKind.ROUND_ROBIN, members=[finance]
        )
    assert "members" in excinfo.value.error_dict
    assert DistributionRule.objects.count() == 0


def test_a_rule_is_edited_and_removed(head, manager, other_manager):
    """R2: the head of sales changes a rule's team and removes a rule."""
    rule = settings_services.distribution_rule_save(
        actor=head, name="Все", kind=RuleKind.ROUND_ROBIN, members=[manager]
    )
    client = login(head)
    page = client.get(reverse("inquiries:settings_rule_edit", args=[rule.pk]))
    assert page.status_code == 200
    client.post(
        reverse("inquiries:settings_rule_edit", args=[rule.pk]),
        {"name": "Все", "kind": RuleKind.ROUND_ROBIN, "members": [other_manager.pk], "position": "0"},
    )
    rule.refresh_from_db()
    assert list(rule.members.all()) == [other_manager] and not rule.is_active
    assert client.get(reverse("inquiries:settings_rule_delete", args=[rule.pk])).status_code == 405
    client.post(reverse("inquiries:settings_rule_delete", args=[rule.pk]))
    assert not DistributionRule.objects.exists()


def test_a_manager_cannot_remove_a_rule(head, manager):
    """R2, R4: the POST is 403 and the rule stays."""
    rule = settings_services.distribution_rule_save(
        actor=head, name="Все", kind=RuleKind.ROUND_ROBIN, members=[manager]
    )
    assert login(manager).post(reverse("inquiries:settings_rule_delete", args=[rule.pk])).status_code == 403
    assert DistributionRule.objects.filter(pk=rule.pk).exists()


def test_public_domains_are_added_and_removed(head):
    """R2: the head of sales keeps the list of public mail services."""
    client = login(head)
    response = client.post(reverse("inquiries:settings_domains"), {"domain": "  @Mail.Example "})
    assert response.status_code == 302
    added = PublicMailDomain.objects.get(domain="mail.example")
    duplicate = client.post(reverse("inquiries:settings_domains"), {"domain": "mail.example"})
    assert "already in the list" in unescape(duplicate.content.decode())
    bad = client.post(reverse("inquiries:settings_domains"), {"domain": "not a domain"})
    assert bad.status_code == 200 and "Enter a domain" in unescape(bad.content.decode())
    client.post(reverse("inquiries:settings_domains"), {"remove": added.pk})
    assert not PublicMailDomain.objects.filter(domain="mail.example").exists()


def test_a_manager_cannot_edit_public_domains(manager):
    """R2, R4: 403, and the list is unchanged."""
    count = PublicMailDomain.objects.count()
    domain = PublicMailDomain.objects.first()
    assert domain is not None
    client = login(manager)
    assert client.post(reverse("inquiries:settings_domains"), {"domain": "x.example"}).status_code == 403
    assert client.post(reverse("inquiries:settings_domains"), {"remove": domain.pk}).status_code == 403
    assert PublicMailDomain.objects.count() == count


def test_the_embed_page_shows_a_snippet_with_the_source(head):
    """S2: the head of sales copies an <iframe> pointing at the public form, with the chosen source."""
    from kurator.companies.models import ContactSource

    source = ContactSource.objects.create(name="Сайт")
    html = unescape(
        login(head).get(reverse("inquiries:settings_embed") + f"?source={source.pk}").content.decode()
    )
    assert f'<iframe src="http://testserver/forms/inquiry/?source={source.pk}"' in html
