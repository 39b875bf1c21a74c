"""No secret in any log line, whoever writes it: our loggers, urllib3's, the platform's root handler.

A filter on a handler sees only that handler's records, and handlers come and go (the Lambda
runtime's root handler exists before our import; ``logging.basicConfig`` in the local server runs
after it). The one place every record passes through, whoever logs it and whatever handler prints
it, is its creation: :func:`install` wraps the process's log record factory
(https://docs.python.org/3/library/logging.html#logging.setLogRecordFactory). Each record is
built only when its logger is enabled for its level, so a record that nobody prints costs nothing.

For each record the message is formatted once and redacted (every form
:func:`shared.redaction.redact_text` knows, for every registered secret, plus any Hugging Face
token and any ``Bearer``/``Basic`` value), the traceback is rendered, redacted and kept as
``exc_text`` (``exc_info`` is dropped: an exception's text can quote an upstream's bytes, and a
formatter would render it again), and a ``stack_info`` is redacted too.

urllib3 logs a malformed upstream header block with the unparsed bytes and a traceback
(``Failed to parse headers (url=%s): %s``, ``exc_info=True``: urllib3 2.8.0,
https://github.com/urllib3/urllib3/blob/2.8.0/src/urllib3/connection.py, ``getresponse``); an
upstream that echoes our ``Authorization`` header there put the whole token in the log. That
record is rewritten to say what happened without any of the upstream's bytes.
"""

from __future__ import annotations

import logging
import threading
import traceback
from typing import Any

from shared.redaction import redact_text

_secrets: frozenset[str] = frozenset()
_lock = threading.Lock()
_installed = False
MIN_SECRET = 8  # shorter values are not registered (they would redact ordinary words)
_HEADER_PARSE = "Failed to parse headers"
_HEADER_PARSE_SAYS = "Failed to parse an upstream's response headers (url=%s); its bytes are not logged."


def register(*secrets: str | None) -> None:
    """Values to redact from every log line from now on (the token, a Redis password, ...)."""
    global _secrets
    fresh = {s for s in secrets if s and len(s) >= MIN_SECRET and s not in _secrets}
    if fresh:
        with _lock:
            _secrets = _secrets | fresh


def redact(text: str) -> str:
    """``text`` without any registered secret, Hugging Face token or credential value."""
    if not text:
        return text
    for secret in _secrets:
        text = redact_text(text, secret)
    return text if _secrets else redact_text(text, "")


def install() -> None:
    """Wrap the log record factory once per process (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                _clean(record)
            except Exception:  # never lose the line: say what it was, without its content
                record.msg, record.args = f"(a {record.levelname} line from {record.name} withheld)", None
                record.exc_info = record.exc_text = record.stack_info = None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


def _clean(record: logging.LogRecord) -> None:
    if record.name.startswith("urllib3") and isinstance(record.msg, str) and record.msg.startswith(_HEADER_PARSE):
        url = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        record.msg, record.args = _HEADER_PARSE_SAYS, (url,)
        record.exc_info = None
    if isinstance(record.msg, str):
        record.msg, record.args = redact(record.getMessage()), None
    elif isinstance(record.msg, dict):  # structured logging (powertools' Logger accepts a dict)
        record.msg = {key: redact(v) if isinstance(v, str) else v for key, v in record.msg.items()}
    else:
        record.msg, record.args = redact(record.getMessage()), None
    if record.exc_info:
        record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
