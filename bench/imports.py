"""Where a cold import + first request spends its import time (``python -X importtime``).

``python -m bench.imports [RUNS] [TREE ...]`` runs the cold-first probe (``bench.probes``) under
``-X importtime`` RUNS times (default 7) in each checkout TREE (default: this one), interleaved,
against one fake upstream, and prints per tree the median self time by owner and the heaviest
imports by median cumulative time. docs/benchmarks.md's before/after profile is its output for the
commit before the cold-start work and the one after; ``make bench`` prints one run's note.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import ROOT

# Who owns a module, by its top-level package.
OWNERS = {
    "pydantic": ("pydantic", "pydantic_core", "annotated_types", "typing_extensions", "typing_inspection"),
    "werkzeug + serverless-wsgi": ("werkzeug", "serverless_wsgi", "markupsafe"),
    "powertools": ("aws_lambda_powertools", "jmespath"),
    "urllib3 + certifi": ("urllib3", "certifi"),
    "our modules (pydantic building our models included)": ("shared", "functions"),
}
STARTUP = {"encodings", "site", "runpy", "bench", "_distutils_hack", "sitecustomize", "usercustomize", "json"}
OTHER = "standard library and the rest"

Profile = dict[str, tuple[float, float, int]]  # module -> (self ms, cumulative ms, depth)


def profile(tree: Path, env: dict, event: str) -> Profile:
    """One ``-X importtime`` run of the cold-first probe in ``tree`` (``json`` is the probe's own)."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "bench.probes", "cold-first", out.name, "ours", event],
            cwd=tree,
            env={**env, "PYTHONPATH": str(tree)},
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    found: Profile = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, raw = (part.rstrip() for part in line[len("import time:") :].split("|"))
        name = raw.strip()
        if name.split(".")[0] not in STARTUP:
            depth = (len(raw) - len(raw.lstrip()) - 1) // 2  # "-X importtime" indents two spaces a level
            found[name] = (int(self_us) / 1000, int(cumulative_us) / 1000, depth)
    return found


def by_owner(runs: list[Profile]) -> dict[str, float]:
    """Median over the runs of each owner's summed self time, largest first."""
    sums: dict[str, list[float]] = {}
    for run in runs:
        totals: dict[str, float] = {}
        for name, (self_ms, _, _) in run.items():
            owner = next((o for o, tops in OWNERS.items() if name.split(".")[0] in tops), OTHER)
            totals[owner] = totals.get(owner, 0.0) + self_ms
        for owner, ms in totals.items():
            sums.setdefault(owner, []).append(ms)
    medians = {owner: statistics.median(values) for owner, values in sums.items()}
    return dict(sorted(medians.items(), key=lambda kv: -kv[1]))


def heaviest(runs: list[Profile], count: int = 12) -> list[tuple[str, float, int]]:
    """The modules with the largest median cumulative time (with the depth they were imported at)."""
    names = set().union(*runs)
    rows = []
    for name in names:
        seen = [run[name] for run in runs if name in run]
        if len(seen) == len(runs):
            rows.append((name, statistics.median(c for _, c, _ in seen), min(d for _, _, d in seen)))
    return sorted(rows, key=lambda row: -row[1])[:count]


def note(env: dict, event: str) -> str:
    """``make bench``'s note: one run in this checkout."""
    run = [profile(ROOT, env, event)]
    shares = ", ".join(f"{owner} {ms:.0f} ms" for owner, ms in by_owner(run).items())
    top = ", ".join(f"{name} {ms:.0f}" for name, ms, depth in heaviest(run, 8) if depth == 0)
    return (
        f"cold import + first request, module import time by owner (one -X importtime run): {shares}\n"
        f"  its outermost imports by cumulative time (ms): {top}"
    )


def main(argv: list[str]) -> None:
    from bench.common import Upstream, proxy_env
    from bench.run import event_file

    runs = int(argv[0]) if argv and argv[0].isdigit() else 7
    trees = [Path(t).resolve() for t in argv[1 if argv and argv[0].isdigit() else 0 :]] or [ROOT]
    with tempfile.TemporaryDirectory() as tmp, Upstream() as upstream:
        event, env = event_file(tmp), proxy_env(upstream.url)
        got: dict[Path, list[Profile]] = {tree: [] for tree in trees}
        for _ in range(runs):  # interleaved, so a busy moment hits every tree alike
            for tree in trees:
                got[tree].append(profile(tree, env, event))
    for tree, profiles in got.items():
        print(f"{tree}: median of {runs} -X importtime runs of the cold import + first request")
        print("  by owner (self ms): " + ", ".join(f"{o} {ms:.1f}" for o, ms in by_owner(profiles).items()))
        for name, ms, depth in heaviest(profiles):
            print(f"  {ms:7.1f} ms cumulative  {'  ' * depth}{name}")


if __name__ == "__main__":
    main(sys.argv[1:])
