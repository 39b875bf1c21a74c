"""moto's own HTTP server on loopback, for tests where several processes share one DynamoDB.

moto's DynamoDB keeps no lock: two threads of its threaded server can both pass the same
condition check, which real DynamoDB never allows (a conditional write is atomic per item:
https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html).
So the app moto's ``ThreadedMotoServer`` serves is wrapped to run one request at a time, which is
what a conditional write looks like from outside; connections are still handled by many threads.
"""

from __future__ import annotations

import threading

import requests
from werkzeug.serving import make_server


class MotoServer:
    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        moto_app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def one_at_a_time(environ, start_response):
            with lock:
                return list(moto_app(environ, start_response))

        self._server = make_server("127.0.0.1", 0, one_at_a_time, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> MotoServer:
        """Serve, starting empty: moto keeps its state per process, shared by every server, so
        an earlier test's tables are dropped (https://docs.getmoto.org/en/latest/docs/server_mode.html#reset-api)."""
        self._thread.start()
        requests.post(self.url + "/moto-api/reset", timeout=10)
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(10)
        self._server.server_close()
