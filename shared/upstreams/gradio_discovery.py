"""How to talk to the Llama Space, learned once per warm process: its protocol and its endpoint.

``GET {space}/config`` says which Gradio (version, ``api_prefix``), hence which protocol
(docs/upstreams.md, "Gradio Space"); ``GET {prefix}/info`` lists the named endpoints. When
``LLAMA_SPACE_API_NAME`` is not set, the one endpoint ``/info`` lists is the one called: Gradio 6
names an ``Interface``'s endpoint after its function (``/ask_llama`` for ``def ask_llama``, ``/lambda``
for a lambda), https://www.gradio.app/guides/view-api-page. Several listed: the operator must choose.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from shared import errors
from shared.settings import Settings
from shared.upstreams import transport
from shared.upstreams.call import UpstreamCall
from shared.upstreams.space_faults import fault, is_html

GRADIO_PREFIX = "/gradio_api"  # api_prefix from Gradio 5.0 on, when /config does not say


@dataclass(frozen=True)
class SpaceApi:
    kind: str  # "contract" | "rest" | "call"
    version: str | None = None
    prefix: str = ""
    api_name: str | None = None  # the one endpoint /info listed (only when LLAMA_SPACE_API_NAME is unset)


_discovered: dict[str, SpaceApi] = {}


def forget(space_url: str | None = None) -> None:
    """Drop cached discoveries (a Space rebuilt on another Gradio version; tests)."""
    if space_url is None:
        _discovered.clear()
    else:
        _discovered.pop(space_url, None)


@dataclass
class SpaceCall:
    """One request's calls to the Space: its URL and the request's :class:`UpstreamCall`."""

    space: str
    upstream: UpstreamCall

    @property
    def token(self) -> str:
        return self.upstream.token

    @property
    def settings(self) -> Settings:
        return self.upstream.settings

    def post(self, path: str, body: Any) -> transport.UpstreamResponse:
        return self.upstream.request("POST", self.space + path, body)

    def get(self, path: str) -> transport.UpstreamResponse:
        return self.upstream.request("GET", self.space + path)

    def events(self, path: str, silence: float) -> transport.Exchange:
        """Open an event stream; ``silence``: the longest quiet between two reads."""
        return self.upstream.open("GET", self.space + path, stream=True, silence=silence)


def discover(call: SpaceCall) -> SpaceApi:
    mode = call.settings.llama_space_protocol
    if mode == "contract":
        return SpaceApi("contract")
    cached = _discovered.get(call.space)
    if cached is not None:
        return cached
    resp = call.get("/config")
    if resp.status in (401, 403, 429) or resp.status >= 500 or is_html(resp):
        raise fault(resp)  # asleep, building, or refused: nothing learned, nothing cached
    config = json_or_none(resp.body) if resp.status == 200 else None
    if isinstance(config, dict) and isinstance(config.get("version"), str) and "components" in config:
        api = _api_for(config)
    else:  # 404, or JSON that is not a Gradio config: a Space that mounts its own routes
        api = _not_gradio(mode)
    _discovered[call.space] = api
    return api


def endpoint_name(call: SpaceCall, api: SpaceApi) -> str:
    """``LLAMA_SPACE_API_NAME``, else the one named endpoint the Space's ``/info`` lists."""
    configured = call.settings.llama_space_api_name
    if configured:
        return configured
    if api.api_name:
        return api.api_name
    resp = call.get(f"{api.prefix}/info")
    if resp.status != 200 or is_html(resp):
        raise fault(resp) if resp.status != 404 else errors.space_api_name_ambiguous(None)
    listed = names_in(json_or_none(resp.body))
    if listed is None or len(listed) != 1:
        raise errors.space_api_name_ambiguous(listed)
    _discovered[call.space] = replace(api, api_name=listed[0])
    return listed[0]


def listed_names(call: SpaceCall, api: SpaceApi) -> list[str] | None:
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
    if resp is None or resp.status != 200:
        return None
    return names_in(json_or_none(resp.body))


def names_in(info: Any) -> list[str] | None:
    named = info.get("named_endpoints") if isinstance(info, dict) else None
    if not isinstance(named, dict):
        return None
    return sorted(str(key).strip("/") for key in named)


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


def json_or_none(raw: bytes | str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


def space_status(upstream: UpstreamCall) -> dict:
    """The deep health check of ``/api/predict``: read the Space's ``/config`` (and ``/info``) as
    the route would, without calling its model."""
    s = upstream.settings
    call = SpaceCall(s.llama_space_url or "", upstream)
    try:
        api = discover(call)
        if api.kind == "contract":
            return {"state": "unknown", "reason": "not_gradio", "protocol": "contract"}
        name = endpoint_name(call, api)
        if s.llama_space_api_name:  # named by the operator: is it there?
            listed = listed_names(call, api)
            if listed is not None and name not in listed:
                return {"state": "not_served", "reason": "space_api_name_unknown", "gradio": api.version}
    except errors.ProxyError as exc:
        return {"state": _SPACE_STATES.get(exc.code, "unknown"), "reason": exc.code}
    return {"state": "live", "gradio": api.version, "api_name": name}


_SPACE_STATES = {
    "upstream_auth_failed": "gated",  # a private Space that refuses the server's token
    "space_api_name_ambiguous": "not_served",
    "space_not_gradio": "not_served",
    "upstream_error": "not_served",  # a 4xx: no such Space at LLAMA_SPACE_URL
}
