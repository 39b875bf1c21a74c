"""The Lambda context object the runtime passes (the attributes powertools and the adapter read).

Shape: https://docs.aws.amazon.com/lambda/latest/dg/python-context.html
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class LambdaContext:
    timeout_ms: int = 28_000
    function_name: str = "hfproxy-HfProxyFunction"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/hfproxy-HfProxyFunction"
    log_stream_name: str = "2026/11/21/[$LATEST]0123456789abcdef"
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self.timeout_ms - (time.monotonic() - self._started) * 1000))
