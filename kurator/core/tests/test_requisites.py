"""Tests of kurator.core.requisites (D1: payment requisites and phones are validated).

No database. Messages are rendered only when Django settings are available (under pytest-django);
the codes are always checked. The expected validity of mutated numbers is computed by the small
reference implementations below, written independently of the module under test.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from hypothesis import given
from hypothesis import strategies as st

from kurator.core import requisites as rq

# Real requisites of Sberbank (ПАО Сбербанк) and of real sole traders.
SBER_INN = "7707083893"
SBER_KPP = "773601001"
SBER_OGRN = "1027700132195"
SBER_BIK = "044525225"
SBER_CORR_ACCOUNT = "30101810400000000225"
PERSON_INN = "500100732259"
OGRNIP = "304500116000157"


# --------------------------------------------------------------------------- helpers


def _settings_ready() -> bool:
    from django.conf import settings

    try:
        settings.USE_I18N  # noqa: B018  (forces the lazy settings to load)
    except ImproperlyConfigured:
        return False
    return True


def _message(exc: ValidationError) -> str | None:
    """The English message of ``exc``, or None when no settings are configured (then skip rendering)."""
    if not _settings_ready():
        return None
    from django.utils import translation

    with translation.override(None):  # msgids, whatever LANGUAGE_CODE is
        return exc.messages[0]


def _refused(func, *args) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        func(*args)
    return info.value


def _mutations(value: str, positions=None):
    """Every one-digit mutation of ``value``: (position, mutated string)."""
    for i in positions if positions is not None else range(len(value)):
        for digit in "0123456789":
            if digit != value[i]:
                yield i, value[:i] + digit + value[i + 1 :]


def _ref_inn_ok(inn: str) -> bool:
    def check(digits: str, weights: list[int]) -> int:
        return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10

    w10 = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    w11 = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
    w12 = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]
    if len(inn) == 10:
        return check(inn[:9], w10) == int(inn[9])
    return check(inn[:10], w11) == int(inn[10]) and check(inn[:11], w12) == int(inn[11])


def _ref_ogrn_ok(ogrn: str) -> bool:
    if len(ogrn) == 13:
        return ogrn[0] != "0" and int(ogrn[:12]) % 11 % 10 == int(ogrn[12])
    return ogrn[0] in "34" and int(ogrn[:14]) % 13 % 10 == int(ogrn[14])


def _ref_account_ok(account: str, bik: str, correspondent: bool) -> bool:
    prefix = "0" + bik[4:6] if correspondent else bik[6:9]
    weights = [7, 1, 3] * 8
    return sum(int(d) * w for d, w in zip(prefix + account, weights, strict=False)) % 10 == 0


@pytest.fixture
def sber_settlement_account() -> str:
    account = rq.account_with_key("40702810" + "0" + "38000012345", SBER_BIK)
    assert _ref_account_ok(account, SBER_BIK, correspondent=False)
    return account


# --------------------------------------------------------------------------- clean_number


@pytest.mark.parametrize(
    "raw",
    [
        "7707083893",
        "7707 083 893",
        "7707-083-893",
        "7707\u00a0083\u00a0893",
        "7707\u202f083\u2009893",
        "7707.083.893",
        "7707_083_893",
        " 7707–083—893\t",
        "7707\u2212083\u2011893",
    ],
)
def test_clean_number_strips_separators(raw):
    """D1: spaces (incl. non-breaking), dashes, dots and underscores are stripped from a number."""
    assert rq.clean_number(raw) == "7707083893"


def test_clean_number_keeps_everything_else():
    """D1: letters and other characters are kept, so the validator can name them."""
    assert rq.clean_number("77 07/AB-ё") == "7707/ABё"
    assert rq.clean_number("") == ""
    assert rq.clean_number(None) == ""


# --------------------------------------------------------------------------- INN


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (SBER_INN, SBER_INN),
        ("7707 083 893", SBER_INN),
        ("7707-083-893", SBER_INN),
        (PERSON_INN, PERSON_INN),
        ("5001 0073 2259", PERSON_INN),
    ],
)
def test_validate_inn_accepts_real_values(raw, expected):
    """D1: the real INN of Sberbank and a real personal INN are accepted and cleaned."""
    assert rq.validate_inn(raw) == expected


def test_validate_inn_kind():
    """D1: kind='legal' wants 10 digits, kind='person' wants 12 digits."""
    assert rq.validate_inn(SBER_INN, kind="legal") == SBER_INN
    assert rq.validate_inn(PERSON_INN, kind="person") == PERSON_INN
    assert _refused(rq.validate_inn, SBER_INN, "person").code == "inn_length"
    assert _refused(rq.validate_inn, PERSON_INN, "legal").code == "inn_length"
    with pytest.raises(ValueError):
        rq.validate_inn(SBER_INN, kind="company")


@pytest.mark.parametrize("inn", [SBER_INN, PERSON_INN])
def test_inn_every_one_digit_mutation_is_refused_unless_checksum_collides(inn):
    """D1: a one-digit mutation of a real INN is refused with inn_checksum.

    INN check digits are mod 11 then mod 10, so a mutation can collide (remainders 0 and 10 give the
    same digit); exactly those mutations stay valid, and a mutated check digit is always refused.
    """
    refused = 0
    for position, mutated in _mutations(inn):
        if _ref_inn_ok(mutated):
            assert rq.validate_inn(mutated) == mutated
            assert position < len(inn) - (1 if len(inn) == 10 else 2)
        else:
            assert _refused(rq.validate_inn, mutated).code == "inn_checksum"
            refused += 1
    assert refused >= 0.8 * 9 * len(inn)


def test_inn_checksum_message_names_field_and_reason():
    """D1: the checksum error message names the INN and the reason."""
    exc = _refused(rq.validate_inn, "7707083894")
    assert exc.code == "inn_checksum"
    message = _message(exc)
    if message is not None:
        assert "INN" in message
        assert "checksum" in message


@pytest.mark.parametrize(
    ("raw", "count"), [("770708389", 9), ("77070838930", 11), ("", 0), ("5001007322591", 13)]
)
def test_inn_wrong_length(raw, count):
    """D1: an INN of a wrong length is refused with inn_length; the message says how many digits it had."""
    exc = _refused(rq.validate_inn, raw)
    assert exc.code == "inn_length"
    assert exc.params == {"count": count}
    message = _message(exc)
    if message is not None:
        assert "INN" in message
        assert "10 digits" in message
        assert "12 digits" in message
        assert f"got {count}" in message


@pytest.mark.parametrize("raw", ["77070838O3", "7707083893a", "ИНН7707083893", "7707/083893", "+7707083893"])
def test_inn_not_digits(raw):
    """D1: an INN with letters or symbols is refused with inn_not_digits."""
    exc = _refused(rq.validate_inn, raw)
    assert exc.code == "inn_not_digits"
    message = _message(exc)
    if message is not None:
        assert "INN" in message
        assert "digits only" in message


# --------------------------------------------------------------------------- KPP


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(SBER_KPP, SBER_KPP), ("7736 01 001", SBER_KPP), ("7736AB001", "7736AB001"), ("7736ab001", "7736AB001")],
)
def test_validate_kpp_accepts(raw, expected):
    """D1: a KPP is NNNNXXNNN with XX digits or capital Latin letters."""
    assert rq.validate_kpp(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["77360100", "7736010011", "", "7736АБ001", "A73601001", "773601A01", "7736-01-00X", "7736@1001"],
)
def test_validate_kpp_refuses_bad_format(raw):
    """D1: a KPP of a wrong format (length, Cyrillic letters, letters outside positions 5-6) is refused."""
    exc = _refused(rq.validate_kpp, raw)
    assert exc.code == "kpp_format"
    message = _message(exc)
    if message is not None:
        assert "KPP" in message
        assert "9 characters" in message


def test_kpp_has_no_checksum():
    """D1: KPP has no official checksum, so every digit mutation of a real KPP is still well-formed."""
    for _position, mutated in _mutations(SBER_KPP):
        assert rq.validate_kpp(mutated) == mutated


# --------------------------------------------------------------------------- OGRN / OGRNIP


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (SBER_OGRN, SBER_OGRN),
        ("1 02 77 00 13219 5", SBER_OGRN),
        (OGRNIP, OGRNIP),
        ("304-500-116-000-157", OGRNIP),
    ],
)
def test_validate_ogrn_accepts_real_values(raw, expected):
    """D1: the real OGRN of Sberbank and a real OGRNIP are accepted and cleaned."""
    assert rq.validate_ogrn(raw) == expected


def test_real_values_satisfy_the_published_check_digit_rules():
    """D1: OGRN check digit = first 12 digits mod 11 mod 10; OGRNIP = first 14 digits mod 13 mod 10."""
    assert int(SBER_OGRN[:12]) % 11 % 10 == int(SBER_OGRN[12])
    assert int(OGRNIP[:14]) % 13 % 10 == int(OGRNIP[14])


def test_ogrnip_with_remainder_ten_or_more_is_accepted():
    """D1: an OGRNIP whose remainder mod 13 is 10, 11 or 12 ends in the remainder's last digit.

    python-stdnum 2.2 compares the last digit with "10"/"11"/"12" and so refuses such real numbers;
    this is why validate_ogrn does not delegate to stdnum.ru.ogrn.
    """
    checked = 0
    for i in range(200):
        body = f"30450011600{i:03d}"
        remainder = int(body) % 13
        if remainder >= 10:
            assert rq.validate_ogrn(body + str(remainder % 10)) == body + str(remainder % 10)
            checked += 1
    assert checked > 0


def test_validate_ogrn_kind():
    """D1: kind='legal' wants a 13-digit OGRN, kind='person' a 15-digit OGRNIP."""
    assert rq.validate_ogrn(SBER_OGRN, kind="legal") == SBER_OGRN
    assert rq.validate_ogrn(OGRNIP, kind="person") == OGRNIP
    assert _refused(rq.validate_ogrn, OGRNIP, "legal").code == "ogrn_length"
    assert _refused(rq.validate_ogrn, SBER_OGRN, "person").code == "ogrn_length"


@pytest.mark.parametrize("ogrn", [SBER_OGRN, OGRNIP])
def test_ogrn_every_one_digit_mutation_is_refused_unless_checksum_collides(ogrn):
    """D1: a one-digit mutation of a real OGRN/OGRNIP is refused with ogrn_checksum (ogrn_format: 1st digit).

    The check digit is a remainder (mod 11 or mod 13) taken mod 10, so remainders 0/10 (and 1/11, 2/12 for
    OGRNIP) collide: exactly the mutations the reference rule accepts stay valid.
    """
    refused = 0
    for position, mutated in _mutations(ogrn):
        if _ref_ogrn_ok(mutated):
            assert rq.validate_ogrn(mutated) == mutated
            assert position < len(ogrn) - 1
        else:
            exc = _refused(rq.validate_ogrn, mutated)
            if position == 0 and (mutated[0] == "0" if len(ogrn) == 13 else mutated[0] not in "34"):
                assert exc.code == "ogrn_format"
            else:
                assert exc.code == "ogrn_checksum"
            refused += 1
    assert refused >= 0.7 * 9 * len(ogrn)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("102770013219", "ogrn_length"),
        ("10277001321955", "ogrn_length"),
        ("3045001160001570", "ogrn_length"),
        ("", "ogrn_length"),
        ("102770013219X", "ogrn_not_digits"),
        ("0027700132195", "ogrn_format"),
        ("504500116000157", "ogrn_format"),
        ("1027700132196", "ogrn_checksum"),
        ("304500116000158", "ogrn_checksum"),
    ],
)
def test_ogrn_refusals(raw, code):
    """D1: a wrong OGRN is refused with a code naming the reason and a message naming the field."""
    exc = _refused(rq.validate_ogrn, raw)
    assert exc.code == code
    message = _message(exc)
    if message is not None:
        assert "OGRN" in message


# --------------------------------------------------------------------------- BIK


def test_validate_bik_accepts_real_value():
    """D1: the real BIK of Sberbank is accepted and cleaned."""
    assert rq.validate_bik(SBER_BIK) == SBER_BIK
    assert rq.validate_bik("04 45 25 225") == SBER_BIK


@pytest.mark.parametrize(
    "raw", ["04452522", "0445252250", "", "04452522X", "144525225", "004525988", "034525225"]
)
def test_validate_bik_refuses(raw):
    """D1: a BIK that is not 9 digits starting with 04 is refused with bik_format."""
    exc = _refused(rq.validate_bik, raw)
    assert exc.code == "bik_format"
    message = _message(exc)
    if message is not None:
        assert "BIK" in message


def test_bik_mutations():
    """D1: BIK has no checksum: a mutation of the 04 prefix is refused, other mutations stay well-formed."""
    for position, mutated in _mutations(SBER_BIK):
        if position < 2:
            assert _refused(rq.validate_bik, mutated).code == "bik_format"
        else:
            assert rq.validate_bik(mutated) == mutated


# --------------------------------------------------------------------------- accounts


def test_validate_correspondent_account_accepts_real_value():
    """D1: the real correspondent account of Sberbank matches its BIK."""
    assert rq.validate_correspondent_account(SBER_CORR_ACCOUNT, SBER_BIK) == SBER_CORR_ACCOUNT
    assert rq.validate_correspondent_account("301 018 104 0000 0000 225", "044 525 225") == SBER_CORR_ACCOUNT


def test_validate_settlement_account_accepts_valid_value(sber_settlement_account):
    """D1: a settlement account with the right control key for the BIK is accepted."""
    spaced = " ".join(sber_settlement_account[i : i + 5] for i in range(0, 20, 5))
    assert rq.validate_settlement_account(spaced, SBER_BIK) == sber_settlement_account


def test_correspondent_account_mutations_are_all_refused():
    """D1: every one-digit mutation of a real correspondent account is refused with account_key.

    Weights 7, 1, 3 are coprime with 10, so any change of one digit changes the sum mod 10.
    """
    count = 0
    for _position, mutated in _mutations(SBER_CORR_ACCOUNT):
        assert not _ref_account_ok(mutated, SBER_BIK, correspondent=True)
        assert _refused(rq.validate_correspondent_account, mutated, SBER_BIK).code == "account_key"
        count += 1
    assert count == 9 * 20


def test_settlement_account_mutations_are_all_refused(sber_settlement_account):
    """D1: every one-digit mutation of a valid settlement account is refused with account_key."""
    count = 0
    for _position, mutated in _mutations(sber_settlement_account):
        assert _refused(rq.validate_settlement_account, mutated, SBER_BIK).code == "account_key"
        count += 1
    assert count == 9 * 20


def test_account_bik_mutations_follow_the_prefix(sber_settlement_account):
    """D1: the key binds the account to its BIK: the digits of the BIK that form the prefix matter."""
    for position, bik in _mutations(SBER_BIK, positions=range(2, 9)):
        settlement_ok = _ref_account_ok(sber_settlement_account, bik, correspondent=False)
        correspondent_ok = _ref_account_ok(SBER_CORR_ACCOUNT, bik, correspondent=True)
        if position >= 6:  # settlement prefix = bik[6:9]
            assert not settlement_ok
        if position in (4, 5):  # correspondent prefix = "0" + bik[4:6]
            assert not correspondent_ok
        if settlement_ok:
            assert rq.validate_settlement_account(sber_settlement_account, bik) == sber_settlement_account
        else:
            assert (
                _refused(rq.validate_settlement_account, sber_settlement_account, bik).code == "account_key"
            )
        if correspondent_ok:
            assert rq.validate_correspondent_account(SBER_CORR_ACCOUNT, bik) == SBER_CORR_ACCOUNT
        else:
            assert _refused(rq.validate_correspondent_account, SBER_CORR_ACCOUNT, bik).code == "account_key"


def test_correspondent_account_is_not_a_settlement_account():
    """D1: the prefixes differ, so Sberbank's correspondent account fails the settlement-account key."""
    exc = _refused(rq.validate_settlement_account, SBER_CORR_ACCOUNT, SBER_BIK)
    assert exc.code == "account_key"
    message = _message(exc)
    if message is not None:
        assert "Settlement account" in message
        assert "BIK" in message


