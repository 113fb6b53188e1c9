"""What an uploaded file really is, and the name it is shown and downloaded under (D12, R4).

The type is decided by the bytes, never by the name or by what the browser claims: a renamed ``.exe`` is
refused whatever it is called, and HTML or SVG (which a browser would run) never gets in. Accepted: PDF;
Office Open XML (docx, xlsx, pptx — a zip with ``[Content_Types].xml``, without macros); OpenDocument (odt,
ods, odp, odg — a zip whose ``mimetype`` entry says so); legacy Microsoft Office (doc, xls, ppt — an OLE2
compound file with a Word, Excel or PowerPoint stream); RTF; PNG, JPEG, GIF, WEBP and TIFF images.

Names are for people only (the storage name is random, see ``models.version_upload_to``): any path is dropped
(``/`` and ``\\``), control and format characters (NUL, the right-to-left override) go, leading dots and
characters Windows forbids too, a reserved Windows name (``CON``, ``LPT1`` …) gets a leading ``_``, runs of
whitespace become one space; Cyrillic, «», № stay. The name is at most 255 characters and 255 UTF-8 bytes,
shortened before its extension. When the name's extension does not fit the detected type, the type's own
extension is put in its place (or added), so that the downloaded file opens in the right program.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

CHUNK = 64 * 1024
HEAD_BYTES = 64 * 1024
NAME_MAX_CHARS = 255
NAME_MAX_BYTES = 255
# How much of a zip member we read to tell the kind of an office package (never the whole member).
ZIP_MEMBER_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    code: str
    content_type: str
    # The first is the one added to a name that lacks a fitting extension.
    extensions: tuple[str, ...]


KINDS: dict[str, FileKind] = {
    kind.code: kind
    for kind in (
        FileKind("pdf", "application/pdf", ("pdf",)),
        FileKind(
            "docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ("docx", "dotx"),
        ),
        FileKind(
            "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx", "xltx")
        ),
        FileKind(
            "pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ("pptx", "ppsx", "potx"),
        ),
        FileKind("odt", "application/vnd.oasis.opendocument.text", ("odt",)),
        FileKind("ods", "application/vnd.oasis.opendocument.spreadsheet", ("ods",)),
        FileKind("odp", "application/vnd.oasis.opendocument.presentation", ("odp",)),
        FileKind("odg", "application/vnd.oasis.opendocument.graphics", ("odg",)),
        FileKind("doc", "application/msword", ("doc", "dot")),
        FileKind("xls", "application/vnd.ms-excel", ("xls", "xlt")),
        FileKind("ppt", "application/vnd.ms-powerpoint", ("ppt", "pps", "pot")),
        FileKind("rtf", "application/rtf", ("rtf",)),
        FileKind("png", "image/png", ("png",)),
        FileKind("jpeg", "image/jpeg", ("jpg", "jpeg", "jpe")),
        FileKind("gif", "image/gif", ("gif",)),
        FileKind("webp", "image/webp", ("webp",)),
        FileKind("tiff", "image/tiff", ("tif", "tiff")),
    )
}
CONTENT_TYPES = tuple(dict.fromkeys(kind.content_type for kind in KINDS.values()))

# Extensions that are replaced rather than kept when they do not fit the content (``scan.pdf`` that is a JPEG
# becomes ``scan.jpg``); any other suffix is part of the name (``от 01.02.2026`` gets ``.pdf`` added).
_KNOWN_EXTENSIONS = frozenset(
    {ext for kind in KINDS.values() for ext in kind.extensions}
    | {
        "docm", "dotm", "xlsm", "xltm", "xlsb", "pptm", "ppsm", "potm", "exe", "com", "bat", "cmd", "scr",
        "msi", "dll", "js", "vbs", "ps1", "sh", "jar", "htm", "html", "xhtml", "svg", "svgz", "xml", "txt",
        "csv", "zip", "rar", "7z", "gz", "tar", "bmp", "heic", "djvu", "eml", "msg", "lnk", "hta", "php",
    }
)  # fmt: skip

_OOXML_MAIN = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml": "pptx",
    "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml": "pptx",
}
_OOXML_PARTS = {"word/document.xml": "docx", "xl/workbook.xml": "xlsx", "ppt/presentation.xml": "pptx"}
_ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": "odt",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.oasis.opendocument.presentation": "odp",
    "application/vnd.oasis.opendocument.graphics": "odg",
}
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Stream names in the compound file's directory (UTF-16LE), by the kind they make.
_OLE2_STREAMS = (
    ("WordDocument".encode("utf-16-le"), "doc"),
    ("Workbook".encode("utf-16-le"), "xls"),
    ("Book".encode("utf-16-le") + b"\x00\x00", "xls"),
    ("PowerPoint Document".encode("utf-16-le"), "ppt"),
)
_OLE2_OVERLAP = max(len(pattern) for pattern, _kind in _OLE2_STREAMS)

UNSUPPORTED = _(
    "This kind of file is not accepted. Upload a PDF, an office document (Word, Excel, PowerPoint, "
    "OpenDocument, RTF) or an image (PNG, JPEG, GIF, WEBP, TIFF); the type is checked by the file's content, "
    "not by its name."
)
MACROS = _(
    "Office documents with macros are not accepted: save it as an ordinary document (.docx, .xlsx, .pptx)."
)


class Refused(ValidationError):
    """The file itself is refused (empty, too large, of a kind not accepted); ``code`` says which."""


@dataclass(frozen=True)
class Inspection:
    kind: FileKind
    size: int
    sha256: str


def _magic_kind(head: bytes) -> str | None:
    """The kind the first bytes say, ``zip`` or ``ole2`` when the container must be opened to tell."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(OLE2_MAGIC):
        return "ole2"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    return None


