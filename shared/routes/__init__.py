"""The routes: one module per route (each declares a ``ROUTE``), the declaration type
(:mod:`shared.routes.route`), the model pipeline (:mod:`shared.routes.model`) and the table
(:mod:`shared.routes.table`)."""