@pytest.mark.parametrize("func", [rq.validate_settlement_account, rq.validate_correspondent_account])
@pytest.mark.parametrize(
    ("account", "bik", "code"),
    [
        ("3010181040000000022", SBER_BIK, "account_length"),
        ("301018104000000002250", SBER_BIK, "account_length"),
        ("", SBER_BIK, "account_length"),
        ("3010181040000000022X", SBER_BIK, "account_not_digits"),
        (SBER_CORR_ACCOUNT, "", "account_needs_bik"),
        (SBER_CORR_ACCOUNT, None, "account_needs_bik"),
        (SBER_CORR_ACCOUNT, "04452522", "account_needs_bik"),
        (SBER_CORR_ACCOUNT, "144525225", "account_needs_bik"),
    ],
)
def test_account_refusals(func, account, bik, code):
    """D1: a wrong account is refused with a code naming the reason and a message naming the field."""
    exc = _refused(func, account, bik)
    assert exc.code == code
    message = _message(exc)
    if message is not None:
        field = "Settlement account" if func is rq.validate_settlement_account else "Correspondent account"
        assert message.startswith(field)


def test_account_with_key():
    """D1: account_with_key fills the control digit at position 9 of a 19- or 20-digit account."""
    body = "40702810" + "38000012345"
    from_19 = rq.account_with_key(body, SBER_BIK)
    from_20 = rq.account_with_key(body[:8] + "7" + body[8:], SBER_BIK)
    assert from_19 == from_20
    assert len(from_19) == 20
    assert from_19[:8] + from_19[9:] == body
    assert _ref_account_ok(from_19, SBER_BIK, correspondent=False)
    assert (
        rq.account_with_key("30101810" + "0" * 8 + "225", SBER_BIK, correspondent=True) == SBER_CORR_ACCOUNT
    )
    for bad_account, bad_bik in [("123", SBER_BIK), ("4070281038000012345X", SBER_BIK), (body, "0445")]:
        with pytest.raises(ValueError):
            rq.account_with_key(bad_account, bad_bik)


