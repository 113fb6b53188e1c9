"""Validation of Russian company requisites and phone numbers.

Every function here is pure: no database, no settings access. Error messages are
``gettext_lazy`` proxies, so Django settings are needed only when a message is
rendered (``str(exc)``), never to validate.

Each ``validate_*`` function returns the cleaned value (see :func:`clean_number`)
or raises :class:`django.core.exceptions.ValidationError` with a stable ``code``:

- ``validate_inn``: inn_not_digits, inn_length, inn_checksum
- ``validate_kpp``: kpp_format
- ``validate_ogrn``: ogrn_not_digits, ogrn_length, ogrn_format, ogrn_checksum
- ``validate_bik``: bik_format
- ``validate_settlement_account`` / ``validate_correspondent_account``: account_not_digits,
  account_length, account_needs_bik (BIK missing or invalid), account_key
- ``normalize_phone``: phone_invalid

OGRN is checked here rather than with ``stdnum.ru.ogrn``: python-stdnum 2.2 computes
the OGRNIP check digit as ``number % 13`` without the final ``% 10``, so it refuses
every real OGRNIP whose remainder is 10, 11 or 12. INN uses ``stdnum.ru.inn``.
"""

from __future__ import annotations

import random
import re

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.ru import inn as stdnum_inn

__all__ = [
    "account_with_key",
    "clean_number",
    "format_phone",
    "generate_bik",
    "generate_correspondent_account",
    "generate_inn",
    "generate_kpp",
    "generate_ogrn",
    "generate_settlement_account",
    "normalize_phone",
    "validate_bik",
    "validate_correspondent_account",
    "validate_inn",
    "validate_kpp",
    "validate_ogrn",
    "validate_settlement_account",
]

# Any Unicode whitespace (\s covers NBSP U+00A0, narrow NBSP U+202F, thin space ...),
# hyphen-minus, the Unicode hyphens and dashes U+2010..U+2015, minus sign, dots, underscores.
_SEPARATORS_RE = re.compile(r"[\s\-\u2010-\u2015\u2212._]+")
_DIGITS_RE = re.compile(r"[0-9]*")  # empty is "digits only": it fails on length
_KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$", re.ASCII)

INN_LEGAL_LENGTH = 10
INN_PERSON_LENGTH = 12
OGRN_LEGAL_LENGTH = 13
OGRN_PERSON_LENGTH = 15
ACCOUNT_LENGTH = 20
ACCOUNT_KEY_INDEX = 8  # the control key is the 9th digit of an account
_ACCOUNT_WEIGHTS = (7, 1, 3)

_KINDS = ("legal", "person")


def _as_text(value: object) -> str:
    return "" if value is None else str(value)


def _is_digits(value: str) -> bool:
    return _DIGITS_RE.fullmatch(value) is not None


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in _KINDS:
        raise ValueError(f"kind must be None, 'legal' or 'person', not {kind!r}")


def clean_number(value: str | None) -> str:
    """Strip whitespace (incl. non-breaking), dashes, dots and underscores; keep the rest.

    ``clean_number("7707 083-893") == "7707083893"``; letters and other characters are kept
    so that the validators can refuse them with a precise message.
    """
    return _SEPARATORS_RE.sub("", _as_text(value))


# --------------------------------------------------------------------------- INN


