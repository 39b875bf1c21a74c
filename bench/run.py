"""``make bench``: what the proxy adds to the upstream call, measured side by side in one run.

Every figure runs against the same loopback fake upstream (``bench.upstream``
in its own process, so its threads stay out of our timings and RSS), next to a
reference: a direct ``requests.Session().post``, a bare ``import requests``, and the seed-000-style
Flask baseline (``bench/baseline_flask.py``). Prints figure | ours | reference | ratio | target | ok
and exits 1 if a target is missed. Issue 5 of the project sets the targets.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import tempfile
import time

from bench import bundle, imports, limits
from bench.common import MODEL_PATH, PAYLOAD, ROOT, Table, Upstream, median, proxy_env, run_probe
from bench.local import local_concurrency, server_rows, stream_first_chunk

WARM_ROUNDS = int(os.environ.get("BENCH_WARM_ROUNDS", "2000"))
COLD_RUNS = int(os.environ.get("BENCH_COLD_RUNS", "15"))
MEMORY_REQUESTS = 1000
LIMIT_ROUNDS = int(os.environ.get("BENCH_LIMIT_ROUNDS", "2000"))
MB = 1024 * 1024


def machine() -> str:
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {datetime.date.today().isoformat()}"
    )


def event_file(tmp: str) -> str:
    """The HTTP API (payload 2.0) event of events/generate.json (``sam local invoke``'s), carrying our JSON body."""
    event = json.loads((ROOT / "events" / "generate.json").read_text())
    event.update(body=json.dumps(PAYLOAD), isBase64Encoded=False)
    path = os.path.join(tmp, "http_api_v2.json")
    with open(path, "w") as f:
        json.dump(event, f)
    return path


def warm(table: Table, env: dict, event: str) -> None:
    r = run_probe("warm", env, event, str(WARM_ROUNDS), timeout=600)
    b = run_probe("baseline", env, event, str(WARM_ROUNDS // 4), timeout=600)
    ours, direct, base = median(r["times"]["ours"]), median(r["times"]["direct"]), median(b["times"])
    bare, floor = median(r["times"]["bare"]), median(r["times"]["floor"])
    assert r["same_answer"], "our answer must equal the upstream's"
    table.add(
        f"warm overhead, median of {WARM_ROUNDS} interleaved (lambda_handler, HTTP API v2 event)",
        f"{ours * 1e6:.0f} µs",
        f"{direct * 1e6:.0f} µs direct requests.Session().post",
        f"{ours / direct:.2f}",
        "≤ 1.15",
        ours / direct <= 1.15,
    )
    table.add(
        "  the same handler against one bare pooled urllib3 request, same run",
        f"{ours * 1e6:.0f} µs",
        f"{bare * 1e6:.0f} µs urllib3 urlopen",
        f"{ours / bare:.2f}",
        "≤ 1.50",
        ours / bare <= 1.5,
    )
    table.add(
        "  the floor: the required stack alone (bench/floor.py: serverless-wsgi, powertools, pydantic, urllib3)",
        f"{floor * 1e6:.0f} µs",
        f"{bare * 1e6:.0f} µs urllib3 urlopen",
        f"{floor / bare:.2f}",
        "(reported)",
        None,
    )
    table.add(
        f"  seed-000-style Flask baseline, same event and front door, {WARM_ROUNDS // 4} requests",
        f"{base * 1e6:.0f} µs",
        f"{direct * 1e6:.0f} µs direct",
        f"{base / direct:.2f}",
        "(reference)",
        None,
    )
    table.add(
        "upstream TCP connections for 100 sequential invocations (first one cold)",
        str(r["connections"]),
        f"{b['connections']} (Flask baseline)",
        "-",
        "1",
        r["connections"] == 1,
    )


def transport(table: Table, env: dict, event: str) -> None:
    r = run_probe("transport", env, str(WARM_ROUNDS), timeout=600)
    assert r["same_answer"], "the three ways must get the same answer"
    ours, post, send = (median(r["times"][k]) for k in ("ours", "session_post", "adapter_send"))
    table.add(
        f"one upstream call, median of {WARM_ROUNDS} interleaved: our transport (UpstreamCall.request)",
        f"{ours * 1e6:.0f} µs",
        f"{post * 1e6:.0f} µs requests.Session().post / {send * 1e6:.0f} µs HTTPAdapter.send",
        f"{ours / post:.2f} / {ours / send:.2f}",
        "(reported)",
        None,
    )


def cold(table: Table, env: dict, event: str) -> None:
    runs: dict[str, list[float]] = {
        "ours": [],
        "requests": [],
        "baseline": [],
        "ours_first": [],
        "requests_first": [],
        "baseline_first": [],
        "floor_first": [],
    }
    loaded_import: set[str] = set()
    loaded_first: set[str] = set()
    for _ in range(COLD_RUNS):  # interleaved, so a busy moment hits every subject alike
        for subject in ("ours", "requests", "baseline"):
            got = run_probe("cold-import", env, subject)
            runs[subject].append(got["seconds"])
            if subject == "ours":
                loaded_import |= set(got["loaded"])
            got = run_probe("cold-first", env, subject, event)
            assert got["status"] == 200, got
            runs[f"{subject}_first"].append(got["seconds"])
            if subject == "ours":
                loaded_first |= set(got["loaded"])
        got = run_probe("cold-first", env, "floor", event)  # the required stack alone (bench/floor.py)
        assert got["status"] == 200, got
        runs["floor_first"].append(got["seconds"])
    m = {k: median(v) for k, v in runs.items()}
    ratio = m["ours"] / m["requests"]
    table.add(
        f"cold start: fresh-process import, median of {COLD_RUNS}",
        f"{m['ours'] * 1e3:.1f} ms",
        f"{m['requests'] * 1e3:.1f} ms import requests",
        f"{ratio:.2f}",
        "≤ 1.6",
        ratio <= 1.6,
    )
    first = m["ours_first"] / m["baseline_first"]  # issue #27: a new instance answers no later than Flask's
    table.add(
        f"  cold import + first request, median of {COLD_RUNS} (what import skipped is paid here)",
        f"{m['ours_first'] * 1e3:.1f} ms",
        f"{m['baseline_first'] * 1e3:.1f} ms Flask baseline, same event",
        f"{first:.2f}",
        "≤ 1.00",
        first <= 1.00,
    )
    table.add(
        "  the floor: the required stack alone (bench/floor.py), import + first request",
        f"{m['floor_first'] * 1e3:.1f} ms",
        f"{m['baseline_first'] * 1e3:.1f} ms Flask baseline",
        f"{m['floor_first'] / m['baseline_first']:.2f}",
        "(reported)",
        None,
    )
    table.add(
        "  cold import + first request, against plain requests",
        f"{m['ours_first'] * 1e3:.1f} ms",
        f"{m['requests_first'] * 1e3:.1f} ms import requests + requests.post",
        f"{m['ours_first'] / m['requests_first']:.2f}",
        "(reported)",
        None,
    )
    table.add(
        "  Flask baseline: import / import + first request",
        f"{m['baseline'] * 1e3:.1f} / {m['baseline_first'] * 1e3:.1f} ms",
        "-",
        "-",
        "(reference)",
        None,
    )
    heavy = sorted(loaded_first & {"boto3", "aws_lambda_powertools.utilities.parameters", "redis"})
    table.add(
        "  boto3 / powertools parameters / redis imported (no secret ARN, no quota store)",
        ", ".join(heavy) or "none",
        "-",
        "-",
        "none",
        not heavy,
    )
    lazy = sorted(loaded_import & {"requests", "pydantic"})
    table.add(
        "  requests / pydantic imported at cold import", ", ".join(lazy) or "neither", "-", "-", "(reported)", None
    )


def memory(table: Table, env: dict, event: str) -> None:
    got = {s: run_probe("memory", env, s, event, str(MEMORY_REQUESTS)) for s in ("ours", "baseline")}

    def figures(r: dict) -> tuple[float, float]:
        rss = r["rss_kib"]
        return r["peak_kib"] / 1024, (rss[str(MEMORY_REQUESTS)] - rss["100"]) / 1024

    peak, growth = figures(got["ours"])
    base_peak, base_growth = figures(got["baseline"])
    table.add(
        f"memory: peak RSS after {MEMORY_REQUESTS} warm requests",
        f"{peak:.1f} MB",
        f"{base_peak:.1f} MB Flask baseline",
        f"{peak / base_peak:.2f}",
        "≤ 60 MB",
        peak <= 60,
    )
    table.add(
        f"memory: RSS growth, request 100 → {MEMORY_REQUESTS}",
        f"{growth:+.2f} MB",
        f"{base_growth:+.2f} MB Flask baseline",
        "-",
        "< 2 MB",
        growth < 2,
    )


def bundles(table: Table) -> list[str]:
    got = bundle.measure()
    notes = []
    for name, label in (("lambda", "bundle: Lambda (sam build)"), ("vercel", "bundle: Vercel runtime install")):
        b = got[name]
        size = b["bytes"] / MB
        bad = b["forbidden"]
        table.add(
            label,
            f"{size:.1f} MB",
            ", ".join(bad) or "no moto/pytest/boto3/botocore",
            "-",
            "≤ 26 MB, no test tools",
            size <= 26 and not bad,
        )
        top = ", ".join(f"{n} {s / MB:.1f}" for n, s in b["top"])
        notes.append(f"{label}: {b['how']}; largest (MB): {top}")
    return notes


def spend_limits(table: Table, env: dict, event: str) -> None:
    got = limits.measure(env["HF_INFERENCE_URL"].removesuffix(MODEL_PATH), LIMIT_ROUNDS)
    none, mem, red = got["none"], got["memory"], got["redis"]
    table.add(
        f"limits on, memory store (3 counters), median of {LIMIT_ROUNDS} interleaved through the core",
        f"{mem * 1e6:.0f} µs",
        f"{none * 1e6:.0f} µs same request, no limits",
        f"{mem / none:.3f}",
        "≤ 1.05",
        mem / none <= 1.05,
    )
    table.add(
        "  limits on, Redis on loopback: added per request (one PING round trip for scale)",
        f"+{(red - none) * 1e6:.0f} µs",
        f"{got['ping'] * 1e6:.0f} µs PING",
        f"{red / none:.2f}",
        "(reported)",
        None,
    )
    table.add(
        "  Redis round trips per limited request (INFO commandstats, the script's inner calls aside)",
        f"{got['commands']:g}",
        "-",
        "-",
        "1 (one script call)",
        got["commands"] == 1,
    )


def main() -> int:
    started = time.perf_counter()
    print(f"hfproxy bench on {machine()}", flush=True)
    table = Table()
    with tempfile.TemporaryDirectory(prefix="hfproxy-bench-") as tmp, Upstream() as upstream:
        event = event_file(tmp)
        env = proxy_env(upstream.url)
        for step in (warm, transport, cold, memory, spend_limits, stream_first_chunk, server_rows):
            print(f"  {step.__name__} ...", flush=True)
            step(table, env, event)
        import_note = imports.note(env, event)
    print("  bundles ...", flush=True)
    notes = [import_note, *bundles(table)]
    print("  local concurrency ...", flush=True)
    local_concurrency(table)
    print()
    print(table.render())
    print()
    for note in notes:
        print(note)
    print("stdout of the measured processes: /dev/null (powertools' EMF line is still written)")
    print(f"total bench time {time.perf_counter() - started:.0f} s")
    if table.missed:
        print(f"MISSED: {'; '.join(table.missed)}", file=sys.stderr)
        return 1
    print("all targets met")
    return 0
