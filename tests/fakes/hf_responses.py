"""The router's Responses API as a loopback fake: ``POST /v1/responses``, plain or streamed.

Its answers follow OpenAI's documented shapes (https://platform.openai.com/docs/api-reference/responses,
and the streaming events: https://platform.openai.com/docs/api-reference/responses-streaming),
written here independently of the proxy's demo, which the tests check against them.
"""

from __future__ import annotations

import json

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
        "usage": {"input_tokens": 3, "output_tokens": output_tokens, "total_tokens": 3 + output_tokens},
    }


def event(kind: str, number: int, **data) -> bytes:
    return f"event: {kind}\ndata: {json.dumps({'type': kind, 'sequence_number': number, **data})}\n\n".encode()


def stream(pieces: list[str], model: str = "Qwen/Qwen2.5-7B-Instruct", *, fail_after: int | None = None) -> Reply:
    """A Responses stream of one message, one delta per piece; ``fail_after`` deltas, an ``error`` event."""
    text = "".join(pieces)
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    started = {**response("", model), "status": "in_progress", "output": []}
    out = [
        event("response.created", 0, response=started),
        event(
            "response.output_item.added",
            1,
            output_index=0,
            item={"id": "msg_1", "type": "message", "role": "assistant", "status": "in_progress", "content": []},
        ),
        event("response.content_part.added", 2, **where, part={"type": "output_text", "text": "", "annotations": []}),
    ]
    for index, piece in enumerate(pieces):
        if fail_after is not None and index == fail_after:
            out.append(event("error", 3 + index, code="server_error", message="The model crashed", param=None))
            return Reply(stream=out, content_type="text/event-stream")
        out.append(event("response.output_text.delta", 3 + index, **where, delta=piece))
    n = 3 + len(pieces)
    out += [
        event("response.output_text.done", n, **where, text=text),
        event(
            "response.content_part.done", n + 1, **where, part={"type": "output_text", "text": text, "annotations": []}
        ),
        event("response.output_item.done", n + 2, output_index=0, item=response(text, model)["output"][0]),
        event("response.completed", n + 3, response=response(text, model)),
    ]
    return Reply(stream=out, content_type="text/event-stream")


def echo_responses(req: Received) -> Reply:
    """Default success: the Response (or its stream) says back what the last input said."""
    body = req.json()
    text = f"echo: {_said(req)}"
    if body.get("stream"):
        return stream([text[:4], text[4:]], body["model"])
    return Reply(json=response(text, body["model"]))
