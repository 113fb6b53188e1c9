"""Starting values: response standards per channel (R1) and the public mail services (never a match reason)."""

from django.db import migrations

STANDARDS = {"phone": 15, "email": 60, "web_form": 30, "exhibition": 1440, "recommendation": 240, "other": 240}
PUBLIC_DOMAINS = [
    "mail.ru", "bk.ru", "list.ru", "inbox.ru", "internet.ru", "yandex.ru", "ya.ru", "yandex.com", "narod.ru",
    "rambler.ru", "lenta.ru", "autorambler.ru", "myrambler.ru", "ro.ru", "gmail.com", "googlemail.com",
    "outlook.com", "hotmail.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com", "yahoo.com",
    "aol.com", "proton.me", "protonmail.com", "mail.com", "gmx.com", "zoho.com", "qip.ru", "pochta.ru",
]


def seed(apps, schema_editor):
    standard = apps.get_model("inquiries", "ResponseStandard")
    for channel, minutes in STANDARDS.items():
        standard.objects.get_or_create(channel=channel, defaults={"minutes": minutes})
    domain = apps.get_model("inquiries", "PublicMailDomain")
    for name in PUBLIC_DOMAINS:
        domain.objects.get_or_create(domain=name)


class Migration(migrations.Migration):
    dependencies = [("inquiries", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
