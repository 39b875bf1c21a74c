"""Client for the Llama Space behind ``POST /api/predict``: one answer, whatever the Space speaks.

Three wire protocols (docs/upstreams.md, "Gradio Space"), chosen from ``GET {space}/config`` once per
warm process (``LLAMA_SPACE_PROTOCOL=auto``), or forced by the setting:

- ``contract``: the seed's documented ``POST /api/predict {"inputs", "parameters"}`` ->
  ``{"generated_text"}``, for a Space that mounts that route itself;
- ``rest`` (Gradio 3.x, and 4.0-4.19 with an open API): ``POST /run/{api_name} {"data": [...]}``;
- ``call`` (Gradio 4.20+; 5.x/6.x under ``api_prefix`` = ``/gradio_api``): ``POST /call/{api_name}``
  -> ``{"event_id"}``, then ``GET /call/{api_name}/{event_id}`` as server-sent events.
  https://www.gradio.app/guides/querying-gradio-apps-with-curl

A thin client on our transport instead of ``gradio_client``: that package adds ~37 MB to the bundle
and several discovery calls per cold start; this is one cached ``/config`` (and ``/info`` when
``LLAMA_SPACE_API_NAME`` is unset: :mod:`shared.upstreams.gradio_discovery`) and two requests.
Faults, and ZeroGPU's quota refusal, are :mod:`shared.upstreams.space_faults`.
"""

from __future__ import annotations

from typing import Any

from shared import errors, redaction
from shared.upstreams import gradio_discovery, space_faults, sse, transport
from shared.upstreams.call import UpstreamCall
from shared.upstreams.gradio_discovery import SpaceApi, SpaceCall, discover, endpoint_name, json_or_none, listed_names
from shared.upstreams.space_faults import fault, is_html

NAME = "gradio-space"
# Gradio sends a heartbeat every 15 s on an idle event stream (gradio/routes.py, queue_data_helper);
# a silence longer than this means the Space is gone.
SSE_SILENCE = 20.0
DEFAULT_RETRY_AFTER = space_faults.DEFAULT_RETRY_AFTER
forget = gradio_discovery.forget  # the per-process discovery cache (tests reset it)


def predict(arguments: dict[str, Any], contract_body: dict, upstream: UpstreamCall) -> str:
    """Ask the Space; return the generated text or raise a ProxyError.

    ``arguments`` are the request's values by name (ordered into Gradio's ``data`` by
    ``LLAMA_DATA_ORDER``); ``contract_body`` is what a contract Space receives.
    """
    settings = upstream.settings
    if not settings.llama_space_url:
        raise errors.misconfigured("The Llama Space is not configured: set LLAMA_SPACE_URL.")
    call = SpaceCall(settings.llama_space_url, upstream)
    api = discover(call)
    if api.kind == "contract":
        return _contract(call, contract_body)
    data = [arguments[name] for name in settings.llama_data_order]
    try:
        if api.kind == "rest":
            return _rest(call, api, data)
        return _call_protocol(call, api, data)
    except errors.ProxyError as exc:
        if exc.code in ("space_unavailable", "space_api_name_unknown", "space_api_name_ambiguous"):
            forget(call.space)  # the Space may come back on another Gradio version
        raise


# --- the three protocols -------------------------------------------------------------------------


def _contract(call: SpaceCall, body: dict) -> str:
    resp = call.post("/api/predict", body)
    data = _json_or_none(resp) if not is_html(resp) else None
    if resp.status == 200 and data is not None:
        if isinstance(data, list) and data:  # the HF task shape, [{"generated_text"}]
            data = data[0]
        if isinstance(data, dict) and isinstance(data.get("generated_text"), str):
            return _clean(data["generated_text"], call.token)
        if isinstance(data, dict) and "error" in data:  # the seed's generate_response() on failure
            raise space_faults.failure(data["error"], call.token)
        raise errors.upstream_bad_response()
    if resp.status in (404, 405):  # a Gradio 4+ Space answers 404 "Please join the queue"
        raise errors.space_endpoint_missing()
    if resp.status == 500 and isinstance(data, dict) and "error" in data:
        raise space_faults.failure(data["error"], call.token)
    raise fault(resp)


