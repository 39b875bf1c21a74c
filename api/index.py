"""Vercel Python entry: ``api/index.py`` exposes the core's WSGI app, nothing else.

Vercel's Python runtime serves a module-level WSGI callable named ``app``
(https://vercel.com/docs/functions/runtimes/python). ``vercel.json`` routes ``/api/*`` here;
settings come from the project's environment variables (HF_TOKEN, ALLOWED_ORIGINS, ...).
"""

from shared.app import app

__all__ = ["app"]
