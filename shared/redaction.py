"""Every rule that keeps the Hugging Face token out of what the proxy sends back, in one place.

Upstreams can hand our ``Authorization`` header back: in a 200 body, an error sentence, a stream
event, a Space's answer. Whatever the path, the text goes through :func:`redact_text`, which
removes, case-insensitively where the form allows it:

- the token itself, reversed, or any fragment of at least :data:`MIN_FRAGMENT` characters of it
  (a truncated ``hf_SECRETsec...``, a suffix, a case-changed copy);
- its base64 and base64url encodings at every byte alignment (alone, inside ``Bearer <token>``
  or ``user:<token>``), of the token as is, lower- or upper-cased, fragments of >= 12 characters;
- its hex, percent-encoded, ``\\uXXXX``-escaped and HTML character-reference spellings,
  fragments of >= 8 encoded characters (about 8 for character references, which vary in width);
- anything shaped like a Hugging Face token (``hf_`` / ``api_org_`` + 10 or more letters and
  digits), ours or not, and the value after ``Bearer`` or ``Basic``.

Detection scans runs of the characters each form is written with (a C-speed regex), then looks the
run's windows up in a set, so a long body costs a few regex passes, not one pass per fragment; a
run that holds a fragment is redacted whole (it is one encoded value, or one word).
JSON is redacted string literal by string literal (escapes resolved first, so ``\\u0068f_...``
cannot survive to a browser's ``JSON.parse``); an upstream sentence is redacted, then withheld
altogether when a looser view of it (separators dropped, URL or HTML escapes resolved) still
reveals the token. The policy is written out in docs/security.md.
"""

from __future__ import annotations

import base64
import html
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from shared import errors

REDACTED = "[redacted]"
MIN_FRAGMENT = 8  # characters of the token (or bytes, for encoded forms) that count as a leak
MIN_BASE64_FRAGMENT = 12  # base64 characters (9 bytes)
_SCAN_LIMIT = 4000  # an upstream sentence is cut to this many characters before it is examined

# Any Hugging Face token, not only ours: user tokens (hf_ + 34 letters/digits), legacy org tokens.
_ANY_TOKEN = re.compile(r"(?<![A-Za-z0-9])(?:hf|api_org)_[A-Za-z0-9]{10,}", re.IGNORECASE)
# Credentials after an auth scheme, whatever they are (RFC 9110 token68 characters).
_SCHEME_VALUE = re.compile(r"\b(Bearer|Basic)(\s+|%20|\+)[A-Za-z0-9._~+/=%-]{6,}", re.IGNORECASE)
_SCHEME_AND_TOKEN_WORDS = ("hf_", "api_org_", "bearer", "basic")  # what either pattern starts with
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


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
def _forms(token: str) -> tuple[_Form, ...]:
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


def _form(run: re.Pattern[str], texts: list[str], width: int, fold: bool, normalize: bool = False) -> _Form:
    return _Form(run, width, _windows(texts, width), fold, normalize, _anchors(texts, width))


def _windows(texts: list[str], width: int) -> frozenset[str]:
    return frozenset(t[i : i + width] for t in texts for i in range(len(t) - width + 1))


def _anchors(texts: list[str], width: int) -> frozenset[str]:
    """The grams of ``(width + 1) // 2`` characters at multiples of that length: a window of
    ``width`` starting at i holds the gram starting at the first multiple at or after i, so a text
    with no anchor holds no window (the q-gram filter)."""
    q = (width + 1) // 2
    return frozenset(t[j : j + q] for t in texts for j in range(0, len(t) - q + 1, q))


