"""Cold import + first request of several checkouts and the Flask baseline, side by side.

``python -m bench.cold_ab [RUNS] TREE...`` runs the cold-first probe (``bench.probes``) RUNS times
(default 15) for our handler in each checkout TREE and for the Flask baseline (from this checkout),
interleaved against one fake upstream, and prints each median and its ratio to the baseline's.
docs/benchmarks.md's before/after cold-start figures are its output.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT, Upstream, median, proxy_env


def first_request(tree: Path, env: dict, subject: str, event: str) -> float:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, "-m", "bench.probes", "cold-first", out.name, subject, event],
            cwd=tree,
            env={**env, "PYTHONPATH": str(tree)},
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
        )
        got = json.loads(Path(out.name).read_text())
    assert got["status"] == 200, got
    return got["seconds"]


def main(argv: list[str]) -> None:
    from bench.run import event_file

    runs = int(argv[0]) if argv and argv[0].isdigit() else 15
    trees = [Path(t).resolve() for t in argv[1 if argv and argv[0].isdigit() else 0 :]] or [ROOT]
    subjects = [(str(tree), tree, "ours") for tree in trees] + [("Flask baseline", ROOT, "baseline")]
    with tempfile.TemporaryDirectory() as tmp, Upstream() as upstream:
        event, env = event_file(tmp), proxy_env(upstream.url)
        times: dict[str, list[float]] = {name: [] for name, _, _ in subjects}
        for _ in range(runs):  # interleaved, so a busy moment hits every subject alike
            for name, tree, subject in subjects:
                times[name].append(first_request(tree, env, subject, event))
    flask = median(times["Flask baseline"])
    print(f"cold import + first request, median of {runs} interleaved runs")
    for name, values in times.items():
        print(f"  {median(values) * 1e3:7.1f} ms  {median(values) / flask:.2f} of the Flask baseline's  {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
