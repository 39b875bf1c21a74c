"""The token's spellings, and where a text holds one: the detection half of :mod:`shared.redaction`.

Each form (the token itself, reversed, case-changed; base64 and base64url at every byte
alignment; hex, percent-encoding, ``\\uXXXX`` escapes, HTML character references) is a run of the
characters it is written with (a C-speed regex) and a set of windows: a run holding a window of
the token is a fragment of it, and is flagged whole (it is one encoded value, or one word). Every
window holds an anchor (a q-gram at a fixed stride), so two searches over the text settle the
common case, a text with no piece of the token, before any run is examined.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

MIN_FRAGMENT = 8  # characters of the token (or bytes, for encoded forms) that count as a leak
MIN_BASE64_FRAGMENT = 12  # base64 characters (9 bytes)


@dataclass(frozen=True)
class _Form:
    """One spelling of the token: the characters it is written with and its windows."""

    run: re.Pattern[str]  # a maximal run of characters this spelling can use
    width: int  # window length
    windows: frozenset[str]
    fold: bool  # compare lower-cased
    normalize: bool = False  # base64url -> base64 before comparing
    anchors: frozenset[str] = frozenset()  # every window holds one of these (see _anchors)


@lru_cache(maxsize=8)
def forms(token: str) -> tuple[_Form, ...]:
    raw = token.encode()
    plain_chars = "".join(sorted(set(token.lower() + token.upper())))
    plain_width = min(MIN_FRAGMENT, len(token))
    plain = [token.lower(), token[::-1].lower()]
    forms = [_form(re.compile(f"[{re.escape(plain_chars)}]{{{plain_width},}}"), plain, plain_width, True)]

    cores = []
    for variant in {raw, raw.lower(), raw.upper()}:
        for offset in range(3):  # the token's first byte at each position of a 3-byte group
            encoded = base64.b64encode(b"\0" * offset + variant).decode().rstrip("=")
            start = 4 if offset else 0  # the first group mixes in bytes that are not the token
            end = len(encoded) - (len(encoded) % 4 or 4) if (offset + len(variant)) % 3 else len(encoded)
            cores.append(encoded[start:end])
    width = MIN_BASE64_FRAGMENT
    forms.append(_form(re.compile(f"[A-Za-z0-9+/_-]{{{width},}}"), cores, width, False, True))

    hex_form = raw.hex()
    forms.append(_form(re.compile("[0-9A-Fa-f]{16,}"), [hex_form], 2 * MIN_FRAGMENT, True))
    pct = "".join(f"%{b:02x}" for b in raw)
    forms.append(_form(re.compile("(?:%[0-9A-Fa-f]{2}){8,}"), [pct], 3 * MIN_FRAGMENT, True))
    uesc = "".join(f"\\u{b:04x}" for b in raw)
    forms.append(_form(re.compile(r"(?:\\[uU][0-9A-Fa-f]{4}){8,}"), [uesc], 6 * MIN_FRAGMENT, True))
    entity_run = re.compile(r"(?:&#[xX]?[0-9A-Fa-f]{1,6};){8,}")
    for entity in ("".join(f"&#{b};" for b in raw), "".join(f"&#x{b:x};" for b in raw)):  # HTML
        width = len(entity) * MIN_FRAGMENT // len(raw)  # references vary in width: ~8 characters' worth
        forms.append(_form(entity_run, [entity], width, True))
    return tuple(forms)


def _plain(token: str) -> _Form:
    """The token as written (and reversed), case-folded: the first of :func:`forms`."""
    return forms(token)[0]


def _form(run: re.Pattern[str], texts: list[str], width: int, fold: bool, normalize: bool = False) -> _Form:
    return _Form(run, width, windows(texts, width), fold, normalize, _anchors(texts, width))


def windows(texts: list[str], width: int) -> frozenset[str]:
    return frozenset(t[i : i + width] for t in texts for i in range(len(t) - width + 1))


def _anchors(texts: list[str], width: int) -> frozenset[str]:
    """The grams of ``(width + 1) // 2`` characters at multiples of that length: a window of
    ``width`` starting at i holds the gram starting at the first multiple at or after i, so a text
    with no anchor holds no window (the q-gram filter)."""
    q = (width + 1) // 2
    return frozenset(t[j : j + q] for t in texts for j in range(0, len(t) - q + 1, q))


def _alternation(words: frozenset[str], spelled: dict[str, str] | None = None) -> str:
    """A regex matching any of ``words``, written as a trie: the engine follows one branch per
    character instead of trying every word at every position (sre has no Aho-Corasick)."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        if "" in node:  # a word ends here: enough for a search
            return ""
        branches = [(spelled or {}).get(ch, re.escape(ch)) + emit(child) for ch, child in sorted(node.items())]
        return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"

    return emit(trie)


