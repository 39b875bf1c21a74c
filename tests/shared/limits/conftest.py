"""The stores the spend limits run on, real ones: a redis-server process, DynamoDB through moto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.http_server import served
from tests.fakes.moto_server import MotoServer
from tests.fakes.redis_server import RedisServer

TABLE = "hfproxy-quota-test"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    yield from served(RedisServer())


@pytest.fixture
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """GIVEN an empty real Redis on loopback."""
    redis_server.flush()
    yield redis_server.url


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


def create_table(name: str = TABLE, endpoint_url: str | None = None) -> None:
    """The table template.yaml declares: key ``pk`` (S), on-demand, TTL on ``expires_at``."""
    import boto3

    client = boto3.client("dynamodb", endpoint_url=endpoint_url, region_name="us-east-1")
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})


@pytest.fixture
def dynamodb_table(aws_env) -> Iterator[str]:
    """GIVEN DynamoDB (moto's in-process mock) with the quota table."""
    from moto import mock_aws

    with mock_aws():
        create_table()
        yield TABLE


@pytest.fixture
def moto_server(aws_env, monkeypatch) -> Iterator[MotoServer]:
    """GIVEN moto's HTTP server on loopback with the quota table, where boto3 is sent
    (``AWS_ENDPOINT_URL_DYNAMODB``, which child processes inherit too)."""
    server = MotoServer().start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", server.url)
    create_table(endpoint_url=server.url)
    yield server
    server.stop()
