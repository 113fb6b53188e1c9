"""Exact-value indexes for the matcher (R2, S1) on PostgreSQL.

A phone, an e-mail or a mail domain searched as a substring of the trigram-indexed search_text costs several
milliseconds at 100,000 companies (digit trigrams and ".ru" are in every row). The matcher instead compares
keys — ``tel:+74951234567``, ``mail:ivan@romashka.ru``, ``domain:romashka.ru``, ``site:romashka.ru`` — that an
immutable function derives from the stored phones, e-mails and website, through a GIN index on companies and
on their people; and OGRN through its own index. SQLite keeps the substring search (small bases).
"""

from django.db import migrations

KEYS_FUNCTION = r"""
CREATE OR REPLACE FUNCTION kurator_contact_keys(phones jsonb, emails jsonb, website text)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT k), '{}'::text[]) FROM (
    SELECT 'tel:' || split_part(btrim(p.value), ';', 1) AS k
      FROM jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(phones) = 'array' THEN phones ELSE '[]'::jsonb END) AS p(value)
    UNION ALL
    SELECT 'mail:' || lower(btrim(e.value))
      FROM jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(emails) = 'array' THEN emails ELSE '[]'::jsonb END) AS e(value)
     WHERE position('@' in e.value) > 0
    UNION ALL
    SELECT 'domain:' || lower(split_part(btrim(e.value), '@', 2))
      FROM jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(emails) = 'array' THEN emails ELSE '[]'::jsonb END) AS e(value)
     WHERE position('@' in e.value) > 0
    UNION ALL
    SELECT 'site:' || h.host
      FROM (SELECT substring(lower(btrim(website)) from '^[a-z][a-z0-9+.-]*://(?:www\.)?([^/:?#]+)')
              AS host) AS h
     WHERE h.host IS NOT NULL AND h.host <> ''
  ) AS keys
  WHERE k IS NOT NULL AND k NOT IN ('tel:', 'mail:', 'domain:')
$$
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(KEYS_FUNCTION)
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS company_contact_keys ON companies_company "
        "USING gin (kurator_contact_keys(phones, emails, website))"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS contact_contact_keys ON companies_contact "
        "USING gin (kurator_contact_keys(phones, emails, ''::text))"
    )
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS company_ogrn_idx ON companies_company (ogrn) WHERE ogrn <> ''"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS company_contact_keys")
    schema_editor.execute("DROP INDEX IF EXISTS contact_contact_keys")
    schema_editor.execute("DROP INDEX IF EXISTS company_ogrn_idx")
    schema_editor.execute("DROP FUNCTION IF EXISTS kurator_contact_keys(jsonb, jsonb, text)")


class Migration(migrations.Migration):
    dependencies = [("inquiries", "0002_defaults"), ("companies", "0004_merged_into")]

    operations = [migrations.RunPython(create, drop)]
