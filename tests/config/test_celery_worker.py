import pytest

from config.celery_app import ping


@pytest.mark.worker
def test_a_real_worker_process_round_trips_a_task(celery_worker_process):
    result = ping.delay("hello from the test")

    assert result.get(timeout=60) == "hello from the test"
    assert celery_worker_process.poll() is None
