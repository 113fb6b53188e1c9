import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _english(settings):
    """The finance tests read messages in English (the msgids); Russian is checked by the translation tests
    and the browser journeys."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
