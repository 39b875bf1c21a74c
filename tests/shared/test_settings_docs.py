"""docs/configuration.md lists every setting exactly as ``Settings`` (and an adapter's own settings)
declare it (name, default, meaning)."""

from __future__ import annotations

import re
from pathlib import Path

from functions.aws_lambda.secret import SecretSettings
from shared.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
ROW = re.compile(r"^\| `(?P<name>[A-Z0-9_]+)` \| (?P<default>.*?) \| (?P<doc>.*) \|$")


def render_default(value: object) -> str:
    if value is None or value == ():
        return "–"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return f"`{', '.join(value)}`"
    return f"`{value}`"


def render_row(name: str, default: object, doc: str) -> str:
    return f"| `{name}` | {render_default(default)} | {doc} |"


def test_the_docs_table_is_the_declared_settings_row_for_row():
    # GIVEN the settings the code declares, and the table in the docs
    declared = [render_row(*row) for row in [*Settings.declared(), *SecretSettings.declared()]]
    documented = [line for line in DOC.read_text().splitlines() if ROW.match(line)]
    # THEN every declared setting has its row, with the code's default and meaning, and no other rows
    missing = [row for row in declared if row not in documented]
    extra = [row for row in documented if row not in declared]
    assert not missing, "add (or correct) these rows in docs/configuration.md:\n" + "\n".join(missing)
    assert not extra, "these rows in docs/configuration.md are not declared in shared/settings.py:\n" + "\n".join(extra)
