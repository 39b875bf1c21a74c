"""A route is one declaration: a route declared in this test alone is served, counted, listed by
health and OpenAPI, answered offline in demo mode and probed by the deep health check."""

from __future__ import annotations

from pydantic import BaseModel, StrictStr, ValidationInfo, field_validator
from werkzeug.test import Client

from shared.app import ProxyApp
from shared.http import json_bytes
from shared.routes import health_deep
from shared.routes.route import ModelSpec, Route, RouteTable, lazy
from shared.routes.table import ROUTES
from shared.schemas.base import Strict
from shared.schemas.limits import Limits, check_prompt
from shared.upstreams.plan import Plan
from tests.conftest import TEST_TOKEN, post_json
from tests.fakes.http_server import Reply


class EchoRequest(BaseModel):
    model_config = Strict

    text: StrictStr

    @field_validator("text")
    @classmethod
    def _prompt(cls, value: str, info: ValidationInfo) -> str:
        return check_prompt(value, info)  # under the route's own Limits


def plan(body: EchoRequest, settings) -> Plan:
    return Plan(body, "acme/echo-1", len(body.text), tokens=7, payload={"inputs": body.text})


def live(plan: Plan, call) -> bytes:
    """The live answer: asks the fake upstream with the server's token."""
    resp = call.request("POST", call.settings.hf_inference_url, plan.payload)
    call.answered("echo-upstream")
    return json_bytes({"echo": resp.json()})


def demo(plan: Plan, call) -> bytes:
    call.answered("demo")
    return json_bytes({"echo": f"[demo] {plan.body.text}"})


def probe(call) -> dict:
    return {"state": "live", "checked": "by the echo probe"}


ECHO = Route(
    "echo",
    paths=("/api/echo",),
    openai_paths=("/api/v1/echo",),
    body=f"{__name__}:EchoRequest",
    summary="Echo (declared in a test)",
    model=ModelSpec(
        limits=lambda settings: Limits(max_tokens=10, max_prompt_chars=20),
        plan=plan,
        live=lazy(f"{__name__}:live"),
        demo=lazy(f"{__name__}:demo"),
        health=lambda settings, ready: {"configured": ready, "host": "echo.invalid"},
        probes=lambda settings: {"echo": probe},
        verdict=lambda settings, results: results["echo"],
    ),
)


def app_with_echo(settings, **kwargs) -> ProxyApp:
    return ProxyApp(settings, routes=[*ROUTES.routes, ECHO], **kwargs)


def test_a_declared_model_route_is_validated_counted_and_answered_live(settings, upstream, telemetry):
    # GIVEN the echo route added to the table, a rate limit, and the fake upstream
    client = Client(app_with_echo(settings.with_changes(rate_limit_per_minute=1), telemetry=telemetry))
    # WHEN it is called twice
    first = post_json(client, "/api/echo", {"text": "hello"})
    second = post_json(client, "/api/echo", {"text": "hello"})
    # THEN the first is answered through the upstream with the server's token, the second refused
    assert first.status_code == 200 and "echo" in first.json
    assert upstream.received[-1].headers["authorization"] == f"Bearer {TEST_TOKEN}"
    assert second.status_code == 429 and second.json["code"] == "rate_limited"
    # AND the record has what the plan said, and which upstream answered
    record = telemetry.records[0]
    assert (record.model, record.prompt_chars, record.upstream) == ("acme/echo-1", 5, "echo-upstream")


def test_a_declared_route_validates_its_body_and_answers_its_error_shape_per_path(settings):
    client = Client(app_with_echo(settings))
    too_long = {"text": "x" * 21}
    envelope = post_json(client, "/api/echo", too_long)
    openai = post_json(client, "/api/v1/echo", too_long)
    assert envelope.status_code == 400 and envelope.json["code"] == "validation_error"
    assert openai.status_code == 400 and openai.json["error"]["param"] == "text"


def test_a_declared_route_is_answered_offline_in_demo_mode(settings, upstream):
    # GIVEN demo mode
    client = Client(app_with_echo(settings.with_changes(demo_mode=True)))
    # WHEN the echo route is called
    resp = post_json(client, "/api/echo", {"text": "hi"})
    # THEN its demo twin answers, and nothing went upstream
    assert resp.json == {"echo": "[demo] hi"}
    assert upstream.received == []


def test_a_declared_route_is_listed_by_health_deep_health_and_openapi(settings):
    health_deep.forget()
    client = Client(app_with_echo(settings))
    health = client.get("/api/health?deep=1").json
    assert health["upstreams"]["echo"] == {"configured": True, "host": "echo.invalid"}
    assert health["deep"]["routes"]["echo"] == {"state": "live", "checked": "by the echo probe"}
    spec = client.get("/api/openapi.json").json
    assert spec["paths"]["/api/echo"]["post"]["summary"] == "Echo (declared in a test)"
    assert spec["paths"]["/api/v1/echo"]["post"]["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OpenAIError"
    }
    assert "EchoRequest" in spec["components"]["schemas"]
    health_deep.forget()


def test_the_route_is_not_there_without_its_declaration(settings, upstream):
    # GIVEN the stock table: THEN the same calls know nothing of it
    client = Client(ProxyApp(settings))
    assert post_json(client, "/api/echo", {"text": "hi"}).status_code == 404
    assert "echo" not in client.get("/api/health").json["upstreams"]
    assert "/api/echo" not in client.get("/api/openapi.json").json["paths"]


def test_two_routes_may_not_claim_the_same_method_and_path():
    import pytest

    clash = Route("clash", ("/api/chat",), lambda request, scope: None)
    with pytest.raises(ValueError, match="POST /api/chat"):
        RouteTable.of([*ROUTES.routes, clash])
    upstream_reply = Reply(json={"ok": True})  # a different method on a known path is allowed
    assert RouteTable.of([*ROUTES.routes, Route("x", ("/api/chat",), lambda r, s: upstream_reply, method="PUT")])
