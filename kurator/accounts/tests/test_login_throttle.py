"""R4, D12: sign-in throttling with lock-out, on the login page and on ``POST /api/v1/auth/token/``.

Five failures for one username (any letter case) within fifteen minutes lock it for fifteen minutes: further
attempts are refused without the password being checked, with the time the lock ends; twenty failures from
one address lock the address. A success resets the username's counter; the head of sales, the administrator
or ``manage.py unlock_user`` lift a lock early. Every failure and every lock-out is in the audit log.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from kurator.access.models import AuditAction, AuditEvent
from kurator.accounts import throttle
from kurator.accounts.models import ApiToken, SignInFailure, SignInLock
from kurator.accounts.throttle import locked_usernames, login_locked_until, login_unlock, login_unlock_ip
from kurator.core.errors import AccessDenied
from tests.e2e.helpers import PASSWORD

pytestmark = pytest.mark.django_db

LOCK_MESSAGE = "Too many failed sign-in attempts. Sign-in to this account is locked until"
IP_LOCK_MESSAGE = "Too many failed sign-in attempts from your network address."


def sign_in(username: str, password: str, ip: str = "10.0.0.1") -> tuple[int, str, Client]:
    client = Client(REMOTE_ADDR=ip, headers={"Accept-Language": "en"})
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code, response.content.decode(), client


def api_sign_in(username: str, password: str, ip: str = "10.0.0.1") -> tuple[int, dict, dict]:
    response = APIClient(REMOTE_ADDR=ip).post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )  # fmt: skip
    return response.status_code, response.json(), dict(response.headers)


def fail(username: str, times: int, ip: str = "10.0.0.1") -> None:
    for _ in range(times):
        status, _html, _client = sign_in(username, "wrong-password", ip)
        assert status == 200


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def password_checks(monkeypatch):
    """How many times a password was really checked (Django's authenticate)."""
    calls: list[str] = []
    real = throttle.authenticate

    def counting(request, **credentials):
        calls.append(credentials["username"])
        return real(request, **credentials)

    monkeypatch.setattr(throttle, "authenticate", counting)
    return calls


def test_four_failures_then_the_right_password_signs_in_and_resets_the_counter(manager):
    """R4: fewer failures than the limit change nothing for the person; a success clears the counter."""
    fail("manager", 4)
    status, _html, client = sign_in("manager", PASSWORD)
    assert status == 302 and signed_in(client)
    assert not SignInFailure.objects.filter(username="manager").exists()
    fail("manager", 4)  # four more are allowed again
    assert sign_in("manager", PASSWORD)[0] == 302


def test_the_fifth_failure_locks_the_username_and_says_until_when(manager, password_checks):
    """R4: the fifth failure answers with the lock-out and the local time it ends; then even the right
    password is refused without being checked."""
    fail("manager", 4)
    before = timezone.now()
    status, html, _client = sign_in("manager", "wrong-password")
    assert status == 200
    assert LOCK_MESSAGE in html
    until = timezone.localtime(SignInLock.objects.get().locked_until)
    assert until.strftime("%H:%M") in html
    assert timedelta(minutes=14) < until - before <= timedelta(minutes=15, seconds=5)
    assert "head of sales or the administrator" in html

    checked = len(password_checks)
    status, html, client = sign_in("manager", PASSWORD)
    assert status == 200 and not signed_in(client)
    assert LOCK_MESSAGE in html
    assert len(password_checks) == checked  # the password was not looked at
    assert login_locked_until("MANAGER") == SignInLock.objects.get().locked_until


def test_the_lock_out_message_is_in_the_users_language(manager):
    """R4: the message is translated like the rest of the page (Russian by default)."""
    fail("manager", 5)
    with translation.override("en"):
        english = str(throttle.active_lockout(username="manager").message)  # type: ignore[union-attr]
    with translation.override("ru"):
        russian = str(throttle.active_lockout(username="manager").message)  # type: ignore[union-attr]
    assert english.startswith(LOCK_MESSAGE)
    time = timezone.localtime(SignInLock.objects.get().locked_until).strftime("%H:%M")
    assert time in english and time in russian


def test_letter_case_does_not_give_more_tries(manager):
    """R4: «Manager», «MANAGER» and «manager» are one account's counter."""
    for username in ("Manager", "MANAGER", "manager", "mAnAgEr", "MANAGER"):
        sign_in(username, "wrong-password")
    _status, html, client = sign_in("manager", PASSWORD)
    assert LOCK_MESSAGE in html and not signed_in(client)


def test_failures_and_the_lock_out_are_in_the_audit_log(manager):
    """D12: each failure is logged with the typed username, the address and the rule; so is the lock-out and
    each attempt refused while it holds. None is attributed to a signed-in user."""
    fail("Manager", 5, ip="192.0.2.7")
    sign_in("manager", PASSWORD, ip="192.0.2.7")
    events = list(
        AuditEvent.objects.order_by("id").values_list("action", "allowed", "rule", "username", "ip")
    )
    assert events[:5] == [(AuditAction.LOGIN_FAILED, False, "bad_password", "Manager", "192.0.2.7")] * 5
    assert events[5] == (AuditAction.LOCKOUT, False, "locked_out", "Manager", "192.0.2.7")
    assert events[6] == (AuditAction.LOGIN_FAILED, False, "locked_out", "manager", "192.0.2.7")
    assert len(events) == 7
    assert not AuditEvent.objects.filter(user__isnull=False).exists()


def test_an_unknown_username_is_throttled_and_logged_like_a_known_one(db):
    """R4: a guesser learns nothing from the answers: an unknown name fails and locks the same way."""
    fail("nobody", 5)
    assert LOCK_MESSAGE in sign_in("nobody", "whatever")[1]
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, username="nobody").count() == 6


