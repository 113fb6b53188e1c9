"""R4, D12: revocable API tokens.

``POST /api/v1/auth/token/`` makes a new token each time (``{"token": key}``); only the key's SHA-256 and a
short prefix are stored. ``Authorization: Token <key>`` opens the API until the token is revoked or expires,
or its user is deactivated (then 401). Owners list and revoke their tokens (API and the «API tokens» page);
the head of sales and the administrator see and revoke everyone's. Creation and revocation are audited.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kurator.access.models import AuditAction, AuditEvent
from kurator.accounts.models import ApiToken
from kurator.accounts.tests.factories import api_token_key
from kurator.accounts.tokens import api_token_create, api_token_revoke, api_tokens_revoke_all, hash_key
from kurator.core.errors import AccessDenied
from tests.e2e.helpers import PASSWORD

pytestmark = pytest.mark.django_db


def issue(username: str, name: str | None = None) -> str:
    data = {"username": username, "password": PASSWORD}
    if name is not None:
        data["name"] = name
    response = APIClient().post("/api/v1/auth/token/", data, format="json")
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"token"}
    return str(response.json()["token"])


def api(key: str | None) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def snapshot() -> list[tuple]:
    return list(ApiToken.objects.order_by("pk").values_list("pk", "revoked_at", "revoked_by"))


# Issuing ------------------------------------------------------------------------------------------------


def test_every_sign_in_through_the_api_makes_a_new_working_token(manager):
    """R4: two calls, two tokens, both working; the optional name is kept."""
    first = issue("manager", name="1C exchange")
    second = issue("manager")
    assert first != second
    for key in (first, second):
        assert api(key).get("/api/v1/users/me/").json()["username"] == "manager"
    names = list(ApiToken.objects.order_by("pk").values_list("name", flat=True))
    assert names == ["1C exchange", ""]


def test_only_the_hash_and_a_prefix_of_the_key_are_stored(manager):
    """D12: a copy of the database gives nobody a working key."""
    key = issue("manager")
    token = ApiToken.objects.get()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(token.prefix) and len(token.prefix) == 12 and len(key) > 40
    stored = " ".join(str(v) for v in ApiToken.objects.values_list().get())
    assert key not in stored


def test_issuing_is_audited(manager):
    """D12: TOKEN_CREATED names the user and the token (never the key)."""
    key = issue("manager", name="Website")
    event = AuditEvent.objects.get(action=AuditAction.TOKEN_CREATED)
    token = ApiToken.objects.get()
    assert (event.user, event.object_type, event.object_id, event.allowed) == (
        manager,
        "apitoken",
        token.pk,
        True,
    )
    assert key not in event.detail and token.prefix in event.detail


# Authentication -----------------------------------------------------------------------------------------


def test_revoked_expired_and_unknown_tokens_are_401(manager):
    """R4: a revoked or expired token, or a made-up one, is refused with 401 (and the scheme named)."""
    revoked, expired, live = issue("manager"), issue("manager"), issue("manager")
    api_token_revoke(actor=manager, token=ApiToken.objects.get(key_hash=hash_key(revoked)))
    ApiToken.objects.filter(key_hash=hash_key(expired)).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    for key, words in ((revoked, "revoked"), (expired, "expired"), ("krt_made-up", "Invalid token")):
        response = api(key).get("/api/v1/users/me/")
        assert response.status_code == 401, key
        assert words in response.json()["detail"]
        assert response["WWW-Authenticate"] == "Token"
    assert api(live).get("/api/v1/users/me/").status_code == 200


def test_a_token_with_a_future_expiry_works_until_then(manager):
    """R4: expires_at is the end of a token's life, not its start."""
    _token, key = api_token_create(
        actor=manager, name="Until Friday", expires_at=timezone.now() + timedelta(days=3)
    )
    assert api(key).get("/api/v1/users/me/").status_code == 200


def test_a_deactivated_users_tokens_stop_working(manager):
    """R4: deactivation closes the API at once, whatever tokens the person made."""
    key = issue("manager")
    manager.is_active = False
    manager.save(update_fields=["is_active"])
    response = api(key).get("/api/v1/users/me/")
    assert response.status_code == 401
    assert "inactive" in response.json()["detail"]


def test_last_use_is_written_at_most_once_a_minute(manager):
    """R4: the list shows when a token was last used; a busy integration does not write on every call."""
    key = api_token_key(manager, in_use=False)
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    api(key).get("/api/v1/users/me/")
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    with CaptureQueriesContext(connection) as ctx:
        api(key).get("/api/v1/users/me/")
    assert not [q for q in ctx.captured_queries if q["sql"].upper().startswith("UPDATE")]
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    api(key).get("/api/v1/users/me/")
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(seconds=1)


