"""Data migrations of the dossier, run against real rows (D1)."""

from __future__ import annotations

import importlib

from django.apps import apps

from kurator.companies.models import Company
from kurator.companies.selectors import company_list
from tests.factories import company_factory, contact_factory

search_text_migration = importlib.import_module("kurator.companies.migrations.0005_search_text_with_kpp")


def test_search_text_is_recomputed_with_the_kpp_for_existing_companies(manager, settings, monkeypatch):
    """D1: companies saved before the KPP joined the search text get it from the migration, with their
    people, in batches; the others are left alone."""
    branch = company_factory(actor=manager, full_name="ООО «Филиал»", inn="7707083893", kpp="773601001")
    contact_factory(actor=manager, company=branch, full_name="Жукова Алла")
    others = [company_factory(actor=manager, full_name=f"ООО «Компания {n}»") for n in range(3)]
    expected = {c.pk: Company.objects.get(pk=c.pk).search_text for c in [branch, *others]}
    # As the rows were before: no KPP in the search text.
    Company.objects.filter(pk=branch.pk).update(search_text="ооо «филиал» 7707083893 жукова алла")
    assert not company_list(actor=manager, search="773601001").exists()

    monkeypatch.setattr(search_text_migration, "BATCH", 2)  # several batches even with a few rows
    search_text_migration.recompute_search_text(apps, None)

    assert {c.pk: c.search_text for c in Company.objects.all()} == expected
    assert "773601001" in expected[branch.pk] and "жукова алла" in expected[branch.pk]
    assert list(company_list(actor=manager, search="773601001")) == [branch]