def validate_inn(value: str, kind: str | None = None) -> str:
    """Validate an INN: 10 digits for a company, 12 digits for a person / sole trader.

    ``kind`` restricts the length: ``"legal"`` (10 digits) or ``"person"`` (12 digits);
    ``None`` accepts both. Checksums via ``stdnum.ru.inn``.
    """
    _check_kind(kind)
    number = clean_number(value)
    if not _is_digits(number):
        raise ValidationError(
            _("INN must contain digits only; got %(value)s."),
            code="inn_not_digits",
            params={"value": number},
        )
    allowed = {
        None: (INN_LEGAL_LENGTH, INN_PERSON_LENGTH),
        "legal": (INN_LEGAL_LENGTH,),
        "person": (INN_PERSON_LENGTH,),
    }[kind]
    if len(number) not in allowed:
        messages = {
            None: _("INN must have 10 digits (company) or 12 digits (sole trader); got %(count)s."),
            "legal": _("Company INN must have 10 digits; got %(count)s."),
            "person": _("Personal or sole trader INN must have 12 digits; got %(count)s."),
        }
        raise ValidationError(messages[kind], code="inn_length", params={"count": len(number)})
    try:
        stdnum_inn.validate(number)
    except StdnumValidationError:
        raise ValidationError(
            _("INN checksum does not match: check the digits."), code="inn_checksum"
        ) from None
    return number


def _inn_check_digit(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(w * int(d) for w, d in zip(weights, digits, strict=True)) % 11 % 10)


_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _random_digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(count))


def _random_region(rng: random.Random) -> str:
    return f"{rng.randint(1, 99):02d}"


def generate_inn(rng: random.Random, kind: str = "legal") -> str:
    """Return a random INN with valid checksum(s): 10 digits for ``"legal"``, 12 for ``"person"``.

    Layout: region (2 digits) + tax office (2) + serial + check digit(s).
    """
    _check_kind(kind)
    if kind == "legal":
        body = _random_region(rng) + _random_digits(rng, 7)
        return body + _inn_check_digit(body, _INN10_WEIGHTS)
    body = _random_region(rng) + _random_digits(rng, 8)
    body += _inn_check_digit(body, _INN12_WEIGHTS_1)
    return body + _inn_check_digit(body, _INN12_WEIGHTS_2)


# --------------------------------------------------------------------------- KPP


def validate_kpp(value: str) -> str:
    """Validate a KPP: ``NNNNXXNNN`` where ``XX`` are digits or capital Latin letters.

    KPP has no checksum; lowercase Latin letters are upper-cased before the check.
    """
    number = clean_number(value).upper()
    if not _KPP_RE.match(number):
        raise ValidationError(
            _(
                "KPP must have 9 characters: 4 digits, 2 digits or capital Latin letters, "
                "then 3 digits; got %(value)s."
            ),
            code="kpp_format",
            params={"value": number or '""'},
        )
    return number


_KPP_REASONS = ("01", "01", "01", "01", "43", "45", "50")


def generate_kpp(rng: random.Random, inn: str | None = None) -> str:
    """Return a plausible KPP; the tax office code (first 4 digits) is taken from ``inn`` if given."""
    office = clean_number(inn)[:4] if inn else _random_region(rng) + _random_digits(rng, 2)
    if not (len(office) == 4 and _is_digits(office)):
        raise ValueError(f"cannot take a tax office code from INN {inn!r}")
    return office + rng.choice(_KPP_REASONS) + f"{rng.randint(1, 3):03d}"


# --------------------------------------------------------------------------- OGRN


def _ogrn_check_digit(body: str) -> str:
    """Check digit of an OGRN (12-digit body) or OGRNIP (14-digit body)."""
    if len(body) == OGRN_LEGAL_LENGTH - 1:
        return str(int(body) % 11 % 10)
    return str(int(body) % 13 % 10)


