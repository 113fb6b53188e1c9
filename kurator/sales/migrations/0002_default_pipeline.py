"""The default pipeline with sensible standards already set (S3, R1), and the reasons deals are lost."""

from django.db import migrations

PIPELINE = "Основная воронка"
# code, name, kind, probability, longest stay in days, entry standard
STAGES = [
    ("acquaintance", "Знакомство", "open", 10, 14, {}),
    ("negotiations", "Переговоры", "open", 30, 30, {"required_fields": ["amount"]}),
    (
        "contract",
        "Договор",
        "open",
        60,
        14,
        {"required_activity_kinds": ["meeting", "negotiation"], "activity_with_decision_maker": True},
    ),
    ("payment", "Оплата", "open", 90, 10, {"requires_signed_contract": True}),
    ("won", "Сделка выиграна", "won", 100, None, {}),
    ("lost", "Сделка проиграна", "lost", 0, None, {}),
]
LOST_REASONS = [
    "Цена выше, чем у конкурентов",
    "Выбрали другого поставщика",
    "Нет бюджета",
    "Потребность отпала",
    "Не вышли на лицо, принимающее решение",
    "Другое",
]


def seed(apps, schema_editor):
    pipeline_model = apps.get_model("sales", "Pipeline")
    stage_model = apps.get_model("sales", "Stage")
    if not pipeline_model.objects.filter(is_default=True).exists():
        pipeline = pipeline_model.objects.create(name=PIPELINE, is_default=True, position=0)
        for order, (code, name, kind, probability, max_days, standard) in enumerate(STAGES, start=1):
            stage_model.objects.create(
                pipeline=pipeline,
                code=code,
                name=name,
                kind=kind,
                order=order,
                probability=probability,
                max_days=max_days,
                **standard,
            )
    reason_model = apps.get_model("sales", "LostReason")
    for position, name in enumerate(LOST_REASONS, start=1):
        reason_model.objects.get_or_create(name=name, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("sales", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
