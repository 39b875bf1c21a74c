"""schemathesis against the live local server (demo mode): the generated OpenAPI 3.1 description
is served, and generated requests to every route find no 5xx and no answer that breaks it."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi import checks

from functions.local.server import serve
from shared.app import ProxyApp
from shared.settings import Settings
from tests.fakes.http_server import running


@pytest.fixture(scope="module")
def api_schema():
    with running(serve(ProxyApp(Settings(demo_mode=True, demo_word_delay=0.0)), port=0)) as url:
        yield schemathesis.openapi.from_url(f"{url}/api/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")
CHECKS = [
    schemathesis.checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_route_answers_5xx_or_outside_its_description(case):
    case.call_and_validate(checks=CHECKS)


def test_the_description_is_openapi_3_1_with_every_route(api_schema):
    raw = api_schema.raw_schema
    assert raw["openapi"] == "3.1.0"
    assert {"/api/chat", "/api/v1/chat/completions", "/api/v1/models", "/api/generate"} <= set(raw["paths"])
    chat = raw["paths"]["/api/v1/chat/completions"]["post"]
    assert chat["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith("OpenAIError")
