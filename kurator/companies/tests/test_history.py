"""Freshness of the dossier (D11): every change is kept with who, when and old → new; sections show when they
were last updated and which are stale."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext as _

from kurator.companies import services
from kurator.companies.dossier import section_freshness
from kurator.companies.models import (
    BankAccount,
    Company,
    CompanyStatus,
    Contact,
    ContactSource,
    DecisionRole,
    DeliveryMethod,
    ProductCategory,
)
from kurator.companies.selectors import company_history
from kurator.core.requisites import generate_settlement_account
from tests.factories import bank_account_factory, company_factory, contact_factory


def label(model, field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


def history_rows() -> int:
    return Company.history.count() + BankAccount.history.count() + Contact.history.count()


def changes_of(entry) -> dict[str, tuple[object, object]]:
    return {change.field: (change.old, change.new) for change in entry.changes}


# The history ----------------------------------------------------------------------------------------------


def test_history_shows_company_accounts_and_people_newest_first(manager, head):
    """D11, R3: creating, changing and deleting the company, its bank accounts and its people all appear,
    newest first, each with the user who did it."""
    company = company_factory(actor=manager, full_name="ООО «Ромашка»")
    account = bank_account_factory(actor=manager, company=company)
    person = contact_factory(actor=manager, company=company, full_name="Иванов Иван")
    services.contact_update(actor=head, contact=person, position="Коммерческий директор")
    services.company_update(actor=head, company=company, status=CompanyStatus.CLIENT)
    services.bank_account_delete(actor=manager, account=account)
    services.contact_delete(actor=head, contact=person)

    entries = company_history(company=company)

    assert [(e.object_type, e.action, e.user) for e in entries] == [
        ("contact", "deleted", head),
        ("bank_account", "deleted", manager),
        ("company", "changed", head),
        ("contact", "changed", head),
        ("contact", "created", manager),
        ("bank_account", "created", manager),
        ("company", "created", manager),
    ]
    assert (entries[0].object_type_label, entries[0].action_label) == (_("Person"), _("deleted"))
    assert {(e.object_type_label, e.action_label) for e in entries[1:3]} == {
        (_("Bank account"), _("deleted")),
        (_("Company"), _("changed")),
    }
    whens = [e.when for e in entries]
    assert whens == sorted(whens, reverse=True)
    assert entries[0].object_label == "Иванов Иван"
    assert entries[-1].object_label == "ООО «Ромашка»"
    assert company_history(company=company, limit=2) == entries[:2]


def test_changes_show_old_and_new_values_with_human_labels(manager, head, other_manager):
    """D11: a change names the field as the user knows it; choices show their labels and relations their
    names, never codes or ids."""
    source = ContactSource.objects.order_by("position")[0]
    company = company_factory(actor=head, curator=manager, full_name="ООО «Ромашка»")
    services.company_update(
        actor=head,
        company=company,
        status=CompanyStatus.CLIENT,
        source=source,
        curator=other_manager,
        phones=["8 (495) 123-45-67"],
    )

    entry = company_history(company=company)[0]
    changes = {change.field: change for change in entry.changes}

    assert set(changes) == {"status", "source", "curator", "phones"}
    assert changes["status"].label == label(Company, "status")
    assert (changes["status"].old, changes["status"].new) == (
        str(CompanyStatus.PROSPECT.label),
        str(CompanyStatus.CLIENT.label),
    )
    assert (changes["source"].old, changes["source"].new) == ("", source.name)
    assert changes["source"].label == label(Company, "source")
    assert (changes["curator"].old, changes["curator"].new) == (manager.full_name, other_manager.full_name)
    # Phones read as people write them, like everywhere else in the dossier.
    assert (changes["phones"].old, changes["phones"].new) == ("", "+7 495 123-45-67")


def test_person_changes_show_the_boss_and_the_decision_role_by_name(manager, company):
    """D2, D11: who a person reports to is shown by name, the decision role by its label."""
    boss = contact_factory(actor=manager, company=company, full_name="Петров Пётр")
    person = contact_factory(actor=manager, company=company, full_name="Сидоров Сидор")
    services.contact_update(
        actor=manager, contact=person, reports_to=boss, decision_role=DecisionRole.DECISION_MAKER
    )
    entry = company_history(company=company)[0]
    assert entry.object_type == "contact"
    assert changes_of(entry) == {
        "reports_to": ("", "Петров Пётр"),
        "decision_role": (str(DecisionRole.OTHER.label), str(DecisionRole.DECISION_MAKER.label)),
    }
    assert {c.label for c in entry.changes} == {label(Contact, "reports_to"), label(Contact, "decision_role")}


def test_bank_account_changes_show_flags_as_yes_and_no(manager, company):
    """D1, D11: making another account primary shows in both accounts' history as no → yes and yes → no."""
    first = bank_account_factory(actor=manager, company=company)
    second = bank_account_factory(
        actor=manager,
        company=company,
        settlement_account=generate_settlement_account(random.Random(99), first.bik),
    )
    services.bank_account_update(actor=manager, account=second, is_primary=True)

    entries = company_history(company=company)[:2]
    assert {(e.object_type, e.action) for e in entries} == {("bank_account", "changed")}
    flips = {e.object_id: changes_of(e) for e in entries}
    assert flips == {
        first.pk: {"is_primary": (_("yes"), _("no"))},
        second.pk: {"is_primary": (_("no"), _("yes"))},
    }


