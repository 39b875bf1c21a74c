"""Redaction across the events of a relayed stream: a token split into deltas never reaches the browser.

Each event's text is redacted on its own by :mod:`shared.redaction`, but a client joins the deltas
(``choices[].delta.content``, TGI's ``token.text``, a Responses ``delta``): an upstream that echoes
our token 3 to 7 characters per event passed every per-event check. :class:`StreamRedactor` keeps,
for every string field of the events (by its JSON path: ``choices.0.delta.content``), the last
:data:`TAIL` characters already sent, and redacts each new value as the continuation of that tail:
a token form that starts in the tail and ends in the new value has its new part replaced by
``[redacted]``.

Nothing is held back, so the first token is not delayed by a single character: the part of a
fragment that was already sent is shorter than the shortest piece the redaction counts as a leak
(:data:`shared.redaction.MIN_FRAGMENT` characters of the token, more for its encoded forms), and
what would complete it never leaves. :data:`TAIL` covers the widest window of any form
(``\\uXXXX`` escapes: 48 characters). docs/security.md, "Streams".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from shared.redaction import REDACTED, redact_json_text, spans, well_formed, well_formed_json

TAIL = 64  # characters of each field's sent text kept as context (>= the widest form's window - 1)
MAX_FIELDS = 256  # fields tracked per stream; beyond, the oldest is forgotten (an upstream cannot grow this)

Path = tuple[str | int, ...]
_UNREAD: Any = object()


class StreamRedactor:
    def __init__(self, token: str) -> None:
        self._token = token
        self._tails: dict[Path, str] = {}

    def data(self, data: str, parsed: Any = _UNREAD) -> str:
        """One event's data as our client may get it, given every event sent before it. ``parsed``:
        the data as JSON when the caller has parsed it already (None: not JSON); never changed here."""
        stripped = data.strip()
        if stripped[:1] not in ("{", "[", '"'):
            parsed = None  # a bare number or word is text to us, as it is to the client that joins it
        elif parsed is _UNREAD:
            try:
                parsed = json.loads(stripped)
            except (ValueError, RecursionError):
                parsed = None
        if isinstance(parsed, str):  # a JSON string: its escapes resolved before it is looked at
            value = self._continue((), parsed)
            return well_formed(data) if value == parsed else json.dumps(well_formed(value), ensure_ascii=False)
        if not isinstance(parsed, (dict, list)):
            text = well_formed(self._continue((), data))
            if "\n" in text:  # several data lines: a client that reads each line as JSON decodes it
                text = "\n".join(_json_line(line, self._token) for line in text.split("\n"))
            return text
        leaves = list(_leaves(parsed, ()))
        windows = [self._tails.get(path, "") + value for path, value in leaves]
        # One scan for the whole event: NUL is in no form's alphabet, so nothing matches across it.
        # The text is in it too: json.loads keeps the last of a repeated key, and a token in an
        # earlier copy is in the text only. Re-encoding the parsed value drops that copy.
        if not spans("\x00".join([*windows, *_keys(parsed), data]), self._token):
            for path, value in leaves:  # the usual case: sent unchanged
                self._remember(path, value)
            return well_formed(data)
        parsed = json.loads(stripped)  # a copy, so the caller's value stays as the upstream sent it
        for path, value in leaves:
            _set(parsed, path, self._continue(path, value))
        return json.dumps(well_formed_json(_clean_keys(parsed, self._token)), ensure_ascii=False, separators=(",", ":"))

    def _continue(self, path: Path, value: str) -> str:
        """``value`` redacted as the continuation of what was sent before on ``path``."""
        tail = self._tails.get(path, "")
        window = tail + value
        cut = len(tail)
        found = sorted((max(start, cut) - cut, end - cut) for start, end in spans(window, self._token) if end > cut)
        if found:
            out, last = [], 0
            for start, end in found:
                if start < last:  # overlaps the previous span: extend it
                    start = last
                if end > last:
                    out += [value[last:start], REDACTED]
                    last = end
            value = "".join([*out, value[last:]])
        self._remember(path, value)
        return value

    def _remember(self, path: Path, sent: str) -> None:
        tails = self._tails
        tails[path] = (tails.pop(path, "") + sent)[-TAIL:]  # re-inserted: most recent last
        if len(tails) > MAX_FIELDS:
            del tails[next(iter(tails))]


def _leaves(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _set(root: Any, path: Path, value: str) -> None:
    target = root
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value


def _clean_keys(value: Any, token: str) -> Any:
    """Keys are not joined across events: each is redacted on its own."""
    from shared.redaction import redact_text

    if isinstance(value, dict):
        return {redact_text(k, token): _clean_keys(v, token) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean_keys(v, token) for v in value]
    return value


def _json_line(line: str, token: str) -> str:
    """One data line of an event that is not one JSON value: its string literals decoded and
    redacted when the line is JSON on its own (``data: "x"`` then ``data: "h\\u0066_..."``)."""
    try:
        json.loads(line)
    except (ValueError, RecursionError):
        return line
    return redact_json_text(line, token)