# --------------------------------------------------------------------------- generators (hypothesis)

_SEPARATORS = st.sampled_from([" ", "-", "\u00a0", ".", "_", "\u2013"])


def _sprinkle(value: str, data: st.DataObject) -> str:
    """Insert random separators between the characters of ``value``."""
    out = []
    for ch in value:
        out.append(data.draw(st.lists(_SEPARATORS, max_size=2).map("".join)))
        out.append(ch)
    return "".join(out)


@given(rng=st.randoms(use_true_random=False), kind=st.sampled_from(["legal", "person"]))
def test_generated_inn_validates(rng, kind):
    """D1: generate_inn always produces a valid INN of the asked kind."""
    inn = rq.generate_inn(rng, kind)
    assert len(inn) == (10 if kind == "legal" else 12)
    assert _ref_inn_ok(inn)
    assert rq.validate_inn(inn, kind=kind) == inn


@given(rng=st.randoms(use_true_random=False), kind=st.sampled_from(["legal", "person"]))
def test_generated_ogrn_validates(rng, kind):
    """D1: generate_ogrn always produces a valid OGRN (13 digits) or OGRNIP (15 digits)."""
    ogrn = rq.generate_ogrn(rng, kind)
    assert len(ogrn) == (13 if kind == "legal" else 15)
    assert _ref_ogrn_ok(ogrn)
    assert rq.validate_ogrn(ogrn, kind=kind) == ogrn