def validate_ogrn(value: str, kind: str | None = None) -> str:
    """Validate an OGRN (13 digits, company) or OGRNIP (15 digits, sole trader).

    Check digit: OGRN = first 12 digits mod 11 mod 10; OGRNIP = first 14 digits mod 13 mod 10.
    First digit: an OGRN cannot start with 0; an OGRNIP starts with 3 or 4 (as in python-stdnum).
    ``kind`` (``"legal"`` / ``"person"``) restricts the length; ``None`` accepts both.
    """
    _check_kind(kind)
    number = clean_number(value)
    if not _is_digits(number):
        raise ValidationError(
            _("OGRN must contain digits only; got %(value)s."),
            code="ogrn_not_digits",
            params={"value": number},
        )
    allowed = {
        None: (OGRN_LEGAL_LENGTH, OGRN_PERSON_LENGTH),
        "legal": (OGRN_LEGAL_LENGTH,),
        "person": (OGRN_PERSON_LENGTH,),
    }[kind]
    if len(number) not in allowed:
        messages = {
            None: _("OGRN must have 13 digits (company) or 15 digits (OGRNIP, sole trader); got %(count)s."),
            "legal": _("Company OGRN must have 13 digits; got %(count)s."),
            "person": _("Sole trader OGRNIP must have 15 digits; got %(count)s."),
        }
        raise ValidationError(messages[kind], code="ogrn_length", params={"count": len(number)})
    if len(number) == OGRN_LEGAL_LENGTH and number[0] == "0":
        raise ValidationError(_("OGRN cannot start with 0."), code="ogrn_format")
    if len(number) == OGRN_PERSON_LENGTH and number[0] not in "34":
        raise ValidationError(
            _("OGRNIP must start with 3 or 4; got %(digit)s."),
            code="ogrn_format",
            params={"digit": number[0]},
        )
    if _ogrn_check_digit(number[:-1]) != number[-1]:
        raise ValidationError(_("OGRN checksum does not match: check the digits."), code="ogrn_checksum")
    return number


def generate_ogrn(rng: random.Random, kind: str = "legal") -> str:
    """Return a random OGRN (``"legal"``, 13 digits) or OGRNIP (``"person"``, 15 digits).

    OGRN layout: 1 + year (2) + region (2) + tax office (2) + serial (5) + check digit.
    OGRNIP layout: 3 + year (2) + region (2) + serial (9) + check digit.
    """
    _check_kind(kind)
    year = f"{rng.randint(2, 24):02d}"
    if kind == "legal":
        body = "1" + year + _random_region(rng) + _random_digits(rng, 7)
    else:
        body = "3" + year + _random_region(rng) + _random_digits(rng, 9)
    return body + _ogrn_check_digit(body)


# --------------------------------------------------------------------------- BIK


def validate_bik(value: str) -> str:
    """Validate a BIK of a Russian bank: 9 digits starting with ``04``."""
    number = clean_number(value)
    if not (_is_digits(number) and len(number) == 9):
        raise ValidationError(
            _("BIK must have exactly 9 digits; got %(value)s."),
            code="bik_format",
            params={"value": number or '""'},
        )
    if not number.startswith("04"):
        raise ValidationError(
            _("BIK of a Russian bank must start with 04; got %(value)s."),
            code="bik_format",
            params={"value": number},
        )
    return number


def generate_bik(rng: random.Random) -> str:
    """Return a random well-formed BIK: ``04`` + region (2) + division (2) + bank number (3, >= 050)."""
    return "04" + _random_region(rng) + _random_digits(rng, 2) + f"{rng.randint(50, 999):03d}"


# --------------------------------------------------------------------------- bank accounts


def _account_prefix(bik: str, correspondent: bool) -> str:
    return "0" + bik[4:6] if correspondent else bik[6:9]


def _account_weighted_sum(prefix: str, account: str) -> int:
    digits = prefix + account
    return sum(int(d) * _ACCOUNT_WEIGHTS[i % 3] for i, d in enumerate(digits))


