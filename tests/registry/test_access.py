import pytest

from registry.access import Action, can, can_see_identifiers, patients_for
from registry.choices import Role

from .factories import make_data_manager, make_patient, make_site, make_user

pytestmark = pytest.mark.django_db


def test_a_data_manager_sees_only_the_patients_of_their_site():
    nantong, other = make_site("NT"), make_site("SH", "Shanghai")
    mine, theirs = make_patient(nantong), make_patient(other)

    visible = set(patients_for(make_data_manager(nantong)))

    assert mine in visible
    assert theirs not in visible


def test_a_user_without_membership_sees_nothing():
    make_patient(make_site())

    assert not patients_for(make_user("nobody")).exists()


def test_a_registry_investigator_sees_every_site_but_no_identifiers():
    nantong, other = make_site("NT"), make_site("SH", "Shanghai")
    make_patient(nantong), make_patient(other)
    investigator = make_user("inv", Role.REGISTRY_INVESTIGATOR, None)

    assert patients_for(investigator).count() == 2
    assert not can_see_identifiers(investigator, nantong)
    assert not can(investigator, Action.CHANGE, nantong)


def test_a_site_member_sees_their_own_identifiers_only():
    nantong, other = make_site("NT"), make_site("SH", "Shanghai")
    manager = make_data_manager(nantong)

    assert can_see_identifiers(manager, nantong)
    assert not can_see_identifiers(manager, other)