_BASE64URL = {"+": "[+-]", "/": "[/_]"}  # base64's two characters, or base64url's in their place


@lru_cache(maxsize=8)
def finders(token: str) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """Two searches that find an anchor of every window of every form: the folded forms' in the
    lower-cased text, base64's in the text as it is (base64url's two characters spelled in). Sound
    only for an ASCII token (its runs are then ASCII, and lower-casing them is the same inside and
    outside the text)."""
    if not token.isascii():
        return None
    every = forms(token)
    folded = frozenset().union(*(f.anchors for f in every if f.fold))
    plain = frozenset().union(*(f.anchors for f in every if not f.fold))
    return re.compile(_alternation(folded)), re.compile(_alternation(plain, _BASE64URL))


def find(text: str, token: str) -> list[tuple[int, int]]:
    """Where ``text`` spells the token (or a fragment of it) in any known form, merged.

    A run is flagged when one of its windows is a window of the token, and every window holds an
    anchor, so a text with no anchor at all holds no run to flag: two C-speed searches settle that
    common case (a clean answer, a log line) before any run is examined window by window."""
    found = _partly_percent_encoded(text, token) if "%" in text else []
    searches = finders(token)
    if searches is not None:
        folded, plain = searches
        if folded.search(text.lower()) is None and plain.search(text) is None:
            return found
    for form in forms(token):
        for match in form.run.finditer(text):
            run = match.group()
            key = run.lower() if form.fold else run
            if form.normalize:
                key = key.replace("-", "+").replace("_", "/")
            width, windows = form.width, form.windows
            if any(key[i : i + width] in windows for i in range(len(key) - width + 1)):
                found.append(match.span())  # the whole run: one encoded value, or one word
    found.sort()
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# A word (no spaces, quotes or brackets) and a percent escape: a word holding one is URL-ish. Two
# plain searches, not one pattern with the escape inside, which backtracks quadratically.
_WORD = re.compile(r"[^\s\"'<>\\\[\]{}]+")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _partly_percent_encoded(text: str, token: str) -> list[tuple[int, int]]:
    """Words that spell a fragment of the token once their percent escapes are decoded, however few
    there are (``hf%5Ffake-``: neither eight plain characters in a row nor eight escapes). Escapes
    mixed in break both runs above, so these are decoded, not matched; only texts with a ``%`` pay."""
    plain, searches = _plain(token), finders(token)
    if searches is not None and searches[0].search(unquote(text, errors="replace").lower()) is None:
        return []  # every word's decoding is a piece of the text's: no anchor there, none in a word
    found = []
    for match in _WORD.finditer(text):
        word = match.group()
        if "%" not in word or _ESCAPE.search(word) is None:
            continue
        key = unquote(word, errors="replace").lower()
        if searches is not None and searches[0].search(key) is None:  # no anchor, so no window
            continue
        if any(key[i : i + plain.width] in plain.windows for i in range(len(key) - plain.width + 1)):
            found.append(match.span())
    return found
