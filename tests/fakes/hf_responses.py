"""The router's Responses API as a loopback fake: ``POST /v1/responses``, plain or streamed.

Its answers follow OpenAI's documented shapes (https://platform.openai.com/docs/api-reference/responses,
and the streaming events: https://platform.openai.com/docs/api-reference/responses-streaming),
written here independently of the proxy's demo, which the tests check against them. As the
router's server does (huggingface/responses.js, ``src/routes/responses.ts``), events are
``data:`` lines only, numbered from 0, and a provider failure part-way ends the stream with
``response.failed`` (``response.error`` ``{"code": "server_error", "message"}``); a plain request
that fails is answered 200 with that failed Response. ``named=True`` writes OpenAI's style
(an ``event:`` line per event) and ``failure="error"`` OpenAI's ``error`` event.
"""

from __future__ import annotations

import json
import threading

from tests.fakes.http_server import Received, Reply

RESPONSES_PATH = "/v1/responses"


def _said(req: Received) -> str:
    given = req.json().get("input")
    if isinstance(given, str):
        return given
    last = given[-1].get("content") if given else ""
    return last if isinstance(last, str) else "".join(p.get("text", "") for p in last or [])


def response(text: str, model: str, output_tokens: int = 4) -> dict:
    message = {
        "id": "msg_1",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "status": "completed",
        "model": model,
        "output": [message],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "usage": {"input_tokens": 3, "output_tokens": output_tokens, "total_tokens": 3 + output_tokens},
    }


CRASH = "The provider crashed"  # the router's own sentence for a failure part-way


def event(kind: str, number: int, named: bool = False, **data) -> bytes:
    line = f"data: {json.dumps({'type': kind, 'sequence_number': number, **data})}\n\n"
    return (f"event: {kind}\n{line}" if named else line).encode()


def failed(model: str, message: str = CRASH) -> dict:
    """The Response of a provider failure, as the router writes it (status ``failed``, ``error``)."""
    return {
        **response("", model),
        "status": "failed",
        "output": [],
        "error": {"code": "server_error", "message": message},
    }


def stream(
    pieces: list[str],
    model: str = "Qwen/Qwen2.5-7B-Instruct",
    *,
    fail_after: int | None = None,
    failure: str = "response.failed",
    named: bool = False,
    message: str = CRASH,
    hold_after: int | None = None,
) -> Reply:
    """A Responses stream of one message, one delta per piece; after ``fail_after`` deltas the
    stream fails with ``failure`` (the router's ``response.failed``, or OpenAI's ``error`` event);
    after ``hold_after`` deltas it is held by a gate (``hf_chat.gate_of``) until a test sets it."""
    text = "".join(pieces)
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    started = {**response("", model), "status": "in_progress", "output": []}
    out = [
        event("response.created", 0, named, response=started),
        event("response.in_progress", 1, named, response=started),
        event(
            "response.output_item.added",
            2,
            named,
            output_index=0,
            item={"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress", "content": []},
        ),
        event(
            "response.content_part.added",
            3,
            named,
            **where,
            part={"type": "output_text", "text": "", "annotations": []},
        ),
    ]
    for index, piece in enumerate(pieces):
        if fail_after is not None and index == fail_after:
            number = 4 + index
            if failure == "error":
                out.append(event("error", number, named, code="server_error", message=message, param=None))
            else:
                out.append(event("response.failed", number, named, response=failed(model, message)))
            return Reply(stream=out, content_type="text/event-stream")
        if hold_after is not None and index == hold_after:
            out.append(threading.Event())
        out.append(event("response.output_text.delta", 4 + index, named, **where, delta=piece))
    n = 4 + len(pieces)
    out += [
        event("response.output_text.done", n, named, **where, text=text),
        event(
            "response.content_part.done",
            n + 1,
            named,
            **where,
            part={"type": "output_text", "text": text, "annotations": []},
        ),
        event("response.output_item.done", n + 2, named, output_index=0, item=response(text, model)["output"][0]),
        event("response.completed", n + 3, named, response=response(text, model)),
    ]
    return Reply(stream=out, content_type="text/event-stream")


def echo_responses(req: Received) -> Reply:
    """Default success: the Response (or its stream) says back what the last input said."""
    body = req.json()
    text = f"echo: {_said(req)}"
    if body.get("stream"):
        return stream([text[:4], text[4:]], body["model"])
    return Reply(json=response(text, body["model"]))
