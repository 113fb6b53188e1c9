"""Text normalisation for search and company-name matching.

All functions are pure and tolerate ``None`` (treated as an empty string).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["LEGAL_FORMS", "fold", "normalize_company_name", "search_digits", "split_legal_form"]

_WHITESPACE_RE = re.compile(r"\s+")
_NON_DIGITS_RE = re.compile(r"[^0-9]+")
# After quotes are gone, everything that is not a letter, a digit or a hyphen separates words;
# hyphens are turned into spaces only after legal forms are removed, so "ПК-Мастер" keeps "пк".
_NON_WORD_RE = re.compile(r"[^\w\-\u2010-\u2015]+|_+")
_HYPHENS_RE = re.compile(r"[\-\u2010-\u2015]+")
_QUOTES = "«»\"“”„‟‘’‚‛'`´‹›〝〞＂＇"
_QUOTES_RE = re.compile("[" + re.escape(_QUOTES) + "]")

# Legal form spellings (folded, words separated by one space) -> canonical short code.
# One-word Cyrillic codes also match their Latin look-alikes ("OOO", "AO", mixed "OОО").
LEGAL_FORMS: dict[str, str] = {
    "общество с ограниченной ответственностью": "ООО",
    "публичное акционерное общество": "ПАО",
    "непубличное акционерное общество": "НАО",
    "закрытое акционерное общество": "ЗАО",
    "открытое акционерное общество": "ОАО",
    "акционерное общество": "АО",
    "индивидуальный предприниматель": "ИП",
    "некоммерческая организация": "НКО",
    "федеральное государственное унитарное предприятие": "ФГУП",
    "государственное унитарное предприятие": "ГУП",
    "муниципальное унитарное предприятие": "МУП",
    "производственный кооператив": "ПК",
    "limited liability company": "LLC",
    "joint stock company": "JSC",
    "ооо": "ООО",
    "оао": "ОАО",
    "зао": "ЗАО",
    "пао": "ПАО",
    "нао": "НАО",
    "ао": "АО",
    "ип": "ИП",
    "пк": "ПК",
    "нко": "НКО",
    "гуп": "ГУП",
    "муп": "МУП",
    "фгуп": "ФГУП",
    "llc": "LLC",
    "ltd": "LTD",
    "jsc": "JSC",
    "inc": "INC",
    "gmbh": "GMBH",
}

# Latin letters that look like Cyrillic ones, so that "OOO" or "OОО" (mixed) is recognised.
_LOOKALIKES = str.maketrans({"o": "о", "a": "а", "e": "е", "p": "р", "c": "с", "k": "к", "x": "х"})
_LATIN_FOR = {cyrillic: chr(latin) for latin, cyrillic in _LOOKALIKES.items()}


def _form_pattern(spelling: str) -> str:
    """Regex for a folded spelling: words split by any whitespace; a one-word Cyrillic code
    also matches Latin look-alike letters."""
    words = spelling.split(" ")
    if len(words) > 1:
        return r"\s+".join(re.escape(w) for w in words)
    return "".join(f"[{ch}{_LATIN_FOR[ch]}]" if ch in _LATIN_FOR else re.escape(ch) for ch in spelling)


def _canonical(found: str) -> str:
    key = fold(found)
    return LEGAL_FORMS.get(key) or LEGAL_FORMS[key.translate(_LOOKALIKES)]


_FORMS_ALTERNATION = "|".join(_form_pattern(s) for s in sorted(LEGAL_FORMS, key=len, reverse=True))
_Q = re.escape(_QUOTES)
# In a folded, punctuation-free string: a legal form as whole word(s) anywhere.
_FORM_ANYWHERE_RE = re.compile(rf"(?<!\S)(?:{_FORMS_ALTERNATION})(?!\S)")
# In the original string: a legal form at the start, followed by a space, comma, quote or the end
# ("ПК-Мастер" is a name, not ПК + "Мастер") ...
_FORM_FRONT_RE = re.compile(rf"^\s*(?P<form>{_FORMS_ALTERNATION})\.?(?=[\s,;:{_Q}]|$)", re.IGNORECASE)
# ... or at the end, preceded by a space, comma or quote, optionally in parentheses: "Банк ВТБ (ПАО)".
_FORM_BACK_RE = re.compile(
    rf"(?:(?<=[\s,;:{_Q}])|^)(?:\((?P<paren>{_FORMS_ALTERNATION})\.?\)|(?P<form>{_FORMS_ALTERNATION})\.?)\s*$",
    re.IGNORECASE,
)
_EDGE_SEPARATORS = " \t\r\n\u00a0,;:-–—"


def fold(value: str | None) -> str:
    """Fold text for comparison: NFC, casefold, ``ё`` -> ``е``, collapse whitespace, strip.

    ``fold("ООО «РОМАШКА»") == "ооо «ромашка»"``, so it contains ``fold("Ромашка")``.
    """
    if not value:
        return ""
    text = unicodedata.normalize("NFC", value).casefold().replace("ё", "е")
    return _WHITESPACE_RE.sub(" ", text).strip()


def normalize_company_name(value: str | None) -> str:
    """Return a company name reduced to its distinctive words, for matching duplicates.

    Folds (see :func:`fold`), removes quotes of every kind, turns any other punctuation into a
    space, removes legal forms (ООО, АО, ПАО, ИП, LLC, "общество с ограниченной
    ответственностью", ... see :data:`LEGAL_FORMS`) as whole words wherever they occur (a word
    joined by a hyphen, as in "ПК-Мастер", is not a legal form), then turns hyphens into spaces
    and collapses spaces. ``normalize_company_name('ООО "Ромашка"') == 'ромашка'``.

    If nothing but legal forms is left (a name like "ООО"), the name without punctuation is
    returned instead of an empty string.
    """
    text = _WHITESPACE_RE.sub(" ", _NON_WORD_RE.sub(" ", _QUOTES_RE.sub("", fold(value)))).strip()
    without_forms = _FORM_ANYWHERE_RE.sub(" ", text)
    without_forms = _WHITESPACE_RE.sub(" ", _HYPHENS_RE.sub(" ", without_forms)).strip()
    return without_forms or _WHITESPACE_RE.sub(" ", _HYPHENS_RE.sub(" ", text)).strip()


def split_legal_form(value: str | None) -> tuple[str | None, str]:
    """Split a legal form written in front of or behind a company name.

    Returns ``(canonical short code or None, the rest)``; the rest keeps its quotes and case,
    with the separating comma/spaces removed::

        split_legal_form("ООО «Ромашка»")  == ("ООО", "«Ромашка»")
        split_legal_form("«Ромашка», ООО") == ("ООО", "«Ромашка»")
        split_legal_form("Ромашка")        == (None, "Ромашка")

    A form in front wins over one behind; a form in the middle is not detected.
    """
    text = (value or "").strip()
    match = _FORM_FRONT_RE.match(text)
    if match:
        return _canonical(match["form"]), text[match.end() :].strip(_EDGE_SEPARATORS)
    match = _FORM_BACK_RE.search(text)
    if match:
        return _canonical(match["paren"] or match["form"]), text[: match.start()].strip(_EDGE_SEPARATORS)
    return None, text


def search_digits(value: str | None) -> str:
    """Return only the ASCII digits of ``value``: ``search_digits("+7 (495) 123-45-67") == "74951234567"``."""
    if not value:
        return ""
    return _NON_DIGITS_RE.sub("", value)
