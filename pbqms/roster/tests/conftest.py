import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _site_language():
    """The site's default language, whatever an earlier test left active."""
    with translation.override("zh-hans"):
        yield
