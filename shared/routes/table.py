"""The route table: every route the app serves, each declared once in its own module.

Adding a route is its module (a :class:`~shared.routes.route.Route` named ``ROUTE``), one line
here, its tests and its doc; the app, health, deep health, OpenAPI, the spend limits and demo
mode all read this table (docs/architecture.md, "Adding a route").
"""

from __future__ import annotations

from shared.routes import chat, clearance, generate, health, models, openapi, predict, responses
from shared.routes.route import RouteTable

ROUTES = RouteTable.of(
    [
        generate.ROUTE,
        chat.ROUTE,
        responses.ROUTE,
        predict.ROUTE,
        models.ROUTE,
        models.ONE,
        health.ROUTE,
        openapi.ROUTE,
        clearance.ROUTE,
    ]
)
