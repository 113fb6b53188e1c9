"""D12: the audit log cannot be edited or deleted — on PostgreSQL a trigger refuses UPDATE and DELETE on it,
whatever issues them (the ORM here, a stray query in a shell)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from kurator.access.audit import audit_record
from kurator.access.models import AuditAction, AuditEvent

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the append-only trigger exists on PostgreSQL only; SQLite relies on the application, which never "
    "changes a row of the log",
)


@pytest.fixture
def line(head, company):
    return audit_record(
        action=AuditAction.VIEW_SOLVENCY,
        allowed=True,
        rule="head_of_sales",
        user=head,
        obj=company,
        ip="10.0.0.1",
    )


def test_an_update_of_the_log_is_refused(line):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=line.pk).update(allowed=False, rule="edited")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        line.detail = "edited"
        line.save()
    line.refresh_from_db()
    assert (line.allowed, line.rule, line.detail) == (True, "head_of_sales", "")


def test_a_delete_from_the_log_is_refused(line):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=line.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.all().delete()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM access_auditevent")
    assert AuditEvent.objects.filter(pk=line.pk).exists()


def test_adding_lines_still_works(line, head, company):
    audit_record(action=AuditAction.DOWNLOAD, allowed=False, rule="no_grant", user=head, obj=company)
    assert AuditEvent.objects.count() == 2
