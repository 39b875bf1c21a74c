"""Client for the Llama Space behind ``POST /api/predict``: one answer, whatever the Space speaks.

Three wire protocols (docs/upstreams.md, "Gradio Space"), chosen from ``GET {space}/config`` once per
warm process (``LLAMA_SPACE_PROTOCOL=auto``), or forced by the setting:

- ``contract``: the seed's documented ``POST /api/predict {"inputs", "parameters"}`` ->
  ``{"generated_text"}``, for a Space that mounts that route itself;
- ``rest`` (Gradio 3.x, and 4.0-4.19 with an open API): ``POST /run/{api_name} {"data": [...]}``;
- ``call`` (Gradio 4.20+; 5.x/6.x under ``api_prefix`` = ``/gradio_api``): ``POST /call/{api_name}``
  -> ``{"event_id"}``, then ``GET /call/{api_name}/{event_id}`` as server-sent events.
  https://www.gradio.app/guides/querying-gradio-apps-with-curl

A thin ``requests`` client instead of ``gradio_client``: that package adds ~37 MB to the bundle
and several discovery calls per cold start; this is one cached ``/config`` and two requests.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from shared import errors, redaction
from shared.deadline import Deadline
from shared.settings import Settings
from shared.telemetry import RequestRecord
from shared.upstreams import sse, transport

NAME = "gradio-space"
DEFAULT_RETRY_AFTER = 30  # a sleeping Space takes tens of seconds to wake
# Gradio sends a heartbeat every 15 s on an idle event stream (gradio/routes.py, queue_data_helper);
# a silence longer than this means the Space is gone.
SSE_SILENCE = 20.0
GRADIO_PREFIX = "/gradio_api"  # api_prefix from Gradio 5.0 on, when /config does not say


@dataclass(frozen=True)
class SpaceApi:
    kind: str  # "contract" | "rest" | "call"
    version: str | None = None
    prefix: str = ""


_discovered: dict[str, SpaceApi] = {}


def forget(space_url: str | None = None) -> None:
    """Drop cached discoveries (a Space rebuilt on another Gradio version; tests)."""
    if space_url is None:
        _discovered.clear()
    else:
        _discovered.pop(space_url, None)


@dataclass
class _Call:
    """One request's upstream context, so helpers do not pass five arguments around."""

    space: str
    token: str
    settings: Settings
    deadline: Deadline
    record: RequestRecord

    def post(self, path: str, body: Any) -> transport.UpstreamResponse:
        return self._note(
            transport.request(
                "POST",
                self.space + path,
                token=self.token,
                settings=self.settings,
                deadline=self.deadline,
                json_body=body,
            )
        )

    def get(self, path: str) -> transport.UpstreamResponse:
        return self._note(
            transport.request(
                "GET", self.space + path, token=self.token, settings=self.settings, deadline=self.deadline
            )
        )

    def _note(self, resp: transport.UpstreamResponse) -> transport.UpstreamResponse:
        self.record.upstream_attempts += 1
        self.record.upstream_status = resp.status
        self.record.upstream_ms = round((self.record.upstream_ms or 0) + resp.elapsed_ms, 1)
        return resp


def predict(
    arguments: dict[str, Any],
    contract_body: dict,
    *,
    token: str,
    settings: Settings,
    deadline: Deadline,
    record: RequestRecord,
) -> str:
    """Ask the Space; return the generated text or raise a ProxyError.

    ``arguments`` are the request's values by name (ordered into Gradio's ``data`` by
    ``LLAMA_DATA_ORDER``); ``contract_body`` is what a contract Space receives.
    """
    if not settings.llama_space_url:
        raise errors.misconfigured("The Llama Space is not configured: set LLAMA_SPACE_URL.")
    call = _Call(settings.llama_space_url, token, settings, deadline, record)
    api = discover(call)
    if api.kind == "contract":
        return _contract(call, contract_body)
    data = [arguments[name] for name in settings.llama_data_order]
    try:
        if api.kind == "rest":
            return _rest(call, api, data)
        return _call_protocol(call, api, data)
    except errors.ProxyError as exc:
        if exc.code in ("space_unavailable", "space_api_name_unknown"):
            forget(call.space)  # the Space may come back on another Gradio version
        raise


# --- discovery -------------------------------------------------------------------------------------


