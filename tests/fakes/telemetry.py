"""The core's telemetry sink, kept in memory: the request records tests read back."""

from __future__ import annotations

import threading

from shared.telemetry import RequestRecord


class Recorder:
    def __init__(self) -> None:
        self.records: list[RequestRecord] = []
        self._arrived = threading.Condition()

    def record(self, record: RequestRecord) -> None:
        with self._arrived:
            self.records.append(record)
            self._arrived.notify_all()

    def seen(self, count: int = 0, method: str | None = None, timeout: float = 5.0) -> list[tuple[str, str, int]]:
        """(method, path, status) of the records (only ``method``'s if given), once there are ``count``.

        A stream's record is written when the server closes the stream, which can be after the client
        has read its end: a test that reads it waits for it (a condition, not a sleep).
        """

        def matching() -> list[tuple[str, str, int]]:
            return [(r.method, r.path, r.status) for r in self.records if method in (None, r.method)]

        with self._arrived:
            self._arrived.wait_for(lambda: len(matching()) >= count, timeout)
            return matching()