def test_product_category_changes_appear_as_one_entry(manager, company):
    """D9, D11: the categories a client buys are part of its history; one edit is one entry, holding the
    other fields changed with them."""
    equipment, parts, supplies = ProductCategory.objects.order_by("position")[:3]
    services.company_update(actor=manager, company=company, product_categories=[equipment, parts])
    services.company_update(
        actor=manager, company=company, product_categories=[parts, supplies], notes="расширили ассортимент"
    )

    entries = company_history(company=company)
    assert len(entries) == 3  # created + two edits
    assert changes_of(entries[1]) == {
        "product_categories": ("", ", ".join(sorted([equipment.name, parts.name])))
    }
    assert changes_of(entries[0]) == {
        "notes": ("", "расширили ассортимент"),
        "product_categories": (
            ", ".join(sorted([equipment.name, parts.name])),
            ", ".join(sorted([parts.name, supplies.name])),
        ),
    }


def test_categories_given_at_creation_are_in_the_creation_entry(manager):
    """D9, D11: a company created with its categories has one history entry, and it lists them."""
    categories = list(ProductCategory.objects.order_by("position")[:2])
    company = company_factory(actor=manager, product_categories=categories)
    entries = company_history(company=company)
    assert [e.action for e in entries] == ["created"]
    assert changes_of(entries[0])["product_categories"] == ("", ", ".join(sorted(c.name for c in categories)))


def test_unchanged_save_writes_no_history(manager, company):
    """D11: saving a form without changes (phones typed in another spelling, categories in another order)
    adds nothing to the history and does not bump the version."""
    categories = list(ProductCategory.objects.order_by("position")[:2])
    company = services.company_update(
        actor=manager, company=company, phones=["+7 495 123 45 67"], product_categories=categories
    )
    person = contact_factory(actor=manager, company=company, phones=["+7 916 000 11 22"])
    account = bank_account_factory(actor=manager, company=company)
    before, version, entries = history_rows(), company.version, len(company_history(company=company))

    services.company_update(
        actor=manager,
        company=company,
        full_name=company.full_name,
        phones=["8 (495) 123-45-67"],
        product_categories=categories[::-1],
        status=company.status,
        curator=manager,
    )
    services.contact_update(actor=manager, contact=person, full_name=person.full_name, phones=["89160001122"])
    services.bank_account_update(
        actor=manager,
        account=account,
        bik=account.bik,
        settlement_account=account.settlement_account,
        is_primary=True,
    )

    company.refresh_from_db()
    assert history_rows() == before
    assert company.version == version
    assert len(company_history(company=company)) == entries


def test_derived_stamps_do_not_write_company_history(manager, company):
    """D11: adding a person or an account changes derived values (completeness, freshness) but is recorded
    once, as the person's or the account's entry, not as a company change."""
    before = Company.history.count()
    contact_factory(actor=manager, company=company)
    bank_account_factory(actor=manager, company=company)
    assert Company.history.count() == before


def test_history_of_a_company_does_not_show_other_companies(manager, company):
    """D11: each dossier shows only its own records."""
    other = company_factory(actor=manager)
    contact_factory(actor=manager, company=other)
    bank_account_factory(actor=manager, company=other)
    assert {e.object_id for e in company_history(company=company)} == {company.pk}


def test_history_runs_a_constant_number_of_queries(manager, company):
    """D11: the History tab costs the same number of queries however long the history is."""
    first_boss = contact_factory(actor=manager, company=company, full_name="Директор")
    person = contact_factory(actor=manager, company=company, reports_to=first_boss)
    with CaptureQueriesContext(connection) as short:
        company_history(company=company)
    for index in range(5):
        boss = contact_factory(actor=manager, company=company, full_name=f"Начальник {index}")
        services.contact_update(actor=manager, contact=person, reports_to=boss)
        services.company_update(actor=manager, company=company, notes=f"правка {index}")
    bank_account_factory(actor=manager, company=company)
    with CaptureQueriesContext(connection) as long:
        entries = company_history(company=company)
    assert len(entries) > 15
    # One query per history table and per related model shown, whatever the number of records.
    assert len(long) == len(short)


