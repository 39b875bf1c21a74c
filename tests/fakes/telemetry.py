"""The core's telemetry sink, kept in memory: the request records tests read back."""

from __future__ import annotations

import threading

from shared.telemetry import RequestRecord


class Recorder:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self.written = threading.Event()  # set once a record arrives (a stream's, after it closes)

    def record(self, record: RequestRecord) -> None:
        self.records.append(record)
        self.written.set()

    def seen(self) -> list[tuple[str, str, int]]:
        return [(r.method, r.path, r.status) for r in self.records]
