"""moto fixtures shared with the AWS tests."""

from tests.aws.conftest import aws, session

__all__ = ["aws", "session"]