@given(rng=st.randoms(use_true_random=False))
def test_generated_kpp_validates_and_follows_inn(rng):
    """D1: generate_kpp produces a valid KPP whose tax office code is the first 4 digits of the INN."""
    inn = rq.generate_inn(rng, "legal")
    kpp = rq.generate_kpp(rng, inn)
    assert rq.validate_kpp(kpp) == kpp
    assert kpp[:4] == inn[:4]
    assert rq.validate_kpp(rq.generate_kpp(rng)) is not None


@given(rng=st.randoms(use_true_random=False))
def test_generated_bank_requisites_validate(rng):
    """D1: generated BIK, settlement and correspondent accounts validate together."""
    bik = rq.generate_bik(rng)
    assert rq.validate_bik(bik) == bik
    account = rq.generate_settlement_account(rng, bik)
    assert rq.validate_settlement_account(account, bik) == account
    sole_trader_account = rq.generate_settlement_account(rng, bik, balance="40802")
    assert rq.validate_settlement_account(sole_trader_account, bik) == sole_trader_account
    corr = rq.generate_correspondent_account(rng, bik)
    assert corr.startswith("30101810")
    assert corr.endswith(bik[6:9])
    assert rq.validate_correspondent_account(corr, bik) == corr


@given(body=st.text(alphabet="0123456789", min_size=19, max_size=19), rng=st.randoms(use_true_random=False))
def test_account_with_key_always_validates(body, rng):
    """D1: any 19 digits plus the computed key form a valid account for the BIK."""
    bik = rq.generate_bik(rng)
    assert rq.validate_settlement_account(rq.account_with_key(body, bik), bik)
    assert rq.validate_correspondent_account(rq.account_with_key(body, bik, correspondent=True), bik)


