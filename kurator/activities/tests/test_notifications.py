"""Notifications UI and API: the navbar count, the list, opening and marking read, own notifications only."""

from __future__ import annotations

from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kurator.accounts.tests.factories import api_token_key
from kurator.activities.models import Notification

pytestmark = pytest.mark.django_db


def login(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def make(user, n: int = 1, **fields) -> list[Notification]:
    # Direct rows: services.notify delivers on commit, which the test transaction never reaches.
    return [
        Notification.objects.create(
            recipient=user, kind="test", text=fields.get("text", f"Notice {i}"), url=fields.get("url", "")
        )
        for i in range(n)
    ]


def badge(response) -> str | None:
    html = response.content.decode()
    marker = 'data-testid="unread-notifications">'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split("<", 1)[0]


def test_navbar_shows_the_unread_count_of_the_user_only(manager, other_manager):
    """R2: the bell counts the signed-in user's unread notifications, not a colleague's."""
    make(manager, 3)
    make(other_manager, 5)
    response = login(manager).get(reverse("notifications:list"))
    assert response.status_code == 200
    assert badge(response) == "3"
    read = make(manager)[0]
    read.read_at = read.created_at
    read.save()
    assert badge(login(manager).get(reverse("notifications:list"))) == "3"


def test_navbar_has_no_badge_without_unread(manager):
    """R2: no unread notifications, no red badge."""
    assert badge(login(manager).get(reverse("notifications:list"))) is None


def test_unread_count_costs_one_query_per_page(manager):
    """R2: the bell and the page header share one counting query per request."""
    make(manager, 2)
    client = login(manager)
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("notifications:list"))
    counts = [
        q["sql"]
        for q in ctx.captured_queries
        if "activities_notification" in q["sql"] and "COUNT" in q["sql"]
    ]
    # One for the badge, one for the paginator's total.
    assert len(counts) == 2


def test_list_shows_own_notifications_newest_first(manager, other_manager):
    """R2: the list page shows only the user's notifications, newest first."""
    make(manager, text="Older")
    make(manager, text="Newer")
    make(other_manager, text="Someone else's")
    text = unescape(login(manager).get(reverse("notifications:list")).content.decode())
    assert text.index("Newer") < text.index("Older")
    assert "Someone else's" not in text


def test_list_pages_run_a_constant_number_of_queries(manager):
    """R2: the list costs the same number of queries for 3 or 30 notifications."""
    client = login(manager)
    make(manager, 3)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("notifications:list"))
    make(manager, 27)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("notifications:list"))
    assert len(few) == len(many)


def test_unread_filter(manager):
    """R2: ?unread=1 keeps only unread notifications."""
    unread, read = make(manager, 2)
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    Notification.objects.filter(pk=unread.pk).update(text="Still unread")
    Notification.objects.filter(pk=read.pk).update(text="Already read")
    text = login(manager).get(reverse("notifications:list") + "?unread=1").content.decode()
    assert "Still unread" in text and "Already read" not in text


def test_opening_a_notification_marks_it_read_and_follows_its_link(manager):
    """R2: clicking a notification marks it read and goes where it points."""
    notification = make(manager, url="/companies/")[0]
    response = login(manager).get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302 and response["Location"] == "/companies/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_opening_never_redirects_outside_kurator(manager):
    """R2: a notification's link is followed only inside Kurator (no open redirect)."""
    notification = make(manager, url="https://evil.example/phish")[0]
    response = login(manager).get(reverse("notifications:open", args=[notification.pk]))
    assert response["Location"] == reverse("notifications:list")


def test_a_colleagues_notification_cannot_be_opened_or_marked(manager, other_manager):
    """R2: another user's notification is 404 to open and untouched by mark-read."""
    theirs = make(other_manager)[0]
    client = login(manager)
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404
    client.post(reverse("notifications:mark_read"), {"id": theirs.pk})
    client.post(reverse("notifications:mark_read"))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_one_and_mark_all_read(manager):
    """R2: one notification, then all of them, can be marked read."""
    first, _second, _third = make(manager, 3)
    client = login(manager)
    response = client.post(reverse("notifications:mark_read"), {"id": first.pk})
    assert response.status_code == 302
    assert Notification.objects.filter(recipient=manager, read_at__isnull=True).count() == 2
    client.post(reverse("notifications:mark_read"))
    assert Notification.objects.filter(recipient=manager, read_at__isnull=True).count() == 0


