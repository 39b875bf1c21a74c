"""What every request model shares: unknown keys rejected (nothing unvetted is forwarded with the
server's token) and no NaN/Infinity."""

from pydantic import ConfigDict, StrictFloat

Strict = ConfigDict(extra="forbid", allow_inf_nan=False)
Number = StrictFloat  # strict floats still accept JSON integers, never booleans or strings
