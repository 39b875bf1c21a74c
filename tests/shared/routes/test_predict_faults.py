"""POST /api/predict when the Space fails: every fault its documented status and code, and every
wait inside the request deadline.

Spaces are loopback fakes per Gradio generation (tests/fakes/gradio_space.py, each test names the
version it stands for); the answers that stand for a fault replace one endpoint's.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.conftest import TEST_TOKEN, refused_url
from tests.fakes import llama_space
from tests.fakes.gradio_space import HEARTBEAT, EventStream, FakeSpace
from tests.fakes.http_server import Reply
from tests.fakes.space_fixtures import EXPECTED, predict, space_settings

# --- faults --------------------------------------------------------------------------------------

SLEEPING_PAGE = Reply(503, body=b"<!doctype html><title>Space is sleeping</title>", content_type="text/html")


def test_sleeping_space_is_503_with_retry_after(start_space):
    # GIVEN a Space asleep: its host answers /config with an HTML page
    space = start_space(FakeSpace.gradio4())
    space.override("config", SLEEPING_PAGE)
    resp = predict(space_settings(space.url))
    # THEN 503 space_unavailable, Retry-After set, no HTML passed on
    assert resp.status_code == 503 and resp.json["code"] == "space_unavailable"
    assert resp.headers["Retry-After"] == "30"
    assert b"<title>" not in resp.data
    # AND nothing was cached: once awake, the next request discovers and answers
    assert predict(space_settings(space.url)).json == {"generated_text": EXPECTED}


def fault(why: str, make, status: int, code: str, retry_after: str | None = None, says: str = "", **answers):
    """A row: the Space (``make``), what its endpoints answer instead (``answers``, by endpoint),
    and what the browser gets."""
    return pytest.param(make, answers, status, code, retry_after, says, id=why)


FAULTS = [
    # a Gradio 4.44 Space whose host answers the call with a 200 HTML "building" page
    fault(
        "building page on call is 503",
        FakeSpace.gradio4,
        503,
        "space_unavailable",
        retry_after="12",
        call=Reply(200, body=b"<html>Building</html>", content_type="text/html", headers={"Retry-After": "12"}),
    ),
    fault(
        "gradio3 opaque 502 is 503",
        FakeSpace.gradio3,
        503,
        "space_unavailable",
        run=Reply(502, body=b"Bad Gateway", content_type="text/plain"),
        info=Reply(200, json={"named_endpoints": {"/predict": {}}}),
    ),
    # a Gradio 4.44 Space whose queue is full (gradio/routes.py queue_join_helper: 503)
    fault(
        "queue full is 503",
        FakeSpace.gradio4,
        503,
        "space_queue_full",
        retry_after="30",
        call=Reply(503, json={"detail": "Queue is full. Max size is 1 and size is 1."}),
    ),
    # a Gradio 5.x Space that refuses the data list (422, a validator error): the error names the setting
    fault(
        "data the endpoint refuses is 502 naming the setting",
        lambda: FakeSpace("5.49.1", prefix="/gradio_api"),
        502,
        "space_inputs_rejected",
        says="LLAMA_DATA_ORDER",
        call=Reply(422, json={"detail": [{"type": "missing", "loc": ["body", "data"]}]}),
    ),
    # a Gradio 3.37 Space whose output is not text (an image component, say)
    fault(
        "answer without text is 502",
        FakeSpace.gradio3,
        502,
        "upstream_bad_response",
        run=Reply(json={"data": [{"path": "/tmp/x.png"}], "is_generating": False}),
    ),
    fault(
        "hub rate limit is 429 with retry after",
        FakeSpace.gradio4,
        429,
        "upstream_rate_limited",
        retry_after="7",
        call=Reply(429, json={"error": "rate limited"}, headers={"Retry-After": "7"}),
    ),
    fault(
        "private space rejecting the token",
        FakeSpace.gradio4,
        502,
        "upstream_auth_failed",
        config=Reply(401, json={"error": "Invalid credentials in Authorization header"}),
    ),
    fault(
        "stream that ends without complete",
        FakeSpace.gradio4,
        502,
        "upstream_bad_response",
        events=EventStream([(0, HEARTBEAT)]),
    ),
    fault(
        "space proxy 504 is 504",
        FakeSpace.contract,
        504,
        "upstream_timeout",
        contract=Reply(504, body=b"Gateway Timeout", content_type="text/plain"),
    ),
]


@pytest.mark.parametrize(("make", "answers", "status", "code", "retry_after", "says"), FAULTS)
def test_a_space_fault_is_its_documented_status_and_code(start_space, make, answers, status, code, retry_after, says):
    # GIVEN a Space whose endpoints answer as this row says
    space = start_space(make())
    for kind, answer in answers.items():
        space.override(kind, answer)
    # WHEN the browser asks
    resp = predict(space_settings(space.url))
    # THEN the row's status and code, its Retry-After where it names one, and its words in the error
    assert resp.status_code == status and resp.json["code"] == code, resp.json
    if retry_after is not None:
        assert resp.headers["Retry-After"] == retry_after
    assert says in resp.json["error"]


def test_gradio4_error_event_null_is_502_without_reason(start_space):
    # GIVEN Gradio 4.44, whose error event carries null (up to 6.12)
    space = start_space(FakeSpace.gradio4())
    resp = predict(space_settings(space.url), {"inputs": llama_space.FAILING_PROMPT})
    assert resp.status_code == 502 and resp.json["code"] == "space_error"
    assert resp.json["error"] == "The Llama Space failed to answer (it gave no reason)."


def test_gradio613_error_event_dict_gives_the_spaces_message(start_space):
    # GIVEN Gradio 6.13+, whose error event carries {"error": str, ...}
    space = start_space(
        FakeSpace(
            "6.13.0",
            prefix="/gradio_api",
            error_event_data='{"error": "CUDA out of memory, retry later", "visible": true}',
        )
    )
    resp = predict(space_settings(space.url), {"inputs": llama_space.FAILING_PROMPT})
    assert resp.status_code == 502
    assert resp.json["error"] == "The Llama Space failed to answer: CUDA out of memory, retry later"


@pytest.mark.parametrize(
    "data",
    [
        json.dumps('Traceback (most recent call last):\n  File "/app.py", line 3, in f\nValueError: secret-x'),
        json.dumps({"error": 'Error in File "/home/user/app.py", line 12 secret-x'}),
    ],
)
def test_error_event_traceback_is_never_returned(start_space, data):
    space = start_space(FakeSpace.gradio4(error_event_data=data))
    resp = predict(space_settings(space.url), {"inputs": llama_space.FAILING_PROMPT})
    assert resp.status_code == 502 and resp.json["code"] == "space_error"
    assert "secret-x" not in resp.get_data(as_text=True) and "Traceback" not in resp.get_data(as_text=True)


def test_gradio3_error_message_and_token_redaction(start_space):
    # GIVEN Gradio 3.37 whose function error quotes the server's token
    space = start_space(FakeSpace.gradio3())
    space.override("run", Reply(500, json={"error": f"bad auth {TEST_TOKEN}"}))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 502 and resp.json["code"] == "space_error"
    assert TEST_TOKEN not in resp.get_data(as_text=True) and "[redacted]" in resp.json["error"]


def test_gradio3_gr_error_message(start_space):
    space = start_space(FakeSpace.gradio3())
    resp = predict(space_settings(space.url), {"inputs": llama_space.FAILING_PROMPT})
    assert resp.status_code == 502
    assert resp.json["error"].endswith("The model is overloaded, try a shorter prompt.")


@pytest.mark.parametrize("make", [FakeSpace.gradio3, FakeSpace.gradio4], ids=["gradio 3.37", "gradio 4.44"])
def test_unknown_api_name_names_what_info_lists(start_space, make):
    # GIVEN a Space whose endpoint is /generate, and the default LLAMA_SPACE_API_NAME=predict
    space = start_space(make(api_name="generate"))
    resp = predict(space_settings(space.url))
    # THEN 502 saying which names /info lists
    assert resp.status_code == 502 and resp.json["code"] == "space_api_name_unknown"
    assert "no API endpoint /predict; its /info lists /generate" in resp.json["error"]


def test_gradio4_contract_mode_is_told_to_use_gradio(start_space):
    # GIVEN a Gradio 4.44 Space forced to the contract: its /api/predict says "join the queue"
    space = start_space(FakeSpace.gradio4())
    resp = predict(space_settings(space.url, llama_space_protocol="contract"))
    assert resp.status_code == 502 and resp.json["code"] == "space_endpoint_missing"


def test_gradio_before_420_queue_only_is_unsupported(start_space):
    # GIVEN Gradio 4.10 (before /call existed) with its API closed to direct POSTs
    space = start_space(FakeSpace("4.10.0"))
    resp = predict(space_settings(space.url))
    assert resp.status_code == 502 and resp.json["code"] == "space_protocol_unsupported"
    assert "4.10.0" in resp.json["error"]


def test_unreachable_space_is_502():
    resp = predict(space_settings(refused_url().split("/hf-inference")[0]))
    assert resp.status_code == 502 and resp.json["code"] == "upstream_unreachable"


# --- timeouts: always inside the request deadline -----------------------------------------------
# Upper bounds are the deadline plus a generous slack (a loaded 2-core machine only makes answers
# later); each fault is built so that a missed deadline would answer far beyond that bound.
SLACK = 1.0


@pytest.mark.parametrize(
    ("events", "deadline"),
    [
        # heartbeats only, for 20 s: the deadline ends it, not the heartbeats
        pytest.param([(0.2, HEARTBEAT)] * 100, 1.5, id="heartbeats only"),
        # one heartbeat just before the deadline, then 10 s of silence: if only the timeout set when
        # the stream opened (~1.5 s) bounded each read, the read starting at ~1.4 s would end at ~2.9 s
        pytest.param([(1.4, HEARTBEAT), (10.0, HEARTBEAT)], 1.5, id="each read bounded"),
        # one heartbeat, then 30 s of nothing (more than the 20 s silence limit)
        pytest.param([(0, HEARTBEAT), (30, HEARTBEAT)], 1.0, id="silent past the limit"),
    ],
)
def test_a_gradio_event_stream_ends_at_the_deadline(start_space, events, deadline):
    # GIVEN a Gradio 4.44 Space whose event stream never finishes
    space = start_space(FakeSpace.gradio4())
    space.override("events", EventStream(events))
    started = time.monotonic()
    resp = predict(space_settings(space.url, request_deadline=deadline))
    # THEN 504 upstream_timeout by the deadline
    assert resp.status_code == 504 and resp.json["code"] == "upstream_timeout"
    assert time.monotonic() - started < deadline + SLACK


def test_slow_call_times_out(start_space):
    space = start_space(FakeSpace.gradio3())
    space.override("run", Reply(json={"data": ["late"]}, delay=5))
    started = time.monotonic()
    resp = predict(space_settings(space.url, request_deadline=1.0))
    assert resp.status_code == 504 and resp.json["code"] == "upstream_timeout"
    assert time.monotonic() - started < 1.0 + SLACK
