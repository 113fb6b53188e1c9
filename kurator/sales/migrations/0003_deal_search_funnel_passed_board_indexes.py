"""The deal list's folded search text (with a trigram index on PostgreSQL), the funnel's "passed" flag on each
stage visit, and covering indexes for the board and the funnel. Both backfills are set-based (one UPDATE each
on PostgreSQL)."""

from django.conf import settings
from django.db import migrations, models

# Whether a stay was followed (at or after its entry) by an entry into a further open or won stage of the
# same pipeline: what the funnel's correlated EXISTS computed on every read before.
PASSED_SQL = """
UPDATE sales_stagevisit SET passed = %s WHERE EXISTS (
    SELECT 1 FROM sales_stagevisit later
    JOIN sales_stage later_stage ON later_stage.id = later.stage_id
    JOIN sales_stage this_stage ON this_stage.id = sales_stagevisit.stage_id
    WHERE later.deal_id = sales_stagevisit.deal_id
      AND later_stage.pipeline_id = this_stage.pipeline_id
      AND later_stage.kind IN ('open', 'won')
      AND later_stage."order" > this_stage."order"
      AND later.entered_at >= sales_stagevisit.entered_at
)
"""


def backfill_passed(apps, schema_editor):
    schema_editor.execute(PASSED_SQL, [True])


def backfill_search_text(apps, schema_editor):
    # The services write kurator.core.text.fold(title + client's short name + INN); PostgreSQL's lower() folds
    # Cyrillic as casefold() does, SQLite's does not, so there the rows are folded in Python (small bases).
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            """
            UPDATE sales_deal d SET search_text = btrim(regexp_replace(
                replace(lower(d.title || ' ' || c.short_name || ' ' || c.inn), 'ё', 'е'), '\\s+', ' ', 'g'))
            FROM companies_company c WHERE c.id = d.company_id
            """
        )
        return
    from kurator.core.text import fold

    Deal = apps.get_model("sales", "Deal")
    batch = []
    for deal in Deal.objects.select_related("company").only("title", "company__short_name", "company__inn"):
        deal.search_text = fold(f"{deal.title} {deal.company.short_name} {deal.company.inn}")
        batch.append(deal)
        if len(batch) >= 1000:
            Deal.objects.bulk_update(batch, ["search_text"])
            batch = []
    Deal.objects.bulk_update(batch, ["search_text"])


def create_trigram_index(apps, schema_editor):
    # As for companies (companies 0002): SQLite scans the folded column with LIKE, fine at its sizes.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS deal_search_trgm ON sales_deal USING gin (search_text gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS deal_search_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("companies", "0005_search_text_with_kpp"),
        ("inquiries", "0003_matching_indexes"),
        ("sales", "0002_default_pipeline"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="deal",
            name="deal_board_idx",
        ),
        migrations.RemoveIndex(
            model_name="deal",
            name="deal_owner_stage_idx",
        ),
        migrations.RemoveIndex(
            model_name="stagevisit",
            name="stage_visit_funnel_idx",
        ),
        migrations.AddField(
            model_name="deal",
            name="search_text",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AddField(
            model_name="stagevisit",
            name="passed",
            field=models.BooleanField(default=False, editable=False, verbose_name="passed on"),
        ),
        migrations.RunPython(backfill_passed, migrations.RunPython.noop),
        migrations.RunPython(backfill_search_text, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["pipeline", "stage", "-stage_entered_at"],
                include=("amount", "owner"),
                name="deal_board_cover_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["owner", "pipeline", "stage", "-stage_entered_at"],
                include=("amount",),
                name="deal_owner_board_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="stagevisit",
            index=models.Index(
                fields=["entered_at"],
                include=("stage", "deal", "left_at", "passed"),
                name="stage_visit_funnel_cover_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="deal",
            index=models.Index(
                fields=["pipeline", "closed_at"],
                include=("stage", "owner", "source"),
                name="deal_closed_cover_idx",
            ),
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
    ]