def test_mark_read_needs_post_and_login(manager):
    """R4: marking read is a POST by a signed-in user."""
    make(manager)
    assert login(manager).get(reverse("notifications:mark_read")).status_code == 405
    anonymous = Client().post(reverse("notifications:mark_read"))
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert Notification.objects.filter(read_at__isnull=False).count() == 0


def test_mark_read_with_a_bad_id_is_404_and_changes_nothing(manager):
    """R4: a malformed id is refused without writing."""
    make(manager)
    assert login(manager).post(reverse("notifications:mark_read"), {"id": "abc"}).status_code == 404
    assert Notification.objects.filter(read_at__isnull=False).count() == 0


def test_every_role_sees_the_notifications_page(users_by_role):
    """R4: every member has a notifications page."""
    for user in users_by_role.values():
        assert login(user).get(reverse("notifications:list")).status_code == 200


# API -----------------------------------------------------------------------------------------------------


def api(user) -> Client:
    return Client(headers={"Authorization": f"Token {api_token_key(user)}", "Accept-Language": "en"})


def test_api_lists_own_notifications(manager, other_manager):
    """R2: GET /api/v1/notifications/ lists the caller's notifications, paginated."""
    make(manager, 2)
    make(other_manager, 4)
    body = api(manager).get("/api/v1/notifications/").json()
    assert body["count"] == 2
    assert set(body["results"][0]) == {"id", "kind", "text", "url", "created_at", "read_at", "is_read"}


def test_api_unread_filter(manager):
    """R2: ?unread=1 lists only unread notifications."""
    first, _second = make(manager, 2)
    Notification.objects.filter(pk=first.pk).update(read_at=first.created_at)
    assert api(manager).get("/api/v1/notifications/?unread=1").json()["count"] == 1


def test_api_marks_given_or_all_read(manager, other_manager):
    """R2: POST /api/v1/notifications/read/ marks the given ids, or all; never a colleague's."""
    first, _second, _third = make(manager, 3)
    theirs = make(other_manager)[0]
    client = api(manager)
    response = client.post(
        "/api/v1/notifications/read/", {"ids": [first.pk, theirs.pk]}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 2}
    assert client.post("/api/v1/notifications/read/", {}, content_type="application/json").json() == {
        "marked": 2,
        "unread": 0,
    }
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_api_refuses_bad_ids_and_anonymous(manager):
    """R4: malformed ids are 400; without a login 401/403; nothing is marked."""
    make(manager)
    response = api(manager).post(
        "/api/v1/notifications/read/", {"ids": ["x"]}, content_type="application/json"
    )
    assert response.status_code == 400
    assert Client().get("/api/v1/notifications/").status_code in {401, 403}
    assert Notification.objects.filter(read_at__isnull=False).count() == 0


def test_an_inquiry_given_to_a_curator_rings_their_bell(manager, django_capture_on_commit_callbacks):
    """R2: an inquiry from the curator's client shows in their bell and list, and opens the inquiry."""
    from kurator.inquiries import services as inquiry_services
    from tests.factories import company_factory

    company = company_factory(actor=manager, full_name="ООО «Колокольчик»", phones=["+7 916 222-33-44"])
    with django_capture_on_commit_callbacks(execute=True):
        inquiry = inquiry_services.inquiry_create(actor=None, channel="phone", phone="+7 916 222-33-44")
    assert inquiry.company == company
    client = login(manager)
    response = client.get(reverse("notifications:list"))
    assert badge(response) == "1" and "Колокольчик" in unescape(response.content.decode())
    notification = Notification.objects.get(recipient=manager)
    opened = client.get(reverse("notifications:open", args=[notification.pk]))
    assert opened["Location"] == reverse("inquiries:detail", args=[inquiry.pk])
    assert badge(client.get(reverse("notifications:list"))) is None
