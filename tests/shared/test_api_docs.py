"""The API docs list every field the request models accept: a field added to a schema without
its documentation (or documented after it was removed) fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.schemas.chat import ChatRequest
from shared.schemas.generate import GenerateRequest, Options, Parameters
from shared.schemas.predict import PredictParameters, PredictRequest

DOCS = Path(__file__).resolve().parents[2] / "docs"


def documented(doc: str) -> set[str]:
    """Every name written in code spans (`messages[].role` names both messages and role)."""
    text = re.sub(r"```.*?```", "", (DOCS / doc).read_text(), flags=re.DOTALL)  # code blocks are examples
    spans = re.findall(r"`([^`\n]+)`", text)
    return {word for span in spans for word in re.findall(r"[a-z_]+", span)}


@pytest.mark.parametrize(
    ("model", "doc"),
    [
        (Parameters, "api.md"),
        (Options, "api.md"),
        (GenerateRequest, "api.md"),
        (ChatRequest, "openai-compatibility.md"),
        (PredictParameters, "llama-space.md"),
        (PredictRequest, "llama-space.md"),
    ],
)
def test_every_accepted_field_is_documented(model, doc):
    missing = set(model.model_fields) - documented(doc)
    assert not missing, f"document these {model.__name__} fields in docs/{doc}: {sorted(missing)}"


def test_the_generate_parameter_table_lists_exactly_the_accepted_keys():
    text = (DOCS / "api.md").read_text()
    table = text[text.index("| key | accepted |") : text.index("`options`:")]
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", table, re.MULTILINE))
    assert rows == set(Parameters.model_fields)
