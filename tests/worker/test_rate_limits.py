"""API rate limits shared across workers per (account, service), in a real Redis: what one
worker spent, another cannot spend again; other accounts and services are not affected."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from collector.aws.accounts import resolve_accounts
from collector.errors import UserError
from collector.settings import CelerySettings, load_settings
from collector.worker.ratelimit import ApiRateLimiter
from tests.worker import Waited, refuse

pytestmark = [pytest.mark.broker]


def limiter(redis_server, **limits) -> ApiRateLimiter:
    settings = CelerySettings(broker_url=redis_server.url, **limits)
    return ApiRateLimiter(settings, sleep=refuse)


def test_workers_share_one_window_per_account_and_service(redis_server):
    first = limiter(redis_server, rate_limit="3/minute", rate_limits={"aws:ec2": "1/minute"})
    second = limiter(redis_server, rate_limit="3/minute", rate_limits={"aws:ec2": "1/minute"})
    assert first.storage_url == redis_server.url  # the broker's Redis
    assert all(first.try_acquire("aws", "111111111111", "s3") for _ in range(3))
    assert not second.try_acquire("aws", "111111111111", "s3")  # spent by the first worker
    assert second.try_acquire("aws", "222222222222", "s3")  # another account
    assert second.try_acquire("aws", "111111111111", "ec2")  # another service, its own limit
    assert not first.try_acquire("aws", "111111111111", "ec2")
    with pytest.raises(Waited):
        second.acquire("aws", "111111111111", "s3")


def test_an_unreachable_storage_leaves_calls_unlimited(redis_server):
    worker = limiter(redis_server, rate_limit="1/minute")
    assert worker.try_acquire("aws", "111111111111", "s3")
    redis_server.stop()  # a broker outage must not turn evidence into ERROR
    assert worker.try_acquire("aws", "111111111111", "s3")
    worker.acquire("aws", "111111111111", "s3")


def test_aws_calls_wait_for_a_slot(redis_server, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        session = boto3.Session(region_name="us-east-1")
        (account,) = resolve_accounts(load_settings(None, aws={"regions": "session"}).aws, session)
        worker = limiter(redis_server, rate_limit="2/minute")
        worker.watch([account])
        s3 = session.client("s3")
        s3.list_buckets()
        s3.list_buckets()
        with pytest.raises(Waited):  # the third call in the window waits
            s3.list_buckets()
        session.client("iam").list_users()  # another service is not held
    other = limiter(redis_server, rate_limit="2/minute")
    assert not other.try_acquire("aws", account.account, "s3")


def test_a_malformed_rate_is_refused_at_load():
    with pytest.raises(UserError, match="rate_limit: '20 a second' is not N/second"):
        load_settings(None, celery={"rate_limit": "20 a second"})
    with pytest.raises(UserError, match="rate_limits: 'graph' is not provider:service"):
        load_settings(None, celery={"rate_limits": {"graph": "5/second"}})
