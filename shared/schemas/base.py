"""What every request model shares: unknown keys rejected (nothing unvetted is forwarded with the
server's token), no NaN/Infinity, and pydantic's strict scalars (no coercion: "3" is not 3, 1 is
not true), which the body modules take from here."""

from pydantic import ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr

__all__ = ["Number", "Strict", "StrictBool", "StrictFloat", "StrictInt", "StrictStr"]

Strict = ConfigDict(extra="forbid", allow_inf_nan=False)
Number = StrictFloat  # strict floats still accept JSON integers, never booleans or strings