# Listing and revoking through the API ---------------------------------------------------------------------


def test_a_user_lists_own_tokens_without_keys(manager, other_manager):
    """R4: GET /api/v1/auth/tokens/ lists the caller's tokens only, never a key."""
    mine = issue("manager", name="Mine")
    issue("other", name="Theirs")
    response = api(mine).get("/api/v1/auth/tokens/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [row["name"] for row in rows] == ["Mine"]
    assert set(rows[0]) == {
        "id", "user", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at",
        "revoked_by", "status",
    }  # fmt: skip
    assert rows[0]["status"] == "active" and rows[0]["user"] == manager.pk
    assert mine not in response.content.decode()


def test_the_head_of_sales_lists_anyones_tokens_and_a_manager_cannot(manager, other_manager, head):
    """R4: ?user=<id> shows that person's tokens to the head of sales; to anyone else, nothing."""
    issue("manager", name="Mine")
    head_key, other_key = api_token_key(head), api_token_key(other_manager)
    rows = api(head_key).get("/api/v1/auth/tokens/", {"user": manager.pk}).json()["results"]
    assert [row["name"] for row in rows] == ["Mine"]
    assert api(other_key).get("/api/v1/auth/tokens/", {"user": manager.pk}).json()["results"] == []
    assert api(other_key).get("/api/v1/auth/tokens/", {"user": "x"}).status_code == 400


def test_anonymous_gets_401(db):
    """R4: the token list needs authentication."""
    assert api(None).get("/api/v1/auth/tokens/").status_code == 401


def test_an_owner_revokes_a_token_and_it_stops_working_at_once(manager):
    """R4: POST …/revoke/ answers the revoked token; the key is refused from then on; audited."""
    key, spare = issue("manager"), issue("manager")
    token = ApiToken.objects.get(key_hash=hash_key(key))
    response = api(spare).post(f"/api/v1/auth/tokens/{token.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked" and response.json()["revoked_by"] == manager.pk
    assert api(key).get("/api/v1/users/me/").status_code == 401
    assert api(spare).get("/api/v1/users/me/").status_code == 200
    event = AuditEvent.objects.get(action=AuditAction.TOKEN_REVOKED)
    assert (event.user, event.object_id) == (manager, token.pk)
    again = api(spare).post(f"/api/v1/auth/tokens/{token.pk}/revoke/")  # revoking twice changes nothing
    assert again.status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKED).count() == 1


def test_a_colleague_cannot_see_or_revoke_someone_elses_token(manager, other_manager):
    """R4: another manager's token is 404 to read or revoke; nothing changes."""
    issue("manager")
    token = ApiToken.objects.get()
    other = api(api_token_key(other_manager))
    before = snapshot()
    assert other.get(f"/api/v1/auth/tokens/{token.pk}/").status_code == 404
    assert other.post(f"/api/v1/auth/tokens/{token.pk}/revoke/").status_code == 404
    assert snapshot() == before
    assert not AuditEvent.objects.filter(action=AuditAction.TOKEN_REVOKED).exists()


@pytest.mark.parametrize("role", ["head", "admin_user"])
def test_the_head_of_sales_and_the_administrator_revoke_anyones_token(request, role, manager):
    """R4: they see and revoke any token (a leaked key, a person leaving)."""
    boss = request.getfixturevalue(role)
    key = issue("manager")
    token = ApiToken.objects.get(key_hash=hash_key(key))
    response = api(api_token_key(boss)).post(f"/api/v1/auth/tokens/{token.pk}/revoke/")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.revoked_by == boss
    assert api(key).get("/api/v1/users/me/").status_code == 401


def test_revoke_all_of_a_user(manager, head):
    """R4: every live token of a person who leaves is revoked in one step (the users pages call it)."""
    for _ in range(3):
        issue("manager")
    api_token_revoke(actor=manager, token=ApiToken.objects.first())  # type: ignore[arg-type]
    assert api_tokens_revoke_all(actor=head, user=manager) == 2
    assert not ApiToken.objects.live().exists()
    api_token_key(head)
    with pytest.raises(AccessDenied):  # a manager cannot revoke the head of sales' tokens
        api_tokens_revoke_all(actor=manager, user=head)
    assert ApiToken.objects.live().filter(user=head).count() == 1


def test_the_token_list_costs_the_same_queries_for_3_and_30_tokens(manager):
    """ARCHITECTURE.md convention 2: the API list runs a constant number of queries."""
    client = api(api_token_key(manager))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/auth/tokens/", {"page_size": 50}).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        api_token_key(manager)
    few = count()
    for _ in range(27):
        api_token_key(manager)
    assert count() == few


# The «API tokens» page ------------------------------------------------------------------------------------


def page_client(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_the_page_needs_a_login(db):
    """R4: anonymous visitors go to the login page."""
    response = Client().get(reverse("api_tokens"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_creates_a_token_and_shows_its_key_once(manager):
    """R4: the new key is on the answer to the form and nowhere after; the token is listed by name and
    prefix; the key works."""
    client = page_client(manager)
    response = client.post(reverse("api_tokens"), {"name": "Report script", "expires_on": ""})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    key = re.search(r'<input id="new-token-key"[^>]*value="([^"]+)"', html)
    assert key, html
    key_text = key.group(1)
    token = ApiToken.objects.get()
    assert token.name == "Report script" and token.key_hash == hash_key(key_text)
    assert api(key_text).get("/api/v1/users/me/").status_code == 200
    again = client.get(reverse("api_tokens")).content.decode()
    assert key_text not in again and token.prefix in again and "Report script" in again


def test_the_page_sets_an_expiry_day_inclusive(manager):
    """R4: «valid until» a day: the token works through that day."""
    day = timezone.localdate() + timedelta(days=10)
    page_client(manager).post(reverse("api_tokens"), {"name": "Audit", "expires_on": day.isoformat()})
    expires = timezone.localtime(ApiToken.objects.get().expires_at)
    assert expires.date() == day and (expires.hour, expires.minute) == (23, 59)


def test_the_page_refuses_a_missing_name_or_a_past_day_and_writes_nothing(manager):
    """R4: errors name the field; nothing is created."""
    client = page_client(manager)
    response = client.post(reverse("api_tokens"), {"name": "", "expires_on": ""})
    assert response.status_code == 400 and "This field is required" in response.content.decode()
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post(reverse("api_tokens"), {"name": "Old", "expires_on": yesterday.isoformat()})
    assert response.status_code == 400 and "must be in the future" in response.content.decode()
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.exists()


def test_the_page_revokes_own_token(manager):
    """R4: the Revoke button revokes at once and says so."""
    key = issue("manager", name="Old script")
    token = ApiToken.objects.get()
    client = page_client(manager)
    response = client.post(reverse("api_token_revoke", args=[token.pk]), follow=True)
    assert response.status_code == 200 and "is revoked" in response.content.decode()
    assert api(key).get("/api/v1/users/me/").status_code == 401


def test_the_page_hides_and_refuses_other_peoples_tokens_to_a_manager(manager, other_manager):
    """R4: a manager sees only their own tokens; revoking a colleague's is 404 and changes nothing."""
    issue("other", name="Colleague's")
    token = ApiToken.objects.get()
    client = page_client(manager)
    html = client.get(reverse("api_tokens")).content.decode()
    assert "Colleague's" not in html and 'data-testid="others-tokens"' not in html
    before = snapshot()
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 404
    assert snapshot() == before
    assert client.get(reverse("api_token_revoke", args=[token.pk])).status_code == 405


def test_the_head_of_sales_sees_and_revokes_the_departments_tokens(manager, head):
    """R4: the head of sales' page lists everyone else's tokens with their owner, and revokes them."""
    key = issue("manager", name="Sales script")
    token = ApiToken.objects.get()
    client = page_client(head)
    html = client.get(reverse("api_tokens")).content.decode()
    assert 'data-testid="others-tokens"' in html and "Sales script" in html and manager.full_name in html
    client.post(reverse("api_token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_by == head
    assert api(key).get("/api/v1/users/me/").status_code == 401


def test_the_page_costs_the_same_queries_for_few_and_many_tokens(manager, head, other_manager):
    """ARCHITECTURE.md convention 2: the page's queries do not grow with the number of tokens."""
    client = page_client(head)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("api_tokens")).status_code == 200
        return len(ctx.captured_queries)

    api_token_key(head)
    api_token_key(manager)
    few = count()
    for user in (head, manager, other_manager) * 8:
        token = ApiToken.objects.get(key_hash=hash_key(api_token_key(user)))
        api_token_revoke(actor=head, token=token)
    assert count() == few


def test_the_user_menu_links_to_the_page(manager):
    """R4: «API tokens» is in every signed-in user's menu."""
    html = page_client(manager).get(reverse("companies:list")).content.decode()
    assert f'href="{reverse("api_tokens")}"' in html
