"""Issue 17 item 7: login throttling (django-axes) on /admin/login/ and the API token endpoint,
API throttle rates, and API tokens that expire and can be revoked by their owner and admins."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from registry.choices import Role
from tests.registry.factories import make_data_manager, make_site, make_user

pytestmark = pytest.mark.django_db
PASSWORD = "pw-123456789"  # tests.registry.factories.make_user


@pytest.fixture
def manager():
    return make_data_manager(make_site("NT"))


def admin_login(client, username: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def test_the_admin_login_locks_a_username_out_after_the_failure_limit(client, manager):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert admin_login(client, manager.username, "wrong").status_code == 200
    assert admin_login(client, manager.username, "wrong").status_code == 429

    locked = admin_login(client, manager.username, PASSWORD)

    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert AccessAttempt.objects.filter(username=manager.username).exists()


def test_a_success_before_the_limit_resets_the_count(client, manager):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        admin_login(client, manager.username, "wrong")

    assert admin_login(client, manager.username, PASSWORD).status_code == 302
    client.logout()
    assert admin_login(client, manager.username, "wrong").status_code == 200


def test_the_api_token_endpoint_shares_the_lockout(manager):
    api = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        refused = api.post("/api/v1/auth/token/", {"username": manager.username, "password": "x"})
        assert refused.status_code == 400
    api.post("/api/v1/auth/token/", {"username": manager.username, "password": "x"})

    locked = api.post("/api/v1/auth/token/", {"username": manager.username, "password": PASSWORD})

    assert locked.status_code == 429
    assert "locked" in locked.json()["detail"]
    assert not Token.objects.filter(user=manager).exists()


def test_the_token_endpoint_is_throttled_per_address(manager, monkeypatch):
    from rest_framework.throttling import ScopedRateThrottle

    rates = {**ScopedRateThrottle.THROTTLE_RATES, "token": "3/minute"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    api = APIClient()

    codes = [
        api.post("/api/v1/auth/token/", {"username": f"nobody{i}", "password": "x"}).status_code
        for i in range(5)
    ]

    assert codes == [400, 400, 400, 429, 429]


def test_anonymous_and_signed_in_clients_have_throttle_rates():
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    classes = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]

    assert "rest_framework.throttling.AnonRateThrottle" in classes
    assert "rest_framework.throttling.UserRateThrottle" in classes
    assert rates["anon"]
    assert rates["user"]


def test_a_token_works_until_it_expires(manager):
    key = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": manager.username, "password": PASSWORD})
        .json()["token"]
    )
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/patients/").status_code == 200

    Token.objects.filter(key=key).update(
        created=Token.objects.get(key=key).created
        - dt.timedelta(days=settings.API_TOKEN_TTL_DAYS, seconds=1)
    )

    expired = api.get("/api/v1/patients/")
    assert expired.status_code == 401
    assert "expired" in expired.json()["detail"]
    renewed = (
        APIClient()
        .post("/api/v1/auth/token/", {"username": manager.username, "password": PASSWORD})
        .json()["token"]
    )
    assert renewed != key


def test_the_owner_revokes_their_token(manager):
    token = Token.objects.create(user=manager)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert api.delete("/api/v1/auth/token/revoke/").status_code == 204
    assert api.get("/api/v1/patients/").status_code == 401


def test_a_registry_admin_sees_lockouts_and_revokes_tokens_in_the_admin(client, manager):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        admin_login(client, manager.username, "wrong")
    token = Token.objects.create(user=manager)
    registry_admin = make_user("radmin", Role.REGISTRY_ADMIN, None, is_staff=True)
    client.force_login(registry_admin)

    attempts = client.get("/admin/axes/accessattempt/")
    tokens = client.get("/admin/authtoken/tokenproxy/")
    revoked = client.post(f"/admin/authtoken/tokenproxy/{manager.pk}/delete/", {"post": "yes"})

    assert attempts.status_code == 200
    assert manager.username in attempts.content.decode()
    assert tokens.status_code == 200
    assert revoked.status_code == 302
    assert not Token.objects.filter(key=token.key).exists()


def test_a_data_manager_cannot_see_lockouts_or_tokens(client, manager):
    client.force_login(manager)

    assert client.get("/admin/axes/accessattempt/").status_code == 403
    assert client.get("/admin/authtoken/tokenproxy/").status_code == 403