def account_with_key(account: str, bik: str, *, correspondent: bool = False) -> str:
    """Return ``account`` with a correct control key at position 9 (index 8).

    ``account`` is either 20 digits (the digit at index 8 is ignored and replaced) or
    19 digits (the key is inserted at index 8). ``bik`` must be a valid BIK.
    With ``correspondent=True`` the key is computed for a correspondent account.
    Raises ``ValueError`` on malformed input (this is a generator helper, not a validator).
    """
    number = clean_number(account)
    bik = clean_number(bik)
    if not _is_digits(number) or len(number) not in (ACCOUNT_LENGTH - 1, ACCOUNT_LENGTH):
        raise ValueError(f"account must have 19 or 20 digits, got {account!r}")
    if not (_is_digits(bik) and len(bik) == 9):
        raise ValueError(f"BIK must have 9 digits, got {bik!r}")
    if len(number) == ACCOUNT_LENGTH - 1:
        number = number[:ACCOUNT_KEY_INDEX] + "0" + number[ACCOUNT_KEY_INDEX:]
    else:
        number = number[:ACCOUNT_KEY_INDEX] + "0" + number[ACCOUNT_KEY_INDEX + 1 :]
    total = _account_weighted_sum(_account_prefix(bik, correspondent), number)
    # The key sits at index 3 + 8 = 11 of the 23-digit string, weight 3; 3 * 7 = 21 = 1 (mod 10),
    # so the key that makes the weighted sum divisible by 10 is (-total * 7) mod 10 = (total * 3) mod 10.
    key = total * 3 % 10
    return number[:ACCOUNT_KEY_INDEX] + str(key) + number[ACCOUNT_KEY_INDEX + 1 :]


_ACCOUNT_MESSAGES = {
    False: {
        "account_not_digits": _("Settlement account must contain digits only; got %(value)s."),
        "account_length": _("Settlement account must have 20 digits; got %(count)s."),
        "account_needs_bik": _("Settlement account cannot be checked without the bank BIK: fill in the BIK."),
        "account_bad_bik": _("Settlement account cannot be checked: the BIK %(bik)s is not valid."),
        "account_key": _(
            "Settlement account control key does not match the BIK: check the account and the BIK."
        ),
    },
    True: {
        "account_not_digits": _("Correspondent account must contain digits only; got %(value)s."),
        "account_length": _("Correspondent account must have 20 digits; got %(count)s."),
        "account_needs_bik": _(
            "Correspondent account cannot be checked without the bank BIK: fill in the BIK."
        ),
        "account_bad_bik": _("Correspondent account cannot be checked: the BIK %(bik)s is not valid."),
        "account_key": _(
            "Correspondent account control key does not match the BIK: check the account and the BIK."
        ),
    },
}


def _validate_account(account: str, bik: str | None, *, correspondent: bool) -> str:
    messages = _ACCOUNT_MESSAGES[correspondent]
    number = clean_number(account)
    if not _is_digits(number):
        raise ValidationError(
            messages["account_not_digits"], code="account_not_digits", params={"value": number}
        )
    if len(number) != ACCOUNT_LENGTH:
        raise ValidationError(
            messages["account_length"], code="account_length", params={"count": len(number)}
        )
    bik_number = clean_number(bik)
    if not bik_number:
        raise ValidationError(messages["account_needs_bik"], code="account_needs_bik")
    try:
        bik_number = validate_bik(bik_number)
    except ValidationError:
        raise ValidationError(
            messages["account_bad_bik"], code="account_needs_bik", params={"bik": bik_number}
        ) from None
    if _account_weighted_sum(_account_prefix(bik_number, correspondent), number) % 10 != 0:
        raise ValidationError(messages["account_key"], code="account_key")
    return number


def validate_settlement_account(account: str, bik: str | None) -> str:
    """Validate a 20-digit settlement account against the BIK of its bank.

    Control key per the Bank of Russia algorithm: the last 3 digits of the BIK followed by the
    account (23 digits), weights 7, 1, 3 repeated; the weighted sum must be divisible by 10.
    """
    return _validate_account(account, bik, correspondent=False)


def validate_correspondent_account(account: str, bik: str | None) -> str:
    """Validate a 20-digit correspondent account against the BIK of its bank.

    As :func:`validate_settlement_account`, but the 3-digit prefix is ``"0" + bik[4:6]``.
    """
    return _validate_account(account, bik, correspondent=True)


def generate_settlement_account(rng: random.Random, bik: str, balance: str = "40702") -> str:
    """Return a random valid settlement account in roubles (``balance`` + ``810`` + key + 11 digits).

    ``40702`` is a commercial organisation's account, ``40802`` a sole trader's.
    """
    return account_with_key(balance + "810" + _random_digits(rng, 11), bik)