def test_the_lock_ends_after_the_period(manager, settings):
    """R4: after KURATOR_LOGIN_LOCKOUT_MINUTES the username signs in again."""
    fail("manager", 5)
    past = timezone.now() - timedelta(minutes=16)
    SignInLock.objects.update(locked_at=past, locked_until=past + timedelta(minutes=15))
    SignInFailure.objects.update(at=past)
    status, _html, client = sign_in("manager", PASSWORD)
    assert status == 302 and signed_in(client)


def test_failures_older_than_the_window_do_not_count(manager):
    """R4: five failures spread over more than fifteen minutes lock nothing."""
    fail("manager", 4)
    SignInFailure.objects.update(at=timezone.now() - timedelta(minutes=16))
    fail("manager", 1)
    assert sign_in("manager", PASSWORD)[0] == 302
    assert not SignInLock.objects.exists()


def test_the_limits_follow_the_settings(manager, settings):
    """R4: KURATOR_LOGIN_MAX_FAILURES and KURATOR_LOGIN_LOCKOUT_MINUTES."""
    settings.KURATOR_LOGIN_MAX_FAILURES = 2
    settings.KURATOR_LOGIN_LOCKOUT_MINUTES = 60
    fail("manager", 2)
    lock = SignInLock.objects.get()
    assert timedelta(minutes=59) < lock.locked_until - lock.locked_at <= timedelta(minutes=60)
    assert LOCK_MESSAGE in sign_in("manager", PASSWORD)[1]


def test_attempts_counted_in_parallel_cannot_exceed_the_limit(manager, password_checks):
    """R4: an attempt counts before its password is checked, so guesses sent at once cannot all slip in:
    with five attempts already on their way, a sixth is refused unchecked and the username locked."""
    now = timezone.now()
    SignInFailure.objects.bulk_create([SignInFailure(at=now, username="manager", ip="10.0.0.9")] * 5)
    _status, html, client = sign_in("manager", PASSWORD)
    assert LOCK_MESSAGE in html and not signed_in(client)
    assert password_checks == []
    assert SignInLock.objects.filter(key="manager").exists()


def test_many_usernames_from_one_address_lock_the_address(manager, other_manager, settings):
    """R4 (password spraying): KURATOR_LOGIN_MAX_FAILURES_PER_IP failures from one address, over any
    usernames, lock sign-in from that address; other addresses are not affected."""
    settings.KURATOR_LOGIN_MAX_FAILURES_PER_IP = 4
    for username in ("alpha", "beta", "gamma", "delta"):
        sign_in(username, "Summer2026!", ip="198.51.100.5")
    status, html, client = sign_in("manager", PASSWORD, ip="198.51.100.5")
    assert IP_LOCK_MESSAGE in html and not signed_in(client)
    assert SignInLock.objects.get().scope == "ip"
    assert AuditEvent.objects.filter(action=AuditAction.LOCKOUT, rule="ip_locked_out").count() == 1
    status, _html, client = sign_in("other", PASSWORD, ip="198.51.100.6")
    assert status == 302 and signed_in(client)

    assert login_unlock_ip("198.51.100.5") is True
    assert sign_in("manager", PASSWORD, ip="198.51.100.5")[0] == 302