def test_a_deleted_person_keeps_their_name_in_every_entry(manager, company):
    """D2, D11: after a boss is removed, the entries that said who reported to them still name them (from
    the history), never a bare id."""
    boss = contact_factory(actor=manager, company=company, full_name="Миллер Алексей Борисович")
    person = contact_factory(actor=manager, company=company, full_name="Сидоров Сидор", reports_to=boss)
    services.contact_update(actor=manager, contact=boss, full_name="Миллер Алексей Борисович-старший")
    services.contact_delete(actor=manager, contact=boss)

    entries = company_history(company=company)
    person_created = next(e for e in entries if e.object_id == person.pk and e.action == "created")
    moved_up = next(e for e in entries if e.object_id == person.pk and e.action == "changed")

    # The latest name it had, as the deletion row recorded it.
    assert changes_of(person_created)["reports_to"] == ("", "Миллер Алексей Борисович-старший")
    assert changes_of(moved_up) == {"reports_to": ("Миллер Алексей Борисович-старший", "")}
    assert not any(str(value).startswith("#") for e in entries for c in e.changes for value in (c.old, c.new))


def test_a_person_deleted_from_another_dossier_is_named_from_the_history_table(manager, company):
    """D11: a related record whose rows are not part of this history (a client recommended by a company
    whose record is gone, here a person of another dossier) is named from its model's history table."""
    other = company_factory(actor=manager)
    stranger = contact_factory(actor=manager, company=other, full_name="Чужой Человек")
    person = contact_factory(actor=manager, company=company, full_name="Свой Человек")
    # Only a raw write can point across dossiers (the services refuse it); the history must still cope.
    Contact.history.filter(id=person.pk).update(reports_to_id=stranger.pk)
    services.contact_delete(actor=manager, contact=stranger)

    entry = next(e for e in company_history(company=company) if e.object_id == person.pk)
    assert changes_of(entry)["reports_to"] == ("", "Чужой Человек")


def test_a_deleted_record_shows_its_last_values(manager, company):
    """D11: a "deleted" entry lists what the record held, as old values with nothing after, so that nothing
    is lost from view."""
    boss = contact_factory(actor=manager, company=company, full_name="Петров Пётр")
    person = contact_factory(
        actor=manager,
        company=company,
        full_name="Иванова Анна",
        position="Бухгалтер",
        reports_to=boss,
        phones=["8 (916) 000-11-22"],
        decision_role=DecisionRole.INFLUENCER,
    )
    account = bank_account_factory(actor=manager, company=company, bank_name="ПАО Сбербанк")
    services.contact_delete(actor=manager, contact=person)
    services.bank_account_delete(actor=manager, account=account)

    entries = company_history(company=company)
    account_deleted, person_deleted = entries[0], entries[1]
    assert (person_deleted.object_type, person_deleted.action) == ("contact", "deleted")
    assert changes_of(person_deleted) == {
        "full_name": ("Иванова Анна", ""),
        "position": ("Бухгалтер", ""),
        "reports_to": ("Петров Пётр", ""),
        "decision_role": (str(DecisionRole.INFLUENCER.label), ""),
        "phones": ("+7 916 000-11-22", ""),
        "is_active": (_("yes"), ""),
    }
    assert (account_deleted.object_type, account_deleted.action) == ("bank_account", "deleted")
    assert changes_of(account_deleted)["settlement_account"] == (account.settlement_account, "")
    assert changes_of(account_deleted)["bank_name"] == ("ПАО Сбербанк", "")


def test_history_with_deleted_people_runs_a_constant_number_of_queries(manager, company):
    """D11: naming deleted people from the history costs a fixed number of queries, however many there are."""
    other = company_factory(actor=manager)
    boss = contact_factory(actor=manager, company=company)
    person = contact_factory(actor=manager, company=company, reports_to=boss)
    stranger = contact_factory(actor=manager, company=other)
    Contact.history.filter(id=person.pk).update(reports_to_id=stranger.pk)
    services.contact_delete(actor=manager, contact=stranger)
    with CaptureQueriesContext(connection) as short:
        company_history(company=company)
    for index in range(5):
        extra_boss = contact_factory(actor=manager, company=company, full_name=f"Начальник {index}")
        extra = contact_factory(actor=manager, company=company, reports_to=extra_boss)
        gone = contact_factory(actor=manager, company=other, full_name=f"Ушедший {index}")
        Contact.history.filter(id=extra.pk).update(reports_to_id=gone.pk)
        services.contact_delete(actor=manager, contact=gone)
        services.contact_delete(actor=manager, contact=extra_boss)
    with CaptureQueriesContext(connection) as long:
        entries = company_history(company=company)
    assert len(entries) > 20
    assert len(long) == len(short)