@given(data=st.data())
def test_separators_are_cleaned(data):
    """D1: '7707 083 893', '7707-083-893' and any other sprinkling of separators give the same value."""
    assert rq.validate_inn(_sprinkle(SBER_INN, data)) == SBER_INN
    assert rq.validate_inn(_sprinkle(PERSON_INN, data)) == PERSON_INN
    assert rq.validate_ogrn(_sprinkle(SBER_OGRN, data)) == SBER_OGRN
    assert rq.validate_kpp(_sprinkle(SBER_KPP, data)) == SBER_KPP
    assert rq.validate_bik(_sprinkle(SBER_BIK, data)) == SBER_BIK
    assert (
        rq.validate_correspondent_account(_sprinkle(SBER_CORR_ACCOUNT, data), _sprinkle(SBER_BIK, data))
        == SBER_CORR_ACCOUNT
    )


@given(text=st.text(max_size=30))
def test_validators_raise_only_validation_error(text):
    """D1: arbitrary input never crashes a validator: it is either accepted or refused with a code."""
    checks: list[tuple[Callable[..., str], tuple[object, ...]]] = [
        (rq.validate_inn, (text,)),
        (rq.validate_kpp, (text,)),
        (rq.validate_ogrn, (text,)),
        (rq.validate_bik, (text,)),
        (rq.validate_settlement_account, (text, SBER_BIK)),
        (rq.validate_correspondent_account, (SBER_CORR_ACCOUNT, text)),
        (rq.normalize_phone, (text,)),
    ]
    for func, args in checks:
        try:
            func(*args)
        except ValidationError as exc:
            assert exc.code


