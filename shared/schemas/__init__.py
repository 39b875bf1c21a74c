"""Request bodies as pydantic models, one module per route, imported only by their route.

:func:`validate` turns pydantic's errors into the envelope's ``details`` without the input value:
a rejected prompt must not come back in a response or reach a log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from shared import errors

if TYPE_CHECKING:
    from shared.schemas.limits import Limits

M = TypeVar("M")


def validate(model: type[M], data: Any, limits: Limits) -> M:
    """Validate ``data`` under the server's ``limits`` (required: no caps, no validation)."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data, context=limits)  # type: ignore[attr-defined]
    except ValidationError as exc:
        details = [
            {
                "field": ".".join(str(p) for p in err["loc"]) or "body",
                "message": err["msg"].removeprefix("Value error, "),
            }
            for err in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
        raise errors.validation_failed(details) from None