# Freshness stamps -------------------------------------------------------------------------------------------


def stamps(company: Company) -> dict[str, Any]:
    company.refresh_from_db()
    return {
        "general": company.general_updated_at,
        "requisites": company.requisites_updated_at,
        "people": company.people_updated_at,
        "profile": company.profile_updated_at,
    }


def test_sections_are_stamped_when_their_data_changes(manager, company):
    """D11: each section shows when it was last updated: a person stamps People, an account or an INN
    stamps Requisites, a delivery method stamps Profile, a note stamps General; the others keep their time."""
    start = stamps(company)
    assert start["general"] and start["requisites"]
    assert start["people"] is None and start["profile"] is None

    contact_factory(actor=manager, company=company)
    after_person = stamps(company)
    assert after_person["people"] is not None
    assert {k: v for k, v in after_person.items() if k != "people"} == {
        k: v for k, v in start.items() if k != "people"
    }

    bank_account_factory(actor=manager, company=company)
    after_account = stamps(company)
    assert after_account["requisites"] > after_person["requisites"]
    assert after_account["general"] == start["general"]

    services.company_update(actor=manager, company=company, delivery_method=DeliveryMethod.objects.first())
    after_profile = stamps(company)
    assert after_profile["profile"] is not None
    assert after_profile["general"] == start["general"]
    assert after_profile["requisites"] == after_account["requisites"]

    services.company_update(actor=manager, company=company, notes="новая заметка")
    after_note = stamps(company)
    assert after_note["general"] > start["general"]
    assert after_note["profile"] == after_profile["profile"]

    person = Contact.objects.get(company=company)
    services.contact_update(actor=manager, contact=person, position="Главный инженер")
    assert stamps(company)["people"] > after_person["people"]


def test_unchanged_save_does_not_refresh_the_stamps(manager, company):
    """D11: a save without changes does not make a section look fresh."""
    before = stamps(company)
    services.company_update(actor=manager, company=company, full_name=company.full_name, inn=company.inn)
    assert stamps(company) == before


def test_section_not_updated_for_longer_than_the_setting_is_stale(manager, company, settings):
    """D11: a section untouched for longer than KURATOR_STALE_AFTER_DAYS is marked stale; fresh ones are not;
    a section never filled is stale once the dossier is older than the limit."""
    settings.KURATOR_STALE_AFTER_DAYS = 30
    contact_factory(actor=manager, company=company)
    now = timezone.now()
    Company.objects.filter(pk=company.pk).update(
        created_at=now - timedelta(days=31),
        people_updated_at=now - timedelta(days=31),
        requisites_updated_at=now - timedelta(days=29),
    )
    company.refresh_from_db()

    freshness = {section["code"]: section for section in section_freshness(company)}

    assert {code: section["stale"] for code, section in freshness.items()} == {
        "general": False,
        "requisites": False,
        "people": True,
        "profile": True,
    }
    assert freshness["people"]["updated_at"] == company.people_updated_at
    assert freshness["profile"]["updated_at"] is None

    # Updating the stale section makes it fresh again.
    services.contact_update(actor=manager, contact=Contact.objects.get(company=company), position="Инженер")
    company.refresh_from_db()
    assert not {s["code"]: s for s in section_freshness(company)}["people"]["stale"]


def test_a_new_dossier_is_not_stale_for_sections_not_yet_filled(manager, company):
    """D11: a section never filled in a dossier opened today is shown as never updated, not as stale."""
    freshness = {s["code"]: s for s in section_freshness(company)}
    assert freshness["profile"]["updated_at"] is None
    assert not any(s["stale"] for s in freshness.values())


def test_default_staleness_is_180_days(manager, company):
    """D11: the default limit is 180 days."""
    now = timezone.now()
    Company.objects.filter(pk=company.pk).update(
        general_updated_at=now - timedelta(days=179), requisites_updated_at=now - timedelta(days=181)
    )
    company.refresh_from_db()
    stale = {s["code"]: s["stale"] for s in section_freshness(company)}
    assert (stale["general"], stale["requisites"]) == (False, True)
