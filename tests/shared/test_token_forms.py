"""The token finder's fast path (two anchor searches before any run is examined) never changes what
is redacted: for any text, the spans are those the window-by-window scan alone finds."""

from __future__ import annotations

import base64
import random
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import redaction, token_forms

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _token(seed: int) -> str:
    return "hf_" + "".join(random.Random(seed).choices(ALPHABET, k=34))


def _spellings(token: str) -> list[str]:
    """The token written the ways shared.redaction knows, whole (the test cuts fragments from them)."""
    raw = token.encode()
    return [
        token,
        token[::-1].upper(),
        base64.b64encode(b"x" + raw).decode(),
        base64.urlsafe_b64encode(b"\xfb\xff" + raw).decode(),
        raw.hex().upper(),
        "".join(f"%{b:02X}" for b in raw),
        "".join(f"\\u{b:04X}" for b in raw),
        "".join(f"&#{b};" for b in raw),
        "".join(f"&#x{b:x};" for b in raw),
    ]


def _slow_spans(text: str, token: str, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    with monkeypatch.context() as patched:
        patched.setattr(token_forms, "finders", lambda token: None)
        return token_forms.find(text, token)


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 50),
    before=st.text(max_size=40),
    after=st.text(max_size=40),
    which=st.integers(0, 8),
    start=st.integers(0, 400),
    length=st.integers(0, 120),
)
def test_the_anchor_search_finds_every_fragment_the_scan_finds(seed, before, after, which, start, length):
    # GIVEN any text around a piece (of any length, from any offset) of one spelling of the token
    token = _token(seed)
    spelling = _spellings(token)[which]
    text = before + spelling[start : start + length] + after
    with pytest.MonkeyPatch.context() as monkeypatch:
        # WHEN the spans are found with the fast path and without it
        fast, slow = token_forms.find(text, token), _slow_spans(text, token, monkeypatch)
    # THEN they are the same spans
    assert fast == slow


def test_a_clean_text_is_settled_by_the_anchor_search_alone(monkeypatch):
    # GIVEN a warm process (the token's searches built) and a log line with no piece of the token
    token = _token(1)
    line = '{"route": "chat", "status": 200, "request_id": "c0ffee-1234", "model": "Qwen/Qwen2.5-7B-Instruct"}'
    token_forms.finders(token)
    forms, scans = token_forms.forms, []
    monkeypatch.setattr(token_forms, "forms", lambda token: scans.append(token) or forms(token))
    # WHEN it is redacted
    clean = redaction.redact_text(line, token)
    # THEN it is unchanged and no run was scanned; a text with a fragment is scanned and redacted
    assert (clean, scans) == (line, [])
    assert redaction.redact_text(f"echo {token[5:15]} done", token) == f"echo {redaction.REDACTED} done"
    assert scans == [token]


@settings(max_examples=300, deadline=None)
@given(
    seed=st.integers(0, 50),
    start=st.integers(0, 30),
    length=st.integers(8, 37),
    encoded=st.lists(st.booleans(), min_size=37, max_size=37),
    around=st.sampled_from([("", ""), ("x ", " y"), ('{"q": "', '"}'), ("?t=", "&a=1"), ("data:", "\n\n")]),
)
def test_a_fragment_partly_percent_encoded_is_redacted(seed, start, length, encoded, around):
    # GIVEN a fragment of the token (8 or more characters), some of its characters percent-encoded
    token = _token(seed)
    fragment = token[start : start + length]
    mixed = "".join(f"%{ord(ch):02X}" if enc else ch for ch, enc in zip(fragment, encoded, strict=False))
    # WHEN a text holding it is redacted
    text = around[0] + mixed + around[1]
    out = redaction.redact_text(text, token)
    # THEN no eight characters of the token are left, even with every escape decoded
    decoded = unquote(out).lower()
    assert not any(token.lower()[i : i + 8] in decoded for i in range(len(token) - 7)), (text, out)


def test_percent_escapes_that_spell_no_token_are_left_alone():
    text = "100% sure, 50%25 off, a%20b, /search?q=hf%5Fhub and fake-tes"
    assert redaction.redact_text(text, "hf_fake-test-token-7Q2x") == text.replace("fake-tes", "[redacted]")


def test_escaped_words_whose_decoding_holds_no_anchor_are_not_decoded_one_by_one(monkeypatch):
    # GIVEN a long text of words with percent escapes, none of them a piece of the token
    text = "caf%C3%A9 50%25 a%20b " * 20_000

    class NoWordScan:
        def finditer(self, text):
            raise AssertionError("decoded word by word")

    monkeypatch.setattr(token_forms, "_WORD", NoWordScan())
    # WHEN it is redacted, THEN one search over its decoding settles it, unchanged
    assert redaction.redact_text(text, "hf_fake-test-token-7Q2x") == text
