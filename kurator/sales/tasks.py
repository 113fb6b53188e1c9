"""Background work of the pipeline (runs in-process without Redis, on a Celery worker with it)."""

from __future__ import annotations

from celery import shared_task

from kurator.sales.reports import recompute_passed


@shared_task(name="kurator.sales.recompute_passed")
def recompute_pipeline_passed(pipeline_id: int) -> None:
    """After the head of sales reorders a pipeline's stages or changes a stage's kind, which stays count as
    passed for the funnel follows the new order (seconds at hundreds of thousands of deals: not in the
    request)."""
    recompute_passed(pipeline_id=pipeline_id)