def discover(call: _Call) -> SpaceApi:
    mode = call.settings.llama_space_protocol
    if mode == "contract":
        return SpaceApi("contract")
    cached = _discovered.get(call.space)
    if cached is not None:
        return cached
    resp = call.get("/config")
    if resp.status in (401, 403, 429) or resp.status >= 500 or _is_html(resp):
        raise _fault(resp)  # asleep, building, or refused: nothing learned, nothing cached
    config = _json_or_none(resp) if resp.status == 200 else None
    if isinstance(config, dict) and isinstance(config.get("version"), str) and "components" in config:
        api = _api_for(config)
    else:  # 404, or JSON that is not a Gradio config: a Space that mounts its own routes
        api = _not_gradio(mode)
    _discovered[call.space] = api
    return api


def _not_gradio(mode: str) -> SpaceApi:
    if mode == "gradio":
        raise errors.space_not_gradio()
    return SpaceApi("contract")


def _api_for(config: dict) -> SpaceApi:
    version = config["version"]
    match = re.match(r"(\d+)\.(\d+)", version)
    major, minor = (int(match[1]), int(match[2])) if match else (0, 0)
    prefix = config.get("api_prefix")
    if not isinstance(prefix, str):
        prefix = GRADIO_PREFIX if major >= 5 else ""
    prefix = prefix.rstrip("/")
    if (major, minor) < (4, 20):  # /call arrived in 4.20 (docs/upstreams.md, "Gradio Space")
        return SpaceApi("rest", version, prefix)
    return SpaceApi("call", version, prefix)


# --- the three protocols -------------------------------------------------------------------------


def _contract(call: _Call, body: dict) -> str:
    resp = call.post("/api/predict", body)
    data = _json_or_none(resp) if not _is_html(resp) else None
    if resp.status == 200 and data is not None:
        if isinstance(data, list) and data:  # the HF task shape, [{"generated_text"}]
            data = data[0]
        if isinstance(data, dict) and isinstance(data.get("generated_text"), str):
            return _clean(data["generated_text"], call.token)
        if isinstance(data, dict) and "error" in data:  # the seed's generate_response() on failure
            raise errors.space_error(_space_message(data["error"], call.token))
        raise errors.upstream_bad_response()
    if resp.status in (404, 405):  # a Gradio 4+ Space answers 404 "Please join the queue"
        raise errors.space_endpoint_missing()
    if resp.status == 500 and isinstance(data, dict) and "error" in data:
        raise errors.space_error(_space_message(data["error"], call.token))
    raise _fault(resp)


def _rest(call: _Call, api: SpaceApi, data: list) -> str:
    name = call.settings.llama_space_api_name
    resp = call.post(f"{api.prefix}/run/{name}", {"data": data})
    if resp.status == 404 and not _joins_queue(resp):  # early 3.x: only /api/{name}
        resp = call.post(f"{api.prefix}/api/{name}", {"data": data})
    body = _json_or_none(resp) if not _is_html(resp) else None
    if resp.status == 200 and isinstance(body, dict):
        return _text_from(body.get("data"), call.token)
    if resp.status == 404 and _joins_queue(resp):
        raise errors.space_protocol_unsupported(api.version or "?")
    if resp.status == 500 and isinstance(body, dict) and "error" in body:
        message = body["error"]
        if isinstance(message, str) and message.startswith("This app has no endpoint"):
            raise _unknown_name(call, api, name)
        raise errors.space_error(_space_message(message, call.token))
    if resp.status in (404, 500) and not _is_html(resp):
        raise _unknown_name_or(call, api, name, resp)
    raise _fault(resp)


def _call_protocol(call: _Call, api: SpaceApi, data: list) -> str:
    name = call.settings.llama_space_api_name
    resp = call.post(f"{api.prefix}/call/{name}", {"data": data})
    body = _json_or_none(resp) if not _is_html(resp) else None
    if resp.status == 200 and isinstance(body, dict) and isinstance(body.get("event_id"), str):
        return _read_events(call, f"{api.prefix}/call/{name}/{body['event_id']}")
    if resp.status == 503 and isinstance(body, dict) and "full" in str(body.get("detail", "")).lower():
        raise errors.space_queue_full(transport.retry_after_seconds(resp.headers, DEFAULT_RETRY_AFTER))
    if resp.status in (400, 422):  # the data list does not fit the endpoint's parameters
        raise errors.space_inputs_rejected(resp.status)
    if resp.status in (404, 500) and not _is_html(resp):  # gradio 6 answers 500 for an unknown name
        raise _unknown_name_or(call, api, name, resp)
    raise _fault(resp)


