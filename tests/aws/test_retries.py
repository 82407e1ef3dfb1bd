"""annexa's AWS retry policy: throttling gets its tries, server errors and transport failures a
time budget per call, and the recorded cause says how many tries were made.

Errors are real wire-format answers from ``before-send`` hooks (``tests.aws.errors``); the
real client parses them and the installed policy judges them. The policy's clock is a
counter the hooks advance, so the number of tries does not depend on the machine's speed.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from collector.aws import retries
from collector.aws.scope import Clients, client_config
from collector.causes import describe_error
from tests.aws.errors import serve_error


class Clock:
    """Seconds that pass only when a try is answered."""

    def __init__(self) -> None:
        self.now = 0.0
        self.tries = 0

    def __call__(self) -> float:
        return self.now

    def answered(self, _: Any = None) -> bool:
        self.tries += 1
        self.now += 1.0
        return True


def iam_client(session: boto3.Session, tries: int, seconds: float, clock: Clock) -> Any:
    client = session.client("iam", config=client_config(tries))
    retries.install(client, seconds, clock=clock)
    return client


def test_a_persistent_server_error_stops_at_the_time_budget(session) -> None:
    clock = Clock()
    serve_error(
        session,
        "before-send.iam.GetAccountPasswordPolicy",
        "ServiceFailure",
        "Internal failure",
        status=500,
        when=clock.answered,
    )
    client = iam_client(session, tries=20, seconds=3.5, clock=clock)

    with pytest.raises(ClientError) as caught:
        client.get_account_password_policy()

    # tries end at t=1, 2, 3 (each followed by a backoff of at most 0.4 s); t=4 is past 3.5
    assert clock.tries == 4
    assert describe_error(caught.value) == (
        "ServiceFailure on GetAccountPasswordPolicy: Internal failure "
        "(gave up after 4 tries in 4 s)"
    )


def test_throttling_keeps_every_try_whatever_the_time_budget(session) -> None:
    clock = Clock()
    serve_error(
        session,
        "before-send.iam.GetAccountPasswordPolicy",
        "Throttling",
        "Rate exceeded",
        status=400,
        when=clock.answered,
    )
    client = iam_client(session, tries=2, seconds=0.0, clock=clock)

    with pytest.raises(ClientError) as caught:
        client.get_account_password_policy()

    assert clock.tries == 2
    assert describe_error(caught.value) == (
        "throttled after 2 attempts (Throttling on GetAccountPasswordPolicy): Rate exceeded"
    )


def test_a_transport_failure_is_retried_within_the_budget_and_named_with_its_tries(
    session,
) -> None:
    clock = Clock()

    def refuse(request: Any, **_: Any) -> None:
        clock.answered()
        raise EndpointConnectionError(endpoint_url=request.url)

    session.events.register_first("before-send.iam.ListUsers", refuse)
    client = iam_client(session, tries=10, seconds=2.5, clock=clock)

    with pytest.raises(EndpointConnectionError) as caught:
        client.list_users()

    assert clock.tries == 3
    assert describe_error(caught.value) == (
        "endpoint unreachable: https://iam.amazonaws.com/ (gave up after 3 tries in 3 s)"
    )


def test_clients_install_the_policy_with_the_configured_budget(session) -> None:
    served = Clock()
    serve_error(
        session,
        "before-send.iam.GetAccountPasswordPolicy",
        "ServiceFailure",
        "Internal failure",
        status=500,
        when=served.answered,
    )
    clients = Clients(session, client_config(10), transient_seconds=0)

    with pytest.raises(ClientError) as caught:
        clients.get("iam", "us-east-1").get_account_password_policy()

    assert served.tries == 1
    assert "Internal failure (gave up after 1 try in " in describe_error(caught.value)


def test_an_answer_after_a_transient_failure_is_the_result(session) -> None:
    clock = Clock()
    serve_error(
        session,
        "before-send.iam.ListUsers",
        "ServiceUnavailable",
        "try again",
        status=503,
        when=lambda request: clock.answered() and clock.tries == 1,
    )
    client = iam_client(session, tries=10, seconds=5, clock=clock)

    answer = client.list_users()

    assert answer["Users"] == [] and answer["ResponseMetadata"]["RetryAttempts"] == 1