def spans(text: str, token: str) -> list[tuple[int, int]]:
    """Where :func:`redact_text` would redact ``text``: the token in any known form, any Hugging
    Face token, any credential after ``Bearer``/``Basic`` (overlapping spans are not merged)."""
    found = _spans(text, token) if token else []
    if text.isascii() and not any(word in text.lower() for word in _SCHEME_AND_TOKEN_WORDS):
        return found  # as in redact_text: neither pattern can match
    found += [m.span() for m in _ANY_TOKEN.finditer(text)]
    return found + [m.span() for m in _SCHEME_VALUE.finditer(text)]


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
def _finders(token: str) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    """Two searches that find an anchor of every window of every form: the folded forms' in the
    lower-cased text, base64's in the text as it is (base64url's two characters spelled in). Sound
    only for an ASCII token (its runs are then ASCII, and lower-casing them is the same inside and
    outside the text)."""
    if not token.isascii():
        return None
    forms = _forms(token)
    folded = frozenset().union(*(f.anchors for f in forms if f.fold))
    plain = frozenset().union(*(f.anchors for f in forms if not f.fold))
    return re.compile(_alternation(folded)), re.compile(_alternation(plain, _BASE64URL))


def _spans(text: str, token: str) -> list[tuple[int, int]]:
    """Where ``text`` spells the token (or a fragment of it) in any known form, merged.

    A run is flagged when one of its windows is a window of the token, and every window holds an
    anchor, so a text with no anchor at all holds no run to flag: two C-speed searches settle that
    common case (a clean answer, a log line) before any run is examined window by window."""
    finders = _finders(token)
    if finders is not None:
        folded, plain = finders
        if folded.search(text.lower()) is None and plain.search(text) is None:
            return []
    found: list[tuple[int, int]] = []
    for form in _forms(token):
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


def redact_text(text: str, token: str) -> str:
    """``text`` with every token-like form replaced by ``[redacted]`` (see the module docstring)."""
    if not text:
        return text
    if token:
        spans = _spans(text, token)
        if spans:
            out, last = [], 0
            for start, end in spans:
                out += [text[last:start], REDACTED]
                last = end
            text = "".join([*out, text[last:]])
    if text.isascii() and not any(word in text.lower() for word in _SCHEME_AND_TOKEN_WORDS):
        return text  # neither pattern can match (under IGNORECASE only non-ASCII letters fold oddly)
    text = _ANY_TOKEN.sub(REDACTED, text)
    return _SCHEME_VALUE.sub(lambda m: f"{m[1]} {REDACTED}", text)


def reveals_token(text: str, token: str) -> bool:
    """Whether a looser reading of ``text`` still spells the token: with separators and
    invisible characters dropped (``h.f_S-E C...``), or URL / HTML escapes resolved."""
    if not token or not text:
        return False
    alnum_token = re.sub(r"[^a-z0-9]", "", token.lower())
    width = min(MIN_FRAGMENT, len(alnum_token))
    if width:
        squeezed = re.sub(r"[^a-z0-9]", "", text.lower())
        windows = _windows([alnum_token, alnum_token[::-1]], width)
        if any(squeezed[i : i + width] in windows for i in range(len(squeezed) - width + 1)):
            return True
    for view in {unquote(text), html.unescape(text), unquote(html.unescape(text))} - {text}:
        if redact_text(view, token) != view:
            return True
    return False


