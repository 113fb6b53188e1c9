import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english_and_own_media(settings, tmp_path):
    """The documents tests read messages in English (the msgids) and store files under a temporary MEDIA_ROOT,
    so that nothing is left in var/."""
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with translation.override("en"):
        yield
