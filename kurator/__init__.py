# Load the Celery app with Django, so that @shared_task uses its settings (eager without Redis) in every
# process: the web server, management commands and tests, not only the worker.
from kurator.celery import app as celery_app

__all__ = ("celery_app",)