def _read_events(call: _Call, path: str) -> str:
    stream = sse.open_stream(
        "GET",
        call.space + path,
        token=call.token,
        settings=call.settings,
        deadline=call.deadline,
        read_timeout=max(call.settings.read_timeout, SSE_SILENCE),
    )
    try:
        call.record.upstream_attempts += 1
        call.record.upstream_status = stream.status
        if stream.status != 200:
            raise _fault(stream.read_body(call.settings.max_upstream_bytes))
        for event in stream.events():
            if event.event == "complete":
                return _text_from(_parse(event.data), call.token)
            if event.event == "error":
                raise errors.space_error(_error_event_message(event.data, call.token))
            # "generating" (a partial answer: the final one comes with "complete"), "heartbeat"
    finally:
        stream.close()
    raise errors.ProxyError(502, "upstream_bad_response", "The Llama Space's event stream ended without an answer.")


# --- unknown api_name ----------------------------------------------------------------------------


def _listed_names(call: _Call, api: SpaceApi) -> list[str] | None:
    """The named endpoints the Space's ``/info`` lists, or None when it cannot be read."""
    resp = None
    for _ in range(2):
        try:
            resp = call.get(f"{api.prefix}/info")
            break
        except errors.ProxyError as exc:
            # uvicorn closes the connection after an unhandled 500 (Gradio's unknown api_name):
            # the pooled connection can be dead on reuse, so one fresh connection is worth a try.
            if exc.code != "upstream_unreachable":
                return None
    if resp is None:
        return None
    info = _json_or_none(resp) if resp.status == 200 else None
    named = info.get("named_endpoints") if isinstance(info, dict) else None
    if not isinstance(named, dict):
        return None
    return sorted(str(key).strip("/") for key in named)


def _unknown_name(call: _Call, api: SpaceApi, name: str) -> errors.ProxyError:
    return errors.space_api_name_unknown(name, _listed_names(call, api))


def _unknown_name_or(call: _Call, api: SpaceApi, name: str, resp: transport.UpstreamResponse) -> errors.ProxyError:
    """A 404/500 from a live Space: blame the api_name only when ``/info`` does not list it."""
    listed = _listed_names(call, api)
    if listed is not None and name not in listed:
        return errors.space_api_name_unknown(name, listed)
    return _fault(resp)


# --- answers and faults --------------------------------------------------------------------------


def _text_from(data: Any, token: str) -> str:
    """The first output of Gradio's ``data`` list: the Textbox's string (or the seed's dict)."""
    first = data[0] if isinstance(data, list) and data else None
    if isinstance(first, str):
        return _clean(first, token)
    if isinstance(first, dict) and isinstance(first.get("generated_text"), str):
        return _clean(first["generated_text"], token)
    if isinstance(first, dict) and "error" in first:
        raise errors.space_error(_space_message(first["error"], token))
    raise errors.ProxyError(502, "upstream_bad_response", "The Llama Space answered without any text.")


def _error_event_message(raw: str, token: str) -> str | None:
    """``event: error`` carries ``null`` (Gradio up to 6.12), a dict ``{"error": str|null, ...}``
    (6.13+), or a plain string (an unknown event id: ``"404: Not Found"``)."""
    data = _parse_or_none(raw)
    if isinstance(data, dict):
        data = data.get("error")
    return _space_message(data, token)


def _space_message(value: Any, token: str, limit: int = 300) -> str | None:
    """The Space's own sentence, when it is a plain string and not a traceback."""
    if not isinstance(value, str) or not value.strip():
        return None
    if "Traceback (most recent call last)" in value or re.search(r'File "[^"]+", line \d+', value):
        return None
    return redaction.safe_sentence(value, token, limit)


def _fault(resp: transport.UpstreamResponse) -> errors.ProxyError:
    status = resp.status
    if status in (401, 403):
        return errors.upstream_auth_failed()
    if status == 429:
        return errors.upstream_rate_limited(transport.retry_after_seconds(resp.headers, DEFAULT_RETRY_AFTER))
    if status == 504:
        return errors.upstream_timeout()
    if status >= 500 or _is_html(resp):  # asleep, building, restarting: HF's proxy answers for it
        return errors.space_unavailable(transport.retry_after_seconds(resp.headers, DEFAULT_RETRY_AFTER))
    return errors.upstream_error(status)


def _is_html(resp: transport.UpstreamResponse) -> bool:
    return resp.headers.get("content-type", "").lower().startswith("text/html")


def _joins_queue(resp: transport.UpstreamResponse) -> bool:
    return b"join the queue" in resp.body


def _json_or_none(resp: transport.UpstreamResponse) -> Any:
    return _parse_or_none(resp.body)


def _parse_or_none(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _parse(raw: str) -> Any:
    data = _parse_or_none(raw)
    if data is None:
        raise errors.upstream_bad_response()
    return data


def _clean(text: str, token: str) -> str:
    """The Space's answer for our client: token forms redacted, lone surrogates made U+FFFD."""
    return redaction.well_formed(redaction.redact_text(text, token))
