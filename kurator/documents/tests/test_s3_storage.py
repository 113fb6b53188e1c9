"""D12 in production: documents kept in an S3-compatible bucket behave as on the local disk — uploads and new
versions land in the bucket under random names, downloads go through the authorised view with the SHA-256
checked (a changed or lost object is refused, never served), objects stay private, a purge deletes them, and a
backup taken from one bucket restores into an empty one byte for byte.

The bucket is a real S3 endpoint over HTTP (moto's server, in a thread of the test process; a restore in a new
process reaches it by the same address), configured exactly as production is: from the ``KURATOR_S3_*``
environment variables."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html import unescape
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from moto.server import ThreadedMotoServer

from kurator.access.models import AuditEvent
from kurator.core.storage import FILESYSTEM, S3, default_storage_config
from kurator.core.tests.backup_data import dossier_with_documents, empty_target, manifest_of, source_counts
from kurator.documents import services
from kurator.documents.models import Document, DocumentVersion
from kurator.documents.tests.factories import PDF, document_factory, upload

PREFIX = "kurator/media"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@dataclass
class Bucket:
    name: str
    client: Any
    environ: dict[str, str]

    def keys(self) -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.name, Key=key)["Body"].read())


def new_bucket(endpoint: str) -> Bucket:
    name = f"kurator-{uuid.uuid4().hex[:12]}"
    environ = {
        "KURATOR_S3_BUCKET": name,
        "KURATOR_S3_ENDPOINT_URL": endpoint,
        "KURATOR_S3_REGION": "us-east-1",
        "KURATOR_S3_ACCESS_KEY_ID": "kurator-test",
        "KURATOR_S3_SECRET_ACCESS_KEY": "kurator-test-secret",
        "KURATOR_S3_PREFIX": f"/{PREFIX}/",
        "KURATOR_S3_ADDRESSING_STYLE": "path",
    }
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="kurator-test",
        aws_secret_access_key="kurator-test-secret",
    )
    client.create_bucket(Bucket=name)
    return Bucket(name, client, environ)


@pytest.fixture
def bucket(s3_endpoint, settings) -> Bucket:
    """Kurator's default storage is this new, empty bucket, configured from the environment."""
    made = new_bucket(s3_endpoint)
    settings.STORAGES = {**settings.STORAGES, "default": default_storage_config(made.environ)}
    return made


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- configuration -----------------------------------------------------------------------------------------


def test_without_a_bucket_documents_stay_on_the_local_disk() -> None:
    assert default_storage_config({}) == {"BACKEND": FILESYSTEM}
    assert default_storage_config({"KURATOR_S3_BUCKET": "  "}) == {"BACKEND": FILESYSTEM}


def test_a_bucket_from_the_environment() -> None:
    """Names are never reused (a version cannot replace another's bytes) and objects are private."""
    config = default_storage_config(
        {
            "KURATOR_S3_BUCKET": "kurator-docs",
            "KURATOR_S3_ENDPOINT_URL": "https://storage.yandexcloud.net",
            "KURATOR_S3_REGION": "ru-central1",
            "KURATOR_S3_PREFIX": "/prod/",
        }
    )
    assert config["BACKEND"] == S3
    options = config["OPTIONS"]
    assert options["bucket_name"] == "kurator-docs"
    assert options["endpoint_url"] == "https://storage.yandexcloud.net"
    assert options["region_name"] == "ru-central1"
    assert options["location"] == "prod"
    assert options["file_overwrite"] is False
    assert options["default_acl"] is None
    # No keys given: boto3's own chain (AWS_* variables, ~/.aws, an instance role) finds them.
    assert options["access_key"] is None and options["secret_key"] is None


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"KURATOR_S3_ACCESS_KEY_ID": "AKIA"}, "KURATOR_S3_SECRET_ACCESS_KEY"),
        ({"KURATOR_S3_SECRET_ACCESS_KEY": "secret"}, "KURATOR_S3_ACCESS_KEY_ID"),
        ({"KURATOR_S3_ADDRESSING_STYLE": "sideways"}, "KURATOR_S3_ADDRESSING_STYLE"),
    ],
)
def test_a_half_configured_bucket_stops_the_start(environ, named) -> None:
    with pytest.raises(ImproperlyConfigured, match=named):
        default_storage_config({"KURATOR_S3_BUCKET": "kurator-docs", **environ})


