"""D12: the audit log cannot be edited or deleted. On PostgreSQL a trigger refuses UPDATE and DELETE on it, so
neither the application nor a stray query in a shell can rewrite history. (SQLite, the embedded default, relies
on the application, which never changes a row.) TRUNCATE stays possible for the database owner: the test
suite's flush and a restore into an empty database use it."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION kurator_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER access_auditevent_append_only
    BEFORE UPDATE OR DELETE ON access_auditevent
    FOR EACH ROW EXECUTE FUNCTION kurator_audit_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS access_auditevent_append_only ON access_auditevent;
DROP FUNCTION IF EXISTS kurator_audit_append_only();
"""


def create_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        # params=None: the SQL goes as it is (its RAISE format has a %, which client-side binding would parse).
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("access", "0002_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
