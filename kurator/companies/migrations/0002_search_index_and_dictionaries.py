"""Trigram index for dossier search on PostgreSQL, and the book's dictionaries as starting values."""

from django.db import migrations

SOURCES = [
    ("Средства массовой информации", False),
    ("Интернет", False),
    ("Периодические издания", False),
    ("Слухи (сарафанное радио)", False),
    ("Рекомендации лояльных клиентов", True),
    ("Выставки", False),
]
TECHNOLOGIES = ["Прямые продажи", "Дилерская сеть", "Тендер", "Интернет-продажи", "Сетевые продажи"]
DELIVERY = ["Самовывоз", "Доставка нашим транспортом", "Транспортная компания", "Курьерская доставка"]
SPHERES = ["Производство", "Строительство", "Розничная торговля", "Оптовая торговля", "Транспорт и логистика",
           "Государственный сектор", "Сельское хозяйство", "IT и связь"]
CATEGORIES = ["Оборудование", "Комплектующие", "Расходные материалы", "Сервисное обслуживание",
              "Программное обеспечение", "Обучение"]


def seed(apps, schema_editor):
    for position, (name, recommendation) in enumerate(SOURCES):
        apps.get_model("companies", "ContactSource").objects.get_or_create(
            name=name, parent=None, defaults={"position": position, "is_recommendation": recommendation}
        )
    for model, names in (
        ("SalesTechnology", TECHNOLOGIES), ("DeliveryMethod", DELIVERY), ("ApplicationSphere", SPHERES),
        ("ProductCategory", CATEGORIES),
    ):
        for position, name in enumerate(names):
            apps.get_model("companies", model).objects.get_or_create(name=name, defaults={"position": position})


def create_trigram_index(apps, schema_editor):
    # SQLite has no trigram index; there a LIKE over the folded column scans, which is fine at demo sizes.
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS company_search_trgm ON companies_company "
        "USING gin (search_text gin_trgm_ops)"
    )


def drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS company_search_trgm")


class Migration(migrations.Migration):
    dependencies = [("companies", "0001_initial")]

    operations = [
        migrations.RunPython(create_trigram_index, drop_trigram_index),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
