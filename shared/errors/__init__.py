"""The catalogue of stable error codes (the envelope's type, :class:`ProxyError`, is in :mod:`shared.envelope`).

Every failure a client can see is a :class:`ProxyError`; its ``code`` is part of the public API
(documented in docs/api.md), its ``message`` is a sentence a person can act on. Nothing here ever
carries a stack trace, the token, or a raw upstream body. One catalogue, filed by who is at fault:
callers use ``errors.<code>(...)`` whichever file holds it.
"""

from __future__ import annotations

from shared.envelope import ConfigError as ConfigError
from shared.envelope import ProxyError as ProxyError
from shared.errors.access import *  # noqa: F403
from shared.errors.request import *  # noqa: F403
from shared.errors.space import *  # noqa: F403
from shared.errors.upstream import *  # noqa: F403
