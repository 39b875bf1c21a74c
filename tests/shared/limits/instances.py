"""One warm Lambda "instance" for the concurrency test: a separate process running the real handler.

Run as ``python -m tests.shared.limits.instances`` with the function's environment; reads a JSON
plan on stdin, loads the handler, prints ``READY``, waits for ``GO`` (so every instance races at
once), then calls the handler from many threads and prints ``RESULT <json>``: the status of each
call per client address. (The handler's own EMF lines go to stdout too; the prefix tells them apart.)
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor


def main() -> None:
    plan = json.loads(sys.stdin.readline())
    from functions.aws_lambda import handler
    from tests.fakes.lambda_context import LambdaContext
    from tests.functions.aws_lambda import events

    parameters = {"max_new_tokens": plan["max_new_tokens"], **({"details": True} if plan.get("details") else {})}
    body = json.dumps({"inputs": "Hi", "parameters": parameters})

    def call(address: str) -> tuple[str, int]:
        event = events.load(plan["shape"], body=body, source_ip=address, headers={"content-type": "application/json"})
        return address, handler.lambda_handler(event, LambdaContext())["statusCode"]

    calls = [a for a, n in plan["calls"].items() for _ in range(n)]
    print("READY", flush=True)
    if sys.stdin.readline().strip() != "GO":
        raise SystemExit("no GO")
    with ThreadPoolExecutor(plan["threads"]) as pool:
        results = list(pool.map(call, calls))
    statuses: dict[str, list[int]] = {}
    for address, status in results:
        statuses.setdefault(address, []).append(status)
    print("RESULT " + json.dumps(statuses), flush=True)


if __name__ == "__main__":
    main()
