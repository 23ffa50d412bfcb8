import pytest

from ..factories import make_data_manager, make_site


@pytest.fixture
def site(db):
    return make_site("NT", "Nantong Tumor Hospital")


@pytest.fixture
def manager(site):
    return make_data_manager(site)
