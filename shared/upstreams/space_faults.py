"""What a Space's failures become: HTTP statuses, its own sentences, and ZeroGPU's quota.

Sources for each upstream wording are in docs/spaces.md ("What a Space answers, by state").
"""

from __future__ import annotations

import re
from typing import Any

from shared import errors, redaction
from shared.upstreams import transport

DEFAULT_RETRY_AFTER = 30  # a sleeping Space takes tens of seconds to wake
QUOTA_RETRY_AFTER = 60  # a ZeroGPU quota message without its wait time
MAX_RETRY_AFTER = 86_400  # a Pro account's quota window can mean a wait of hours

# ZeroGPU's refusal before the function runs, as users reported it:
#   "You have exceeded your GPU quota (46s left vs. 60s requested). Sign-up on Hugging Face to get
#    more quotas or retry in 0:09:48." (https://github.com/levihsu/OOTDiffusion/issues/205, 2024)
#   "You have exceeded your GPU quota (60s requested vs. 56s left). <a ...>Create a free account</a>
#    to get more usage quota." (https://github.com/e2b-dev/open-computer-use/issues/28, 2025: no wait)
#   "try again in" some minutes (https://discuss.huggingface.co/t/what-is-the-quota-on-zerogpu-for-pro-users/94203)
_QUOTA = re.compile(r"exceeded your (?:[\w-]+ )*(?:GPU|ZeroGPU) quota", re.IGNORECASE)
# "retry in 0:09:48" / "Try again in 2:23:46" (H:MM:SS); "-1 day, 23:59:59" is not a wait time.
_WAIT = re.compile(r"(?:retry|try again) in (?:(\d+) days?, )?(\d+):(\d{2}):(\d{2})", re.IGNORECASE)


def gpu_quota_wait(message: Any) -> int | None:
    """Seconds to wait when ``message`` is ZeroGPU's quota refusal, else None."""
    if not isinstance(message, str) or not _QUOTA.search(message):
        return None
    match = _WAIT.search(message)
    if match is None:
        return QUOTA_RETRY_AFTER
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return max(1, min(((days * 24 + hours) * 60 + minutes) * 60 + seconds, MAX_RETRY_AFTER))


def failure(value: Any, token: str) -> errors.ProxyError:
    """The Space's function failed with ``value`` (its message, or None): quota 429, else 502."""
    wait = gpu_quota_wait(value)
    if wait is not None:
        return errors.space_gpu_quota_exceeded(wait)
    return errors.space_error(space_message(value, token))


def space_message(value: Any, token: str, limit: int = 300) -> str | None:
    """The Space's own sentence, when it is a plain string and not a traceback."""
    if not isinstance(value, str) or not value.strip():
        return None
    if "Traceback (most recent call last)" in value or re.search(r'File "[^"]+", line \d+', value):
        return None
    return redaction.safe_sentence(value, token, limit)


def fault(resp: transport.UpstreamResponse) -> errors.ProxyError:
    """A Space's (or its HF proxy's) non-answer, by status."""
    status = resp.status
    if status in (401, 403):
        return errors.upstream_auth_failed()
    if status == 429:
        return errors.upstream_rate_limited(transport.retry_after_seconds(resp.headers, DEFAULT_RETRY_AFTER))
    if status == 504:
        return errors.upstream_timeout()
    if status >= 500 or is_html(resp):  # asleep, building, restarting: HF's proxy answers for it
        return errors.space_unavailable(transport.retry_after_seconds(resp.headers, DEFAULT_RETRY_AFTER))
    return errors.upstream_error(status)


def is_html(resp: transport.UpstreamResponse) -> bool:
    return resp.headers.get("content-type", "").lower().startswith("text/html")
