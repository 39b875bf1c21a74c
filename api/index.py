"""Vercel Python entry: ``api/index.py`` exposes the core's WSGI app and the client's address.

Vercel's Python runtime serves a module-level WSGI callable named ``app``
(https://vercel.com/docs/functions/runtimes/python). ``vercel.json`` routes ``/api/*`` here;
settings come from the project's environment variables (HF_TOKEN, ALLOWED_ORIGINS, ...).
The per-client limits count the address Vercel's edge saw: ``X-Real-IP``, which Vercel sets
and overwrites, like ``X-Forwarded-For``, "to prevent IP spoofing"
(https://vercel.com/docs/headers/request-headers#x-real-ip).
"""

from shared import adapter
from shared.app import app as core


def app(environ: dict, start_response):
    adapter.provide(environ, client_ip=environ.get("HTTP_X_REAL_IP", ""))
    return core(environ, start_response)


__all__ = ["app"]
