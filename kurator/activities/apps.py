from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "kurator.activities"
    label = "activities"
    verbose_name = _("Activities and notifications")

    def ready(self) -> None:
        # Without Redis the web server itself runs the periodic reminder jobs (make run); see scheduler.py.
        from kurator.activities import scheduler

        scheduler.start_if_serving()
