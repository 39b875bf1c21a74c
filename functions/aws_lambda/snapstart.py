"""SnapStart's runtime hooks (template.yaml parameter ``SnapStart``; docs/deploy-aws.md, "SnapStart").

With SnapStart on, Lambda initializes a published version once, snapshots it, and starts new
instances from that snapshot. Before the snapshot, :func:`warm` imports what the first request
would otherwise import (pydantic and the request models of every model route, their upstream
clients, urllib3), so a restored instance starts with them loaded. It calls nothing upstream and
reads no token: a snapshot holds no connection and no secret. After a restore, :func:`restored`
re-seeds :mod:`random`, whose state the snapshot would otherwise give every instance alike
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-uniqueness.html); request ids and the
clearance nonces come from ``os.urandom`` (uuid4, :mod:`secrets`) and need nothing.

The hooks come from ``snapshot_restore_py``, which Lambda's Python 3.12+ managed runtimes include
(https://docs.aws.amazon.com/lambda/latest/dg/snapstart-runtime-hooks-python.html). Elsewhere
(tests, ``make serve``, Vercel) the import fails and nothing is registered; without SnapStart on,
Lambda never runs them.
"""

from __future__ import annotations

import importlib
import random
from typing import Any

WARMED = ("urllib3", "shared.auth", "shared.routes.model", "shared.upstreams.call")


def register(app: Any) -> bool:
    """Register the hooks for ``app`` (a ``ProxyApp``) when the runtime offers them."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:  # not on Lambda's managed runtime
        return False
    register_before_snapshot(warm, app)
    register_after_restore(restored)
    return True


def warm(app: Any) -> None:
    """Import what a first model request needs, for every model route of ``app``'s table."""
    from shared.routes import model
    from shared.routes.route import lazy

    for name in WARMED:
        importlib.import_module(name)
    for route in app.routes.model_routes():
        if route.body is not None:
            model.schema(route.body)  # imports pydantic and builds the route's request model
        for upstream in (route.model.live, route.model.demo):
            if isinstance(upstream, lazy):
                importlib.import_module(upstream.target.partition(":")[0])


def restored() -> None:
    random.seed()  # from os.urandom: each restored instance its own sequence
