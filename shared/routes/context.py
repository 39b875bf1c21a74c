"""Per-request context handed to every route handler."""

from __future__ import annotations

from dataclasses import dataclass

from shared.deadline import Deadline
from shared.settings import Settings
from shared.telemetry import RequestRecord


@dataclass
class Context:
    settings: Settings
    deadline: Deadline
    record: RequestRecord  # routes fill in model, sizes and upstream figures; never content

    def token(self) -> str:
        from shared.credentials import resolve_token

        return resolve_token(self.settings)
