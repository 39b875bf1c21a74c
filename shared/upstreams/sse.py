"""Server-sent events from lines: the subset Gradio's ``/call/{api_name}/{event_id}`` stream uses.

Per the HTML standard's event-stream interpretation: ``event:`` names the event, ``data:`` lines
join with ``\\n``, one space after the colon is dropped, lines starting with ``:`` are comments,
a blank line dispatches. https://html.spec.whatwg.org/multipage/server-sent-events.html
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    name: str
    data: str


def events(lines: Iterable[str]) -> Iterator[Event]:
    name, data = "", []
    for line in lines:
        if not line:
            if data or name:
                yield Event(name or "message", "\n".join(data))
            name, data = "", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    if data or name:  # a stream cut right after its last data line still counts
        yield Event(name or "message", "\n".join(data))