# --- documents in the bucket -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_uploads_and_versions_land_in_the_bucket_and_download_byte_identical(
    bucket, manager, company
) -> None:
    """D12: each version is its own private object under a random name; the download is the checked bytes."""
    document = document_factory(actor=manager, company=company, file=upload("Договор №12.pdf"))
    second = PDF.replace(b"%%EOF", b"% signed\n%%EOF")
    services.document_add_version(
        actor=manager, document=document, file=upload("Договор (подписан).pdf", second)
    )

    versions = list(DocumentVersion.objects.filter(document=document).order_by("number"))
    keys = [f"{PREFIX}/{version.file.name}" for version in versions]
    assert bucket.keys() == sorted(keys)
    assert [bucket.read(key) for key in keys] == [PDF, second]
    assert all("Договор" not in key for key in keys)  # the uploaded name never reaches the storage
    for key in keys:
        grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
        assert not any("AllUsers" in str(g.get("Grantee", {}).get("URI", "")) for g in grants)

    client = login(manager)
    latest = client.get(reverse("documents:download", args=[document.pk]))
    assert latest.status_code == 200 and latest.getvalue() == second
    first = client.get(reverse("documents:download_version", args=[document.pk, 1]))
    assert first.status_code == 200 and first.getvalue() == PDF
    assert not latest.has_header("Location")  # served by Kurator, never a redirect to the bucket
    assert AuditEvent.objects.filter(action="download", allowed=True).count() == 2


@pytest.mark.django_db
def test_a_changed_object_in_the_bucket_is_refused_and_logged(bucket, manager, company) -> None:
    """D12: someone with bucket access rewrites the object; the download is refused with 409, never served."""
    document = document_factory(actor=manager, company=company)
    key = f"{PREFIX}/{document.versions.get().file.name}"
    bucket.client.put_object(Bucket=bucket.name, Key=key, Body=b"%PDF-1.4 tampered")
    response = login(manager).get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 409
    assert "does not match its checksum" in unescape(response.content.decode())
    event = AuditEvent.objects.get(action="download")
    assert not event.allowed and event.detail == "checksum mismatch"


@pytest.mark.django_db
def test_a_lost_object_is_a_clear_message(bucket, manager, company) -> None:
    document = document_factory(actor=manager, company=company)
    bucket.client.delete_object(Bucket=bucket.name, Key=f"{PREFIX}/{document.versions.get().file.name}")
    response = login(manager).get(reverse("documents:download", args=[document.pk]))
    assert response.status_code == 409
    assert "stored file of this document is missing" in unescape(response.content.decode())


@pytest.mark.django_db
def test_a_purge_deletes_the_objects_after_the_commit(
    bucket, manager, admin_user, company, django_capture_on_commit_callbacks
) -> None:
    """D12: the one hard delete removes every version's object; the other document's stays."""
    document = document_factory(actor=manager, company=company)
    services.document_add_version(actor=manager, document=document, file=upload())
    other = document_factory(actor=manager, company=company)
    services.document_trash(actor=manager, document=document, reason="дубль")
    Document.objects.filter(pk=document.pk).update(trashed_at=timezone.now() - timedelta(days=400))
    document.refresh_from_db()
    assert len(bucket.keys()) == 3
    with django_capture_on_commit_callbacks(execute=True):
        services.document_purge(actor=admin_user, document=document)
    assert bucket.keys() == [f"{PREFIX}/{other.versions.get().file.name}"]


# --- backup and restore ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_backup_of_a_bucket_restores_into_an_empty_bucket(
    s3_endpoint, bucket, manager, head, tmp_path
) -> None:
    """D12: ``manage.py backup`` reads every object through the storage API; ``manage.py restore`` in a new
    process, configured for another, empty bucket and a new database, writes them back byte for byte."""
    dossier = dossier_with_documents(manager=manager, head=head)
    assert len(bucket.keys()) == len(dossier.files)
    archive = tmp_path / "out" / "kurator.tar.gz"
    call_command("backup", "--output", str(archive), verbosity=0)
    manifest = manifest_of(archive)
    assert {item["name"] for item in manifest["files"]} == set(dossier.files)
    assert manifest["storage"].startswith("S3Storage")

    before = source_counts()
    empty = new_bucket(s3_endpoint)
    with empty_target(tmp_path) as target:
        done = target.manage("restore", str(archive), "--yes", environ=empty.environ)
        assert done.returncode == 0, done.stderr
        with target.cursor() as cursor:
            cursor.execute("SELECT file, sha256 FROM documents_documentversion ORDER BY id")
            restored = [tuple(row) for row in cursor.fetchall()]
    assert empty.keys() == sorted(f"{PREFIX}/{name}" for name in dossier.files)
    for name, data in dossier.files.items():
        assert empty.read(f"{PREFIX}/{name}") == data
    assert restored == [(v.file.name, v.sha256) for v in DocumentVersion.objects.order_by("id")]
    assert all(hashlib.sha256(empty.read(f"{PREFIX}/{name}")).hexdigest() == sha for name, sha in restored)
    assert before["documents.DocumentVersion"] == len(restored)
    assert not Path(target.media).exists()  # nothing went to a local folder
    assert default_storage.exists(next(iter(dossier.files)))  # the source bucket is untouched
