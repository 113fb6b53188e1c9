"""The public web form (R2, S2): no login, honeypot, signed timestamp token, rate limit per IP, embeddable."""

from __future__ import annotations

import time
from html import unescape

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from kurator.companies.models import ContactSource
from kurator.inquiries import public
from kurator.inquiries.models import Channel, Inquiry

pytestmark = pytest.mark.django_db

URL = "/forms/inquiry/"


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    # The rate limit lives in the cache, which outlives a test's database transaction.
    cache.clear()
    yield
    cache.clear()


def old_token(seconds: int = 10) -> str:
    """A genuine token issued ``seconds`` ago."""
    signer = signing.TimestampSigner(salt=public.TOKEN_SALT)
    value = "abc"
    timestamp = signing.b62_encode(int(time.time()) - seconds)
    return f"{value}{signer.sep}{timestamp}{signer.sep}{signer.signature(f'{value}{signer.sep}{timestamp}')}"


def payload(**overrides) -> dict[str, str]:
    data = {
        "company_name": "ООО «Ромашка»",
        "inn": "",
        "contact_name": "Анна Лебедева",
        "phone": "+7 912 345-67-89",
        "email": "anna@romashka-test.ru",
        "text": "Нужен прайс",
        "token": old_token(),
        "website": "",
    }
    data.update(overrides)
    return data


def client(ip: str = "203.0.113.7") -> Client:
    return Client(REMOTE_ADDR=ip, headers={"Accept-Language": "en"}, enforce_csrf_checks=True)


def test_form_opens_without_login_and_can_be_framed():
    """R2: the form needs no login, is embeddable and carries a signed token and a hidden honeypot."""
    response = client().get(URL)
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    html = response.content.decode()
    assert 'name="token"' in html and 'name="website"' in html
    assert 'class="kurator-hp"' in html
    assert "navbar" not in html  # standalone: no Kurator navigation inside a client's site


def test_other_pages_still_refuse_framing(manager):
    """R4: only the public form is exempt from X-Frame-Options."""
    c = Client()
    c.force_login(manager)
    assert c.get(reverse("companies:list"))["X-Frame-Options"] == "DENY"


def test_a_submission_creates_a_web_form_inquiry_with_the_ip():
    """R2: a visitor's submission becomes an inquiry of the web-form channel, with the sender's address."""
    response = client().post(URL, payload())
    assert response.status_code == 302
    assert response["Location"] == reverse("public_inquiry_thanks")
    inquiry = Inquiry.objects.get()
    assert inquiry.channel == Channel.WEB_FORM
    assert inquiry.company_name == "ООО «Ромашка»"
    assert inquiry.contact_name == "Анна Лебедева"
    assert inquiry.client_ip == "203.0.113.7"
    assert inquiry.created_by is None
    thanks = client().get(response["Location"])
    assert thanks.status_code == 200 and "X-Frame-Options" not in thanks
    assert "Thank you, we will contact you." in unescape(thanks.content.decode())


def test_the_source_is_preset_from_the_link():
    """S2: ?source=<id> presets the contact source of inquiries from an embedded form."""
    source = ContactSource.objects.create(name="Сайт компании")
    html = client().get(f"{URL}?source={source.pk}").content.decode()
    assert f'name="source" value="{source.pk}"' in html
    client().post(URL, payload(source=str(source.pk)))
    assert Inquiry.objects.get().source == source


def test_an_unknown_or_inactive_source_is_ignored():
    """S2: a bad source id in the link does not break the form; the inquiry has no source."""
    inactive = ContactSource.objects.create(name="Старый сайт", is_active=False)
    assert client().get(f"{URL}?source=999999999999999999999").status_code == 200
    client().post(URL, payload(source=str(inactive.pk)))
    assert Inquiry.objects.get().source is None


def test_the_honeypot_pretends_success_and_stores_nothing():
    """R2: a bot that fills the hidden field sees the thank-you page; no inquiry is stored."""
    response = client().post(URL, payload(website="http://spam.example"))
    assert response.status_code == 302 and response["Location"] == reverse("public_inquiry_thanks")
    assert Inquiry.objects.count() == 0


