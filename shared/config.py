"""How a setting is declared and read: :func:`setting` (variable, default, parser, meaning, in one
place), :func:`declared` and :func:`read`, and the parsers every declaration uses. Each parser
raises :class:`ConfigError` naming the variable, never its value (it may be a secret).

The core's settings are :class:`shared.settings.Settings`; an adapter declares its own the same
way (functions/aws_lambda/secret.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import field, fields
from typing import Any

from shared.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


Parser = Callable[[Mapping[str, str], str, Any], Any]


def stripped(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    """The variable's value without surrounding space; unset or blank: ``default``."""
    value = env.get(name, "").strip()
    return value or default


def number(cast: type, low: float, high: float) -> Parser:
    def parse(env: Mapping[str, str], name: str, default: Any) -> Any:
        raw = stripped(env, name)
        if raw is None:
            return default
        try:
            value = cast(raw)
        except ValueError:
            raise ConfigError(f"Setting {name} must be a {'whole ' if cast is int else ''}number.") from None
        if not low <= value <= high:
            raise ConfigError(f"Setting {name} must be between {low} and {high}.")
        return value

    parse.bounds = (low, high)  # type: ignore[attr-defined]
    return parse


def flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"Setting {name} must be true or false.")


def text(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    return stripped(env, name, default)


def url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    value = stripped(env, name, default)
    if value is not None and not value.startswith(("https://", "http://")):
        raise ConfigError(f"Setting {name} must be an http(s) URL.")
    return value.rstrip("/") if value else value


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def trusted_url(env: Mapping[str, str], name: str, default: str | None) -> str | None:
    """An https URL (plain http only on loopback, for tests and ``make serve``): for a URL whose
    answer decides whom the proxy trusts, or that carries a secret, so it must not be rewritable on the way."""
    value = url(env, name, default)
    if value and not value.startswith("https://") and value.split("/")[2].rsplit(":", 1)[0] not in _LOOPBACK_HOSTS:
        raise ConfigError(f"Setting {name} must be an https URL.")
    return value


def items(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = stripped(env, name)
    if raw is None:
        return default
    return tuple(item.strip().rstrip("/") for item in raw.split(",") if item.strip())


def choice(*choices: str) -> Parser:
    def parse(env: Mapping[str, str], name: str, default: str) -> str:
        value = (stripped(env, name, default) or default).lower()
        if value not in choices:
            raise ConfigError(f"Setting {name} must be one of: {', '.join(choices)}.")
        return value

    return parse


def choices(*allowed: str) -> Parser:
    """A comma-separated list, each item one of ``allowed`` (case as written), at least one."""

    def parse(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
        chosen = items(env, name, default)
        if not chosen or any(item not in allowed for item in chosen):
            raise ConfigError(f"Setting {name} must list one or more of: {', '.join(allowed)}.")
        return chosen

    return parse


def setting(env: str, default: Any, parse: Parser, doc: str, *, secret: bool = False) -> Any:
    """Declare one setting: its variable, default, parser and one-line meaning, in one place.

    ``docs/configuration.md`` lists the same rows; a test keeps the two in step.
    """
    return field(default=default, repr=not secret, metadata={"env": env, "parse": parse, "doc": doc})


def declared(cls: type) -> list[tuple[str, Any, str]]:
    """(variable, default, meaning) of every :func:`setting` a dataclass declares (an adapter's own
    settings use the same declarations: functions/aws_lambda/secret.py)."""
    return [(f.metadata["env"], f.default, f.metadata["doc"]) for f in fields(cls) if "env" in f.metadata]


def read(cls: type, env: Mapping[str, str]) -> dict[str, Any]:
    """Each declared setting of ``cls`` parsed from ``env``, by field name."""
    return {f.name: f.metadata["parse"](env, f.metadata["env"], f.default) for f in fields(cls) if "env" in f.metadata}