def test_the_api_token_endpoint_shares_the_lock_out(manager):
    """R4: POST /api/v1/auth/token/ counts failures with the login page; a locked username gets 429 with
    Retry-After and the message, and no token."""
    fail("manager", 3)
    for _ in range(2):
        status, body, _headers = api_sign_in("manager", "wrong-password")
    assert status == 429
    assert body["detail"].startswith(LOCK_MESSAGE)
    status, body, headers = api_sign_in("manager", PASSWORD)
    assert status == 429 and body["detail"].startswith(LOCK_MESSAGE)
    assert 0 < int(headers["Retry-After"]) <= 15 * 60 + 1
    assert not ApiToken.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED, rule="bad_password").count() == 5


def test_a_wrong_password_through_the_api_is_logged(manager):
    """D12: the API's failed sign-in is in the audit log like the page's."""
    status, body, _headers = api_sign_in("manager", "wrong-password", ip="203.0.113.4")
    assert status == 400 and body["non_field_errors"] == ["Unable to log in with the provided credentials."]
    event = AuditEvent.objects.get()
    assert (event.action, event.allowed, event.rule, event.username, event.ip) == (
        AuditAction.LOGIN_FAILED, False, "bad_password", "manager", "203.0.113.4",
    )  # fmt: skip


def test_the_head_of_sales_unlocks_a_username(manager, head):
    """R4: the head of sales lifts the lock early; the person signs in at once; the unlock is logged."""
    fail("manager", 5)
    assert locked_usernames().keys() == {"manager"}
    assert login_unlock("Manager", actor=head) is True
    assert locked_usernames() == {}
    status, _html, client = sign_in("manager", PASSWORD)
    assert status == 302 and signed_in(client)
    lock = SignInLock.objects.get()
    assert lock.unlocked_by == head and lock.unlocked_at is not None
    event = AuditEvent.objects.get(action=AuditAction.UNLOCK, allowed=True)
    assert (event.rule, event.user) == ("unlocked", head)
    assert not AuditEvent.objects.filter(action=AuditAction.LOCKOUT, allowed=True).exists()
    assert login_unlock("manager", actor=head) is False  # nothing left to lift


def test_a_manager_cannot_unlock_anyone(manager, other_manager):
    """R4: only the head of sales and the administrator unlock; a refusal changes nothing."""
    fail("other", 5)
    with pytest.raises(AccessDenied):
        login_unlock("other", actor=manager)
    assert login_locked_until("other") is not None
    assert SignInFailure.objects.filter(username="other").count() == 5


def test_unlock_user_command(manager):
    """R4: `manage.py unlock_user USERNAME` and `--ip ADDRESS` for the administrator on the server."""
    fail("manager", 5)
    out = io.StringIO()
    with translation.override("en"):
        call_command("unlock_user", "MANAGER", stdout=out)
    assert "unlocked" in out.getvalue()
    assert login_locked_until("manager") is None
    with translation.override("en"):
        call_command("unlock_user", "manager", stdout=out)
        assert "was not locked" in out.getvalue()
        call_command("unlock_user", "--ip", "10.0.0.1", stdout=out)
        with pytest.raises(CommandError):
            call_command("unlock_user", stdout=out)
        with pytest.raises(CommandError):
            call_command("unlock_user", "manager", "--ip", "10.0.0.1", stdout=out)


def test_locked_usernames_is_one_query(manager, other_manager, django_assert_num_queries):
    """ARCHITECTURE.md convention 2: the users page asks for every lock at once."""
    fail("manager", 5)
    fail("other", 5)
    with django_assert_num_queries(1):
        assert set(locked_usernames()) == {"manager", "other"}


def test_an_address_that_is_not_one_does_not_break_sign_in(manager, settings):
    """R4: behind a proxy, a forwarded «address» that is not one is counted without an address (PostgreSQL's
    inet column would refuse it) and sign-in still works."""
    settings.KURATOR_TRUSTED_PROXY_COUNT = 1
    client = Client(HTTP_X_FORWARDED_FOR="not-an-address", headers={"Accept-Language": "en"})
    assert client.post(reverse("login"), {"username": "manager", "password": "wrong"}).status_code == 200
    assert SignInFailure.objects.get().ip is None
    assert AuditEvent.objects.get().ip is None
    assert client.post(reverse("login"), {"username": "manager", "password": PASSWORD}).status_code == 302
