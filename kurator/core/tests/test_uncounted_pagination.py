"""Pages of a long list that nothing narrows are not counted (D12, R3: the audit log of a million lines and
growing opens fast); a filtered list is counted as before."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kurator.companies.selectors import company_list
from kurator.core.pagination import UncountedPaginator, estimated_count
from tests.factories import company_factory

pytestmark = pytest.mark.django_db

NAMES = [f"ООО «Ромашка-{n:02d}»" for n in range(7)] + ["ООО «Василёк»", "АО «Берёзка»"]


@pytest.fixture
def companies(manager):
    return [company_factory(actor=manager, full_name=name) for name in NAMES]


def _counts(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]


def test_a_list_nothing_narrows_is_paged_without_counting(manager, companies):
    """D12: without a filter a page reads one row more than it shows; the next page is known, the last is
    not, and no COUNT runs."""
    expected = [c.pk for c in company_list(actor=manager)]
    got = []
    number = 1
    with CaptureQueriesContext(connection) as queries:
        while True:
            paginator = UncountedPaginator(company_list(actor=manager), 4)
            page = paginator.get_page(number)
            got += [c.pk for c in page.object_list]
            assert paginator.num_pages == number + (1 if page.has_next() else 0)
            if not page.has_next():
                break
            number += 1
    assert got == expected and number == 3
    assert page.has_previous() and len(page.object_list) == 1
    paging = [q["sql"] for q in queries.captured_queries if "companies_company" in q["sql"]]
    assert paging and all("COUNT(" not in sql.upper() for sql in paging)


def test_the_total_of_an_uncounted_list_is_an_estimate_at_least_the_rows_read(manager, companies):
    """D12: the page shows a total that is at least the rows up to the page: exact on SQLite, PostgreSQL's
    estimate once the table is analysed (never a COUNT of the whole table there)."""
    paginator = UncountedPaginator(company_list(actor=manager), 4)
    paginator.get_page(1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE companies_company")
        with CaptureQueriesContext(connection) as queries:
            assert paginator.count == len(NAMES)
        assert not paginator.exact
        assert [q["sql"] for q in queries.captured_queries if "pg_class" in q["sql"]]
        assert not _counts(queries)
        assert estimated_count(company_list(actor=manager)) == (len(NAMES), False)
    else:
        assert (paginator.count, paginator.exact) == (len(NAMES), True)
        assert estimated_count(company_list(actor=manager)) == (len(NAMES), True)


def test_a_filtered_list_is_counted(manager, companies):
    """R3: with a filter the paginator is the counting one (the total is exact, the last page known)."""
    paginator = UncountedPaginator(company_list(actor=manager, search="ромашк"), 4)
    with CaptureQueriesContext(connection) as queries:
        page = paginator.get_page(1)
    assert _counts(queries)
    assert (paginator.count, paginator.num_pages, paginator.exact) == (7, 2, True)
    assert len(page.object_list) == 4 and page.has_next()


@pytest.mark.parametrize(
    ("asked", "shown"),
    [("x", 1), ("0", 1), ("-3", 1), ("", 1), (None, 1), ("99", 3), ("99999999999999999999", 3)],
)
def test_odd_page_numbers_show_the_first_or_the_last_page(manager, companies, asked, shown):
    """R3: a page number that is none shows the first page, one past the end the last (counted then)."""
    paginator = UncountedPaginator(company_list(actor=manager), 4)
    page = paginator.get_page(asked)
    assert page.number == shown
    everything = [c.pk for c in company_list(actor=manager)]
    assert [c.pk for c in page.object_list] == everything[(shown - 1) * 4 : shown * 4]
    if asked and asked.startswith("99"):
        assert (paginator.count, paginator.num_pages, paginator.exact) == (len(NAMES), 3, True)