def test_generators_are_deterministic_for_a_seed():
    """D1: the same seed gives the same demo requisites (the demo data and the benchmark rely on it)."""

    def batch(seed: int) -> list[str]:
        rng = random.Random(seed)
        bik = rq.generate_bik(rng)
        return [
            rq.generate_inn(rng, "legal"),
            rq.generate_inn(rng, "person"),
            rq.generate_ogrn(rng, "legal"),
            rq.generate_ogrn(rng, "person"),
            rq.generate_kpp(rng),
            bik,
            rq.generate_settlement_account(rng, bik),
        ]

    assert batch(42) == batch(42)
    assert batch(42) != batch(43)


# --------------------------------------------------------------------------- phones


@pytest.mark.parametrize(
    "raw",
    [
        "8 (495) 123-45-67",
        "+7 495 123 45 67",
        "8-495-123-45-67",
        "84951234567",
        "4951234567",
        "+7(495)1234567",
    ],
)
def test_normalize_phone_landline(raw):
    """D1: all the usual ways to write a Moscow number give the same E.164 form."""
    assert rq.normalize_phone(raw) == "+74951234567"


def test_normalize_phone_mobile_and_foreign():
    """D1: mobile numbers and numbers of other countries are normalised too."""
    assert rq.normalize_phone("8 916 123-45-67") == "+79161234567"
    assert rq.normalize_phone("+375 29 123-45-67") == "+375291234567"


@pytest.mark.parametrize(
    "raw", ["8 (495) 123-45-67 доб. 123", "+7 495 123 45 67 ext 123", "+7 495 1234567 x123"]
)
def test_normalize_phone_extension(raw):
    """D1: an extension is kept as ';ext=123' by default, or dropped on request."""
    assert rq.normalize_phone(raw) == "+74951234567;ext=123"
    assert rq.normalize_phone(raw, keep_extension=False) == "+74951234567"


@pytest.mark.parametrize("raw", ["12", "", "abc", "+7 000 000 00 00", "8 495 123 45 67 89 01 23", None])
def test_normalize_phone_refuses_garbage(raw):
    """D1: a wrong phone is refused with phone_invalid and a message naming the phone and the reason."""
    exc = _refused(rq.normalize_phone, raw)
    assert exc.code == "phone_invalid"
    message = _message(exc)
    if message is not None:
        assert message.startswith("Phone number")
        assert len(message) > len("Phone number  is .")


def test_normalize_phone_too_short_reason():
    """D1: the message for '12' says the number is too short."""
    message = _message(_refused(rq.normalize_phone, "12"))
    if message is not None:
        assert message == "Phone number 12 is too short."


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+74951234567", "+7 495 123-45-67"),
        ("+79161234567", "+7 916 123-45-67"),
        ("+74951234567;ext=123", "+7 495 123-45-67 доб. 123"),
        ("not a phone", "not a phone"),
        ("", ""),
    ],
)
def test_format_phone(e164, shown):
    """D1: phones are shown in the Russian display form; unparsable values are shown as they are."""
    assert rq.format_phone(e164) == shown


def test_format_phone_round_trip():
    """D1: a displayed phone normalises back to the stored value."""
    for stored in ["+74951234567", "+79161234567", "+74951234567;ext=123"]:
        assert rq.normalize_phone(rq.format_phone(stored)) == stored
