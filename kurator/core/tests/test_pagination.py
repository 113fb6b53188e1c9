"""The list paginator keeps the order while choosing a cheap plan for few matches (R3: lists stay fast)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kurator.companies.models import Company
from kurator.companies.selectors import company_list
from kurator.core.pagination import FewRowsPaginator
from tests.factories import company_factory

pytestmark = pytest.mark.django_db

NAMES = [
    "ООО «Ромашка»",
    "АО «Ромашка-Юг»",
    "ЗАО «Ромашкин и партнёры»",
    "ООО «Василёк»",
    "ПАО «Ромашка Трейд»",
]


@pytest.fixture
def companies(manager):
    return [company_factory(actor=manager, full_name=name) for name in NAMES]


@pytest.mark.parametrize("sort", ["name", "-name", "completeness", "-completeness", "updated", "curator"])
def test_a_filtered_page_has_the_same_rows_in_the_same_order(manager, companies, sort):
    """R3: sorting the few matches without the index gives exactly the order the index would."""
    queryset = company_list(actor=manager, search="ромашк", sort=sort)
    expected = [c.pk for c in queryset]
    page = FewRowsPaginator(queryset, 2)
    got = [c.pk for number in page.page_range for c in page.page(number).object_list]
    assert got == expected
    assert len(got) == 4


def test_few_matches_sort_by_an_expression_and_the_whole_list_by_the_index(manager, companies):
    """R3: only a filtered list with few rows sorts by the expression; an unfiltered one keeps the index."""
    with CaptureQueriesContext(connection) as filtered:
        list(FewRowsPaginator(company_list(actor=manager, search="ромашк"), 25).page(1).object_list)
    with CaptureQueriesContext(connection) as whole:
        list(FewRowsPaginator(company_list(actor=manager), 25).page(1).object_list)
    filtered_sql = filtered.captured_queries[-1]["sql"].upper()
    whole_sql = whole.captured_queries[-1]["sql"].upper()
    assert "ORDER BY COALESCE(" in filtered_sql
    assert "COALESCE(" not in whole_sql
    assert Company.objects.count() == len(NAMES)
