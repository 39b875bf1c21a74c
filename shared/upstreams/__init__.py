"""Upstream clients: one module per upstream protocol, all built on :mod:`shared.upstreams.transport`."""
