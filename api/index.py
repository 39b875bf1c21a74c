"""Vercel Python entry: ``api/index.py`` exposes the core's WSGI app and the client's address.

Vercel's Python runtime serves a module-level WSGI callable named ``app``
(https://vercel.com/docs/functions/runtimes/python). ``vercel.json`` routes ``/api/*`` here;
settings come from the project's environment variables (HF_TOKEN, ALLOWED_ORIGINS, ...).

The per-client limits count the address Vercel's edge saw. Vercel sets ``X-Forwarded-For`` and
``X-Real-IP`` to the client's address and overwrites a client's own values "to prevent IP
spoofing" (https://vercel.com/docs/headers/request-headers#x-forwarded-for). The runtime's bridge
builds ``REMOTE_ADDR`` from those headers by their exact names, but it also turns *every* header
into ``HTTP_<NAME>`` with ``-`` replaced by ``_``, so a client header spelled ``x_real_ip`` lands
on ``HTTP_X_REAL_IP`` too, and the later one wins
(https://github.com/vercel/vercel/blob/main/packages/python/vc_init.py, ``Handler.handle_request``).
So the address is ``REMOTE_ADDR`` (its first entry), never an ``HTTP_*`` key a client can collide with.
"""

from shared import adapter
from shared.app import app as core


def app(environ: dict, start_response):
    address = (environ.get("REMOTE_ADDR") or "").split(",")[0].strip()  # None when no header named it
    adapter.provide(environ, client_ip=address)
    return core(environ, start_response)


__all__ = ["app"]
