"""A JSON body's redaction checks every string's decoded value: the shortcut for bodies whose only
escapes are the short ones (a model's newlines and quotes) misses nothing the per-literal decoding
finds, and passes a clean body on byte for byte."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from shared import redaction
from tests.shared.test_token_forms import _spellings, _token

PIECES = ["\n", "\t", "\r", '"', "\b", "\f", "/", "\\", "é", "\u2028", "Bearer", "Bearer\t", " ", "hf_", "a"]


def _oracle(text: str, token: str) -> bool:
    """Whether any string of the JSON text, decoded on its own, holds something to redact."""
    return any(redaction.redact_text(value, token) != value for value in _strings(json.loads(text)))


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)


@settings(max_examples=600, deadline=None)
@given(
    seed=st.integers(0, 20),
    which=st.integers(-1, 8),
    parts=st.lists(st.sampled_from(PIECES), max_size=12),
    secret=st.text(alphabet="abcdefXYZ0123456789", min_size=0, max_size=12),
    ascii_only=st.booleans(),
    escaped_solidus=st.booleans(),
    start=st.integers(0, 60),
    length=st.integers(8, 80),
)
def test_a_body_with_short_escapes_is_redacted_as_each_string_decoded_alone_would_be(
    seed, which, parts, secret, ascii_only, escaped_solidus, start, length
):
    # GIVEN a model's answer: text with newlines, tabs, quotes and the like around a spelling of the
    # token (or none), or a credential after a scheme, in a JSON string
    token = _token(seed)
    middle = _spellings(token)[which][start : start + length] if which >= 0 else secret
    content = "".join(parts[: len(parts) // 2]) + middle + "".join(parts[len(parts) // 2 :])
    text = json.dumps({"choices": [{"message": {"content": content}}], "id": "x"}, ensure_ascii=ascii_only)
    if escaped_solidus:  # as some encoders write "/" (JSON allows it): base64's "/" then hides behind it
        text = text.replace("/", "\\/")
    # WHEN the body is checked
    out = redaction.redact_json_text(text, token)
    # THEN it changed exactly when a string decoded alone holds something to redact, and what is
    # left holds nothing
    assert (out != text) == _oracle(text, token)
    assert not _oracle(out, token)


def test_a_credential_after_an_escaped_tab_is_redacted():
    # GIVEN an answer that echoes an Authorization value with a tab after the scheme (JSON writes it \t)
    text = json.dumps({"content": "the header was Bearer\tsecretvalue123 and more\n"})
    # WHEN it is checked; THEN the credential is gone
    assert "secretvalue123" not in redaction.redact_json_text(text, _token(1))


def test_a_clean_answer_with_newlines_and_quotes_is_passed_on_as_sent():
    text = json.dumps({"content": 'Rest the knee.\n\n1. Ice it "often".\n\tThen walk.'})
    assert redaction.redact_json_text(text, _token(2)) is text


def test_a_base64_piece_behind_an_escaped_solidus_is_redacted():
    # GIVEN a token whose base64 has a "/" (a Hugging Face token's letters and digits never give one,
    # any token may), and a 13-character piece of it around the "/", written "\/" (JSON allows it)
    token = "a?secret?with?question?marks?0123"
    spelling = next(s for s in _spellings(token)[2:3] if "/" in s[6:-7])
    middle = spelling.index("/", 6)
    piece = spelling[middle - 6 : middle + 7]
    text = json.dumps({"content": f"see {piece} here"}).replace("/", "\\/")
    # WHEN it is checked; THEN the piece is gone (each of its windows holds the "/")
    out = redaction.redact_json_text(text, token)
    assert piece not in json.loads(out)["content"]


def test_a_token_piece_after_an_escaped_backslash_is_redacted():
    # GIVEN a backslash, then a piece of the token that starts with a letter of a short escape (n, r, t, b, f)
    token = _token(3)
    start = next(i for i, c in enumerate(token) if c in "nrtbf" and i + 8 <= len(token))
    piece = token[start : start + 8]  # the shortest piece redacted: its one window starts with that letter
    text = json.dumps({"content": "a path C:\\" + piece})  # JSON writes "C:\\\\nXXXXXXXX"
    # WHEN it is checked; THEN the piece is gone
    assert piece not in json.loads(redaction.redact_json_text(text, token))["content"]


def test_a_token_piece_with_a_letter_written_as_a_unicode_escape_is_redacted():
    # GIVEN a piece of the token whose first letter an encoder wrote as \uXXXX (valid JSON for any character)
    token = _token(4)
    piece = token[3:11]
    text = '{"content": "' + f"\\u{ord(piece[0]):04x}{piece[1:]}" + '"}'
    assert json.loads(text)["content"] == piece
    # WHEN it is checked; THEN the piece is gone
    assert piece not in json.loads(redaction.redact_json_text(text, token))["content"]
