import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english(settings):
    """The access tests read messages in English (the msgids); Russian is checked by the translation tests."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