def _zip_kind(file: IO[bytes]) -> str:
    """An OOXML or ODF package's kind; Refused for any other zip, a broken one or one with macros."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    mimetype = member.read(200).decode("ascii", "replace").strip()
                kind = _ODF_TYPES.get(mimetype)
                if kind is None:
                    raise Refused(UNSUPPORTED, code="unsupported_type")
                return kind
            if "[Content_Types].xml" in names:
                if any(name.lower().endswith("vbaproject.bin") for name in names):
                    raise Refused(MACROS, code="macros")
                with archive.open("[Content_Types].xml") as member:
                    types = member.read(ZIP_MEMBER_LIMIT).decode("utf-8", "replace")
                if "macroEnabled" in types:
                    raise Refused(MACROS, code="macros")
                for content_type, kind in _OOXML_MAIN.items():
                    if content_type in types:
                        return kind
                for part, kind in _OOXML_PARTS.items():
                    if part in names:
                        return kind
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError, RuntimeError):
        pass
    raise Refused(UNSUPPORTED, code="unsupported_type")


def inspect_file(file: IO[bytes], *, max_bytes: int) -> Inspection:
    """Read ``file`` once from the start: its size, SHA-256 and kind (by content). Refused when it is empty,
    larger than ``max_bytes`` or of a kind not accepted. The file is left at its start."""
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    head = b""
    ole2_found: str | None = None
    tail = b""
    while True:
        chunk = file.read(CHUNK)
        if not chunk:
            break
        size += len(chunk)
        if size > max_bytes:
            raise Refused(
                _("The file is larger than %(limit)s, the largest accepted.")
                % {"limit": filesizeformat(max_bytes)},
                code="too_large",
            )
        digest.update(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[: HEAD_BYTES - len(head)]
        if head.startswith(OLE2_MAGIC) and ole2_found is None:
            window = tail + chunk
            for pattern, kind in _OLE2_STREAMS:
                if pattern in window:
                    ole2_found = kind
                    break
            tail = window[-_OLE2_OVERLAP:]
    if size == 0:
        raise Refused(_("The file is empty."), code="empty")
    code = _magic_kind(head)
    if code == "zip":
        code = _zip_kind(file)
    elif code == "ole2":
        code = ole2_found
    file.seek(0)
    if code is None:
        raise Refused(UNSUPPORTED, code="unsupported_type")
    return Inspection(kind=KINDS[code], size=size, sha256=digest.hexdigest())


# Names ------------------------------------------------------------------------------------------------------

_WINDOWS_FORBIDDEN = re.compile(r'[<>:"|?*]')
_WINDOWS_RESERVED = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}
    | {"com¹", "com²", "com³", "lpt¹", "lpt²", "lpt³", "conin$", "conout$"}
)


def _clean_text(value: Any) -> str:
    text = unicodedata.normalize("NFC", str(value or ""))
    # Control characters (NUL, newlines, tabs) and invisible format ones (the right-to-left override that
    # makes «exe.pdf» of «fdp.exe»): a space where they stood, so words do not run together.
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)
    return " ".join(text.split())


def _split(name: str) -> tuple[str, str]:
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or not ext:
        return name, ""
    return stem, ext


def _fit(stem: str, ext: str) -> str:
    """``stem.ext`` within 255 characters and 255 UTF-8 bytes, shortening the stem only."""
    suffix = f".{ext}" if ext else ""
    while stem and (
        len(stem) + len(suffix) > NAME_MAX_CHARS or len((stem + suffix).encode("utf-8")) > NAME_MAX_BYTES
    ):
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix


def clean_display_name(value: Any) -> str:
    """A name safe to show and to save on any computer, Windows included; "" when nothing is left."""
    text = _clean_text(value).replace("\\", "/")
    text = text.rsplit("/", 1)[-1]
    text = _WINDOWS_FORBIDDEN.sub("_", text)
    text = " ".join(text.split()).lstrip(". ").rstrip(". ")
    if not text:
        return ""
    first = text.split(".", 1)[0].strip().lower()
    if first in _WINDOWS_RESERVED:
        text = f"_{text}"
    stem, ext = _split(text)
    if len(ext) > 16:  # not an extension: part of the name
        stem, ext = text, ""
    return _fit(stem, ext)


def file_name_for(value: Any, kind: FileKind, fallback: str) -> str:
    """The uploaded ``value`` as a clean name whose extension fits ``kind``: kept when it fits, replaced when
    it is another known one, added otherwise. ``fallback`` names a file whose name is empty after cleaning."""
    name = clean_display_name(value) or clean_display_name(fallback) or "document"
    stem, ext = _split(name)
    if ext.lower() in kind.extensions:
        return _fit(stem, ext)
    if ext.lower() in _KNOWN_EXTENSIONS:
        return _fit(stem, kind.extensions[0])
    return _fit(name, kind.extensions[0])
