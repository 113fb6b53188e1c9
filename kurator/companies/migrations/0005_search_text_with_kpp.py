"""The search text now holds the KPP too: recompute it for the companies already in the base."""

from django.db import migrations

BATCH = 1000


def recompute_search_text(apps, schema_editor):
    # The services' own function, so that old rows read exactly like new ones; it only reads attributes,
    # which the historical models here have.
    from kurator.companies.dossier import build_search_text

    Company = apps.get_model("companies", "Company")
    Contact = apps.get_model("companies", "Contact")
    last_id = 0
    while True:
        companies = list(Company.objects.filter(id__gt=last_id).order_by("id")[:BATCH])
        if not companies:
            break
        last_id = companies[-1].id
        people: dict[int, list] = {}
        for contact in Contact.objects.filter(company_id__in=[c.id for c in companies]).order_by("id"):
            people.setdefault(contact.company_id, []).append(contact)
        changed = []
        for company in companies:
            text = build_search_text(company, people.get(company.id, []))
            if text != company.search_text:
                company.search_text = text
                changed.append(company)
        Company.objects.bulk_update(changed, ["search_text"], batch_size=BATCH)


class Migration(migrations.Migration):
    dependencies = [("companies", "0004_merged_into")]

    operations = [migrations.RunPython(recompute_search_text, migrations.RunPython.noop, elidable=True)]
