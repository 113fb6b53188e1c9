from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.defaults import page_not_found

from kurator.access.decorators import require
from kurator.access.policy import AUTHENTICATED, PUBLIC


@require(AUTHENTICATED)
def home(request: HttpRequest) -> HttpResponse:
    return redirect("companies:list")


@require(PUBLIC)
def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 for an address that matches no route. Under /api/ it is JSON like every other API answer (an id
    the router's pattern refuses, such as ``1.5``, never reaches a view); elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": gettext("Not found.")}, status=404)
    return page_not_found(request, exception or Http404())
