"""Collects how long the proxy took to answer each upstream fault and prints the table after the run."""

from __future__ import annotations

TIMINGS: dict[str, tuple[int, str, float]] = {}  # fault -> (status, code, seconds to answer)


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    terminalreporter.section("upstream faults: time to answer (deadline 1.0 s)")
    for fault, (status, code, seconds) in sorted(TIMINGS.items()):
        terminalreporter.write_line(f"{fault:<34} {status} {code:<22} {seconds * 1000:7.0f} ms")