def _rest(call: SpaceCall, api: SpaceApi, data: list) -> str:
    name = endpoint_name(call, api)
    resp = call.post(f"{api.prefix}/run/{name}", {"data": data})
    if resp.status == 404 and not _joins_queue(resp):  # early 3.x: only /api/{name}
        resp = call.post(f"{api.prefix}/api/{name}", {"data": data})
    body = _json_or_none(resp) if not is_html(resp) else None
    if resp.status == 200 and isinstance(body, dict):
        return _text_from(body.get("data"), call.token)
    if resp.status == 404 and _joins_queue(resp):
        raise errors.space_protocol_unsupported(api.version or "?")
    if resp.status == 500 and isinstance(body, dict) and "error" in body:
        message = body["error"]
        if isinstance(message, str) and message.startswith("This app has no endpoint"):
            raise _unknown_name(call, api, name)
        raise space_faults.failure(message, call.token)
    if resp.status in (404, 500) and not is_html(resp):
        raise _unknown_name_or(call, api, name, resp)
    raise fault(resp)


def _call_protocol(call: SpaceCall, api: SpaceApi, data: list) -> str:
    name = endpoint_name(call, api)
    resp = call.post(f"{api.prefix}/call/{name}", {"data": data})
    body = _json_or_none(resp) if not is_html(resp) else None
    if resp.status == 200 and isinstance(body, dict) and isinstance(body.get("event_id"), str):
        return _read_events(call, f"{api.prefix}/call/{name}/{body['event_id']}")
    if resp.status == 503 and isinstance(body, dict) and "full" in str(body.get("detail", "")).lower():
        raise errors.space_queue_full(transport.retry_after_seconds(resp.headers, DEFAULT_RETRY_AFTER))
    if resp.status in (400, 422):  # the data list does not fit the endpoint's parameters
        raise errors.space_inputs_rejected(resp.status)
    if resp.status in (404, 500) and not is_html(resp):  # gradio 6 answers 500 for an unknown name
        raise _unknown_name_or(call, api, name, resp)
    raise fault(resp)


def _read_events(call: SpaceCall, path: str) -> str:
    stream = call.events(path, silence=max(call.settings.read_timeout, SSE_SILENCE))
    try:
        if stream.status != 200:
            raise fault(call.upstream.read(stream))
        for event in sse.events(stream):
            if event.event == "complete":
                return _text_from(_parse(event.data), call.token)
            if event.event == "error":
                raise _error_event(event.data, call.token)
            # "generating" (a partial answer: the final one comes with "complete"), "heartbeat"
    finally:
        stream.close()
    raise errors.ProxyError(502, "upstream_bad_response", "The Llama Space's event stream ended without an answer.")


# --- unknown api_name ----------------------------------------------------------------------------


def _unknown_name(call: SpaceCall, api: SpaceApi, name: str) -> errors.ProxyError:
    return errors.space_api_name_unknown(name, listed_names(call, api))


def _unknown_name_or(call: SpaceCall, api: SpaceApi, name: str, resp: transport.UpstreamResponse) -> errors.ProxyError:
    """A 404/500 from a live Space: blame the api_name only when ``/info`` does not list it."""
    listed = listed_names(call, api)
    if listed is not None and name not in listed:
        return errors.space_api_name_unknown(name, listed)
    return fault(resp)


# --- answers and faults --------------------------------------------------------------------------


def _text_from(data: Any, token: str) -> str:
    """The first output of Gradio's ``data`` list: the Textbox's string (or the seed's dict)."""
    first = data[0] if isinstance(data, list) and data else None
    if isinstance(first, str):
        return _clean(first, token)
    if isinstance(first, dict) and isinstance(first.get("generated_text"), str):
        return _clean(first["generated_text"], token)
    if isinstance(first, dict) and "error" in first:
        raise space_faults.failure(first["error"], token)
    raise errors.ProxyError(502, "upstream_bad_response", "The Llama Space answered without any text.")


def _error_event(raw: str, token: str) -> errors.ProxyError:
    """``event: error`` carries ``null`` (Gradio up to 6.12), a dict ``{"error": str|null, ...}``
    (6.13+), or a plain string (an unknown event id: ``"404: Not Found"``)."""
    data = json_or_none(raw)
    if isinstance(data, dict):
        data = data.get("error")
    return space_faults.failure(data, token)


def _joins_queue(resp: transport.UpstreamResponse) -> bool:
    return b"join the queue" in resp.body


def _json_or_none(resp: transport.UpstreamResponse) -> Any:
    return json_or_none(resp.body)


def _parse(raw: str) -> Any:
    data = json_or_none(raw)
    if data is None:
        raise errors.upstream_bad_response()
    return data


def _clean(text: str, token: str) -> str:
    """The Space's answer for our client: token forms redacted, lone surrogates made U+FFFD."""
    return redaction.well_formed(redaction.redact_text(text, token))
