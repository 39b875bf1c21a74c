"""Serve the demo page (``public/``) beside the proxy for ``make serve``, outside the core.

GET/HEAD requests not under ``/api/`` are answered from the folder when a file matches (``/`` is
``index.html``); everything else goes to the wrapped app unchanged, so the core's routes, 404s
and errors stay the same as on Lambda and Vercel. On Vercel and Netlify the platform serves
``public/`` itself.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from pathlib import Path

PUBLIC_DIR = Path(__file__).resolve().parents[2] / "public"
_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


class StaticFiles:
    def __init__(self, app, root: Path = PUBLIC_DIR) -> None:
        self.app = app
        self.root = root.resolve()

    def _file_for(self, path: str) -> Path | None:
        """The file for ``path``, or None: the core then answers its JSON 404 for any path."""
        if path.endswith("/"):
            path += "index.html"
        # A NUL or an over-long name makes the file system raise (ValueError "embedded null
        # byte", OSError ENAMETOOLONG); no file in public/ has such a name, so it is not ours.
        if "\x00" in path or len(path) > 255:
            return None
        try:
            candidate = (self.root / path.lstrip("/")).resolve()
            # never outside the folder (``..``, symlinks), never a dotfile
            if not candidate.is_relative_to(self.root) or any(
                p.startswith(".") for p in candidate.relative_to(self.root).parts
            ):
                return None
            return candidate if candidate.is_file() else None
        except (OSError, ValueError):
            return None

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO") or "/"
        if method in ("GET", "HEAD") and not (path == "/api" or path.startswith("/api/")):
            found = self._file_for(path)
            if found is not None:
                body = found.read_bytes()
                content_type = (
                    _TYPES.get(found.suffix) or mimetypes.guess_type(found.name)[0] or "application/octet-stream"
                )
                start_response(
                    "200 OK",
                    [
                        ("Content-Type", content_type),
                        ("Content-Length", str(len(body))),
                        ("Cache-Control", "no-cache"),
                        ("X-Content-Type-Options", "nosniff"),
                    ],
                )
                return [b"" if method == "HEAD" else body]
        return self.app(environ, start_response)