def safe_sentence(value: Any, token: str, limit: int = 300) -> str | None:
    """An upstream's own sentence as the client may see it, or None.

    Only a non-empty string qualifies. It is cut to a bounded size, normalised (NFKC: full-width
    and other look-alike letters become plain ones, so they are redacted too), invisible format
    characters are dropped and other non-printables become spaces, every token form is redacted,
    and the sentence is withheld (None) when it still reveals the token. At most ``limit`` chars.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = unicodedata.normalize("NFKC", well_formed(value[:_SCAN_LIMIT]))
    text = "".join("" if unicodedata.category(ch) == "Cf" else (ch if ch.isprintable() else " ") for ch in text)
    text = redact_text(text, token)
    if reveals_token(text, token):
        return None
    return text[:limit].strip() or None


def safe_upstream_message(body: bytes | str | dict | list, token: str, limit: int = 300) -> str | None:
    """The ``error`` sentence of an upstream error body, made safe by :func:`safe_sentence`.

    ``body`` is raw JSON or an already parsed object (an in-band stream error); ``error`` may be
    a string, a list of strings, or OpenAI's ``{"message", "type", "code"}`` object.
    """
    try:
        data = json.loads(body) if isinstance(body, (bytes, str)) else body
    except ValueError:
        return None
    message = data.get("error") if isinstance(data, dict) else None
    if isinstance(message, dict):  # OpenAI-style {"error": {"message", "type", "code"}} (router /v1)
        message = message.get("message")
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message if isinstance(m, str))
    return safe_sentence(message, token, limit)


# --- JSON -----------------------------------------------------------------------------------------


def well_formed(text: str) -> str:
    """``text`` as valid Unicode: surrogate pairs joined, lone surrogates replaced by U+FFFD."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def well_formed_json(value: Any) -> Any:
    """A parsed JSON value with :func:`well_formed` applied to every key and string."""
    if isinstance(value, str):
        return well_formed(value)
    if isinstance(value, list):
        return [well_formed_json(item) for item in value]
    if isinstance(value, dict):
        return {well_formed(key): well_formed_json(item) for key, item in value.items()}
    return value


def has_surrogate_escape(text: str) -> bool:
    """Whether JSON text writes a UTF-16 surrogate as ``\\uD8xx``-``\\uDFxx`` (maybe a lone one)."""
    return "\\u" in text and _LONE_SURROGATE_ESCAPE.search(text) is not None


def strings_of(value: Any) -> Iterator[str]:
    """Every key and string inside a parsed JSON value."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())


def _needs_redaction(data: Any, token: str) -> bool:
    # One pass over every string at once; NUL is in no form's alphabet, so it joins nothing.
    joined = "\x00".join(strings_of(data))
    return redact_text(joined, token) != joined


def redact_json_text(text: str, token: str, data: Any = None) -> str:
    """JSON text with every string literal that holds a token form rewritten, redacted.

    Literals are decoded first, so escapes cannot hide the token; everything else (numbers of any
    size, spacing, escaped lone surrogates in untouched strings) is kept byte for byte. A rewritten
    literal is well-formed Unicode (lone surrogates become U+FFFD).
    """
    if "\\" not in text and redact_text(text, token) == text:
        # Without escapes every string is written verbatim, and no form's alphabet has the quote
        # that ends one: a form in any string is a form in the text. Clean text: nothing to parse.
        return text
    if data is None:
        data = json.loads(text)
    if not _needs_redaction(data, token):
        return text

    def rewrite(match: re.Match[str]) -> str:
        literal = match.group()
        value = json.loads(literal) if "\\" in literal else literal[1:-1]
        clean = redact_text(value, token)
        if clean == value:
            return literal
        return json.dumps(well_formed(clean), ensure_ascii=False)

    return _JSON_STRING.sub(rewrite, text)


def redact_json_body(body: bytes, data: Any, token: str) -> bytes:
    """A 200 JSON body as the client may get it: UTF-8 JSON text, every token form redacted.

    An upstream 200 that is not strict UTF-8 JSON (UTF-16, a UTF-8-encoded surrogate, a BOM,
    bytes that do not decode) is the upstream's fault: 502 ``upstream_bad_response``, on every
    platform (a Lambda response must be text, RFC 8259 section 8.1 asks for UTF-8). ``data`` is the
    parsed body when the caller has it (None: parsed here).
    """
    try:
        text = body.decode("utf-8")
        # json.loads(bytes) guesses UTF-16/32 from NUL bytes and accepts a BOM: the caller's
        # ``data`` stands for the text only when neither is there.
        if data is None or "\x00" in text or text.startswith("\ufeff"):
            data = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise errors.upstream_bad_response() from None
    out = redact_json_text(text, token, data)
    return body if out is text else out.encode()
