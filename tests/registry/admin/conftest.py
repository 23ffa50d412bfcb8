import pytest

from registry.choices import Role
from tests.registry.factories import make_data_manager, make_patient, make_site, make_user


@pytest.fixture
def nantong(db):
    return make_site("NT")


@pytest.fixture
def shanghai(db):
    return make_site("SH", "Shanghai Liver Centre")


@pytest.fixture
def manager(nantong):
    return make_data_manager(nantong)


@pytest.fixture
def monitor(nantong):
    return make_user("monitor-nt", Role.MONITOR, nantong, is_staff=True)


@pytest.fixture
def patient(nantong, manager):
    return make_patient(nantong, user=manager)


@pytest.fixture
def other_patient(shanghai):
    return make_patient(shanghai, site_patient_ref="SH-SECRET-1")


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def change_url(obj) -> str:
    return f"/admin/registry/{obj._meta.model_name}/{obj.pk}/change/"