@pytest.mark.parametrize(
    "token",
    [
        "",
        "forged:token:value",
        signing.TimestampSigner(salt="another-salt").sign("abc"),
    ],
    # Fixed ids: a signed token differs on every collection, and xdist workers must collect the same names.
    ids=["missing", "forged", "signed-with-another-salt"],
)
def test_a_missing_or_forged_token_is_refused(token):
    """R2: without a token Kurator signed, nothing is stored and the visitor is asked to try again."""
    response = client().post(URL, payload(token=token))
    assert response.status_code == 400
    assert 'data-testid="token-problem"' in response.content.decode()
    assert Inquiry.objects.count() == 0


def test_an_expired_token_is_refused():
    """R2: a form older than a day must be reloaded."""
    response = client().post(URL, payload(token=old_token(seconds=public.TOKEN_MAX_AGE + 60)))
    assert response.status_code == 400
    assert Inquiry.objects.count() == 0


def test_a_too_fast_submission_is_refused_and_the_input_kept():
    """R2: a post within two seconds of the form being served is a script; the visitor's input is kept."""
    response = client().post(URL, payload(token=public.issue_token()))
    assert response.status_code == 400
    html = unescape(response.content.decode())
    assert "please check your details and send it again" in html.lower()
    assert "Анна Лебедева" in html
    assert Inquiry.objects.count() == 0


def test_the_refused_form_carries_a_fresh_token():
    """R2: after a refusal the visitor can send again with the new token the page carries."""
    response = client().post(URL, payload(token=""))
    token = response.context["form"]["token"].value()
    assert public.token_problem(token, now=time.time() + 5) is None


def test_the_rate_limit_answers_429_after_the_limit(settings):
    """R2: the sixth submission from one address within ten minutes gets 429 and is not stored."""
    settings.KURATOR_PUBLIC_FORM_RATE_LIMIT = 5
    for _ in range(5):
        assert client().post(URL, payload()).status_code == 302
    response = client().post(URL, payload())
    assert response.status_code == 429
    assert "Retry-After" in response
    assert "Too many inquiries" in unescape(response.content.decode())
    assert Inquiry.objects.count() == 5
    # Another address is not affected.
    assert client(ip="198.51.100.1").post(URL, payload()).status_code == 302


def test_the_rate_limit_counts_bots_too(settings):
    """R2: honeypot posts count against the address, so a flood is stopped either way."""
    settings.KURATOR_PUBLIC_FORM_RATE_LIMIT = 2
    for _ in range(2):
        client().post(URL, payload(website="x"))
    assert client().post(URL, payload()).status_code == 429
    assert Inquiry.objects.count() == 0


def test_a_forwarded_address_is_trusted_only_behind_configured_proxies(settings):
    """R2: X-Forwarded-For is ignored unless Kurator is told how many proxies stand in front of it."""
    forged = Client(REMOTE_ADDR="10.0.0.1", headers={"X-Forwarded-For": "1.2.3.4"})
    forged.post(URL, payload())
    assert Inquiry.objects.get().client_ip == "10.0.0.1"
    settings.KURATOR_TRUSTED_PROXY_COUNT = 1
    proxied = Client(REMOTE_ADDR="10.0.0.1", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.9"})
    proxied.post(URL, payload(phone="+7 912 345-67-00"))
    latest = Inquiry.objects.order_by("-id").first()
    assert latest is not None
    assert latest.client_ip == "198.51.100.9"


def test_field_errors_are_shown_and_nothing_is_stored():
    """R2: a submission without a way to answer is refused with a clear message."""
    response = client().post(URL, payload(phone="", email=""))
    assert response.status_code == 400
    assert "Leave a phone or an e-mail" in unescape(response.content.decode())
    assert Inquiry.objects.count() == 0


def test_the_form_works_without_a_csrf_cookie():
    """R2: embedded in another site the form has no CSRF cookie; the signed token is what protects it."""
    c = client()
    assert not c.cookies
    assert c.post(URL, payload()).status_code == 302


def test_only_get_and_post():
    """R4: other methods are refused."""
    assert client().put(URL).status_code == 405
