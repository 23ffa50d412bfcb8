import pytest


@pytest.mark.django_db
def test_it_reports_database_and_broker_reachable(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_it_answers_503_when_the_broker_is_down(client, settings):
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_it_answers_503_when_the_database_is_down(client, monkeypatch):
    from config import health

    def broken_cursor():
        raise ConnectionError("database is down")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "error: ConnectionError"
