"""The fake HF upstream in its own process: ``python -m bench.upstream [--delay S]``.

Prints its base URL on stdout, then serves until stdin closes (the parent exits or closes it).
``GET /_bench/connections`` answers how many TCP connections it accepted before that request
(the probe's own connection is not counted); ``POST /_bench/reset`` forgets connections and log.
"""

from __future__ import annotations

import argparse
import sys

from tests.fakes.hf_inference import echo_generation
from tests.fakes.http_server import FakeServer, Received, Reply

CONNECTIONS_PATH = "/_bench/connections"
RESET_PATH = "/_bench/reset"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    args = parser.parse_args()
    fake: FakeServer

    def respond(req: Received) -> Reply:
        if req.path == CONNECTIONS_PATH:
            with fake._lock:
                fake.received.clear()
                return Reply(json={"connections": fake.connections - 1})
        if req.path == RESET_PATH:
            fake.reset()
            return Reply(json={"connections": 0})
        reply = echo_generation(req)
        reply.delay = args.delay
        return reply

    fake = FakeServer(default=respond).start()
    print(fake.url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    fake.stop()


if __name__ == "__main__":
    main()