def generate_correspondent_account(rng: random.Random, bik: str) -> str:
    """Return the correspondent account for ``bik``: ``30101810`` + key + ``00000000`` + ``bik[6:9]``.

    ``rng`` is accepted for symmetry with the other generators; the result is deterministic.
    """
    del rng
    bik = clean_number(bik)
    return account_with_key("30101810" + "00000000" + bik[6:9], bik, correspondent=True)


# --------------------------------------------------------------------------- phones

_PHONE_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: _(
        "Phone number %(value)s has an unknown country code."
    ),
    phonenumbers.ValidationResult.TOO_SHORT: _("Phone number %(value)s is too short."),
    phonenumbers.ValidationResult.TOO_LONG: _("Phone number %(value)s is too long."),
    phonenumbers.ValidationResult.INVALID_LENGTH: _("Phone number %(value)s has a wrong number of digits."),
}


# A Russian number as offices write it: digits, spaces, brackets, dashes, maybe a leading "+".
_RU_SPELLING_RE = re.compile(r"\+?[0-9][0-9 ()\-]*")


def _russian_e164(text: str) -> str | None:
    """The E.164 form of a valid Russian number in a usual spelling, without phonenumbers' general parser
    (two thirds of the cost, which an import of 100,000 rows feels); None sends the text the full way."""
    if not _RU_SPELLING_RE.fullmatch(text):
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.startswith("+"):
        national = digits[1:] if len(digits) == 11 and digits[0] == "7" else ""
    elif len(digits) == 11 and digits[0] in "78":
        national = digits[1:]  # the country code, or the trunk prefix 8
    else:
        national = digits if len(digits) == 10 else ""
    if not national or national[0] == "0":
        return None
    number = phonenumbers.PhoneNumber(country_code=7, national_number=int(national))
    return "+7" + national if phonenumbers.is_valid_number(number) else None


def normalize_phone(value: str, region: str = "RU", *, keep_extension: bool = True) -> str:
    """Return the phone number in E.164 form, e.g. ``"+74951234567"``.

    ``8 (495) 123-45-67``, ``+7 495 123 45 67``, ``84951234567`` and ``4951234567`` are all
    ``+74951234567`` (numbers without ``+`` are read as national numbers of ``region``).

    Extensions (``доб. 123``, ``ext 123``, ``x123``) are KEPT by default in the RFC 3966 form
    ``+74951234567;ext=123``: office numbers with an extension are common and the extension is
    needed to call. Pass ``keep_extension=False`` to drop it (pure E.164, e.g. for matching).
    :func:`format_phone` understands both forms.

    Raises ``ValidationError(code="phone_invalid")`` with a message naming the reason.
    """
    text = _as_text(value).strip()
    if region == "RU":
        shortcut = _russian_e164(text)
        if shortcut is not None:
            return shortcut
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            _("Phone number %(value)s is not a phone number."),
            code="phone_invalid",
            params={"value": text or '""'},
        ) from None
    if not phonenumbers.is_valid_number(number):
        reason = phonenumbers.is_possible_number_with_reason(number)
        message = _PHONE_REASONS.get(
            reason, _("Phone number %(value)s does not exist in the numbering plan of its country.")
        )
        raise ValidationError(message, code="phone_invalid", params={"value": text})
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if keep_extension and number.extension:
        return f"{e164};ext={number.extension}"
    return e164


def format_phone(e164: str) -> str:
    """Return the display form of a normalised phone: ``"+7 495 123-45-67"``.

    An extension (``;ext=123``) is shown as ``"+7 495 123-45-67 доб. 123"``. A value that cannot
    be parsed is returned unchanged (this is a display helper: it never raises).
    """
    text = _as_text(e164).strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return text
    extension = number.extension
    number.extension = None
    shown = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return f"{shown} доб. {extension}" if extension else shown
