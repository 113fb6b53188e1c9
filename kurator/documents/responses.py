"""The HTTP answer that carries a document's bytes, shared by the download page and the API (D12, R4).

Always an attachment (never shown inline, so a file cannot run in Kurator's origin), with the type Kurator
detected when the file was uploaded — not the uploader's claim — and ``nosniff``, a sandboxing CSP, and
``Cache-Control: private, no-store`` so that no proxy or shared browser cache keeps a copy. The name is given
twice (RFC 6266/5987): ``filename*`` in UTF-8 for Cyrillic names, and a plain ASCII ``filename`` for old
clients.
"""

from __future__ import annotations

import re
from typing import IO
from urllib.parse import quote

from django.http import FileResponse

from kurator.documents.models import DocumentVersion

_QUOTABLE = re.compile(r"^[\x20-\x7e]*$")


def content_disposition(name: str, fallback: str) -> str:
    """``attachment; filename="…"; filename*=UTF-8''…`` for ``name``; ``fallback`` is the ASCII name used
    when ``name`` is not plain ASCII."""
    ascii_name = name if _QUOTABLE.match(name) else fallback
    ascii_name = ascii_name.replace("\\", "_").replace('"', "'")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_response(handle: IO[bytes], version: DocumentVersion) -> FileResponse:
    response = FileResponse(handle, content_type=version.content_type)
    ext = version.original_name.rpartition(".")[2] if "." in version.original_name else "bin"
    fallback = f"document-{version.document_id}-v{version.number}.{ext if _QUOTABLE.match(ext) else 'bin'}"
    response["Content-Disposition"] = content_disposition(version.original_name, fallback)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
