from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

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
