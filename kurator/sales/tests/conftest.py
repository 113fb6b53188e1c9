import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english(settings):
    """The pipeline's tests read messages in English (the msgids); Russian is checked by the translation
    tests and the browser journey."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
