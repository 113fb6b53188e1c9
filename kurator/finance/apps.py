from django.apps import AppConfig
from django.utils.translation import pgettext_lazy


class FinanceConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "kurator.finance"
    verbose_name = pgettext_lazy("section", "Finance")
