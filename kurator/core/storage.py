"""Where stored files (documents, imported lists) live: the local disk by default, an S3-compatible bucket
(Amazon S3, Yandex Object Storage, VK Cloud, Selectel, MinIO) when ``KURATOR_S3_BUCKET`` is set.

Read from the environment by the settings. Files are never served from the bucket: a download always goes
through Kurator's authorised view, which checks the clearance and the SHA-256 first, so the objects stay
private and no public or signed address is ever handed out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured

FILESYSTEM = "django.core.files.storage.FileSystemStorage"
S3 = "storages.backends.s3.S3Storage"
ADDRESSING_STYLES = ("auto", "path", "virtual")


def default_storage_config(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``STORAGES["default"]`` entry the environment asks for."""
    bucket = environ.get("KURATOR_S3_BUCKET", "").strip()
    if not bucket:
        return {"BACKEND": FILESYSTEM}
    style = environ.get("KURATOR_S3_ADDRESSING_STYLE", "").strip() or None
    if style is not None and style not in ADDRESSING_STYLES:
        raise ImproperlyConfigured(
            f"KURATOR_S3_ADDRESSING_STYLE={style!r}: expected one of {', '.join(ADDRESSING_STYLES)}."
        )
    access_key = environ.get("KURATOR_S3_ACCESS_KEY_ID", "").strip()
    secret_key = environ.get("KURATOR_S3_SECRET_ACCESS_KEY", "").strip()
    if bool(access_key) != bool(secret_key):
        raise ImproperlyConfigured(
            "KURATOR_S3_ACCESS_KEY_ID and KURATOR_S3_SECRET_ACCESS_KEY go together: set both, or neither to "
            "use boto3's own chain (AWS_* variables, ~/.aws, an instance role)."
        )
    return {
        "BACKEND": S3,
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": environ.get("KURATOR_S3_ENDPOINT_URL", "").strip() or None,
            "region_name": environ.get("KURATOR_S3_REGION", "").strip() or None,
            "access_key": access_key or None,
            "secret_key": secret_key or None,
            "location": environ.get("KURATOR_S3_PREFIX", "").strip().strip("/"),
            "addressing_style": style,
            # A stored name is never reused: a version's bytes must not replace another's (D12).
            "file_overwrite": False,
            # Private objects: downloads go through the authorised view, never a bucket address.
            "default_acl": None,
            "querystring_auth": True,
        },
    }
