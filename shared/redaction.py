"""Every rule that keeps the Hugging Face token out of what the proxy sends back, in one place.

Upstreams can hand our ``Authorization`` header back: in a 200 body, an error sentence, a stream
event, a Space's answer. Whatever the path, the text goes through :func:`redact_text`, which
removes, case-insensitively where the form allows it:

- the token itself, reversed, or any fragment of at least :data:`MIN_FRAGMENT` characters of it
  (a truncated ``hf_SECRETsec...``, a suffix, a case-changed copy);
- its base64 and base64url encodings at every byte alignment (alone, inside ``Bearer <token>``
  or ``user:<token>``), of the token as is, lower- or upper-cased, fragments of >= 12 characters;
- its hex, percent-encoded, ``\\uXXXX``-escaped and HTML character-reference spellings,
  fragments of >= 8 encoded characters (about 8 for character references, which vary in width),
  and a word whose percent escapes, however few, decode to a fragment (``hf%5Ffake-``);
- anything shaped like a Hugging Face token (``hf_`` / ``api_org_`` + 10 or more letters and
  digits), ours or not, and the value after ``Bearer`` or ``Basic``.

Detection (:mod:`shared.token_forms`) scans runs of the characters each form is written with, after
two anchor searches that clear most texts at once; a run that holds a fragment is redacted whole.
JSON is redacted string literal by string literal (escapes resolved first, so ``\\u0068f_...``
cannot survive to a browser's ``JSON.parse``); an upstream sentence is redacted, then withheld
altogether when a looser view of it (separators dropped, URL or HTML escapes resolved) still
reveals the token. The policy is written out in docs/security.md.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from typing import Any
from urllib.parse import unquote

from shared import errors
from shared.token_forms import MIN_FRAGMENT, find, windows

REDACTED = "[redacted]"
_SCAN_LIMIT = 4000  # an upstream sentence is cut to this many characters before it is examined

# Any Hugging Face token, not only ours: user tokens (hf_ + 34 letters/digits), legacy org tokens.
_ANY_TOKEN = re.compile(r"(?<![A-Za-z0-9])(?:hf|api_org)_[A-Za-z0-9]{10,}", re.IGNORECASE)
# Credentials after an auth scheme, whatever they are (RFC 9110 token68 characters).
_SCHEME_VALUE = re.compile(r"\b(Bearer|Basic)(\s+|%20|\+)[A-Za-z0-9._~+/=%-]{6,}", re.IGNORECASE)
_SCHEME_AND_TOKEN_WORDS = ("hf_", "api_org_", "bearer", "basic")  # what either pattern starts with
_LONE_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def spans(text: str, token: str) -> list[tuple[int, int]]:
    """Where :func:`redact_text` would redact ``text``: the token in any known form, any Hugging
    Face token, any credential after ``Bearer``/``Basic`` (overlapping spans are not merged)."""
    found = find(text, token) if token else []
    if text.isascii() and not any(word in text.lower() for word in _SCHEME_AND_TOKEN_WORDS):
        return found  # as in redact_text: neither pattern can match
    found += [m.span() for m in _ANY_TOKEN.finditer(text)]
    return found + [m.span() for m in _SCHEME_VALUE.finditer(text)]


def redact_text(text: str, token: str) -> str:
    """``text`` with every token-like form replaced by ``[redacted]`` (see the module docstring)."""
    if not text:
        return text
    if token:
        spans = find(text, token)
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
        fragments = windows([alnum_token, alnum_token[::-1]], width)
        if any(squeezed[i : i + width] in fragments for i in range(len(squeezed) - width + 1)):
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


def _decoded(literal: str) -> str:
    return json.loads(literal) if "\\" in literal else literal[1:-1]


_SHORT_ESCAPES = (('\\"', '"'), ("\\n", "\n"), ("\\r", "\r"), ("\\t", "\t"), ("\\b", "\b"), ("\\f", "\f"))


def _strings_in_place(text: str) -> str | None:
    r"""JSON text with each string's escapes decoded where they stand, when that is a plain
    replacement: none of ``\\``, ``\/``, ``\u`` (then every backslash starts one of the six short
    escapes, and decoding one makes no new backslash). None otherwise. A model's answer usually has
    newlines and quotes, and nothing else escaped: checked like this, a 1.6 KB answer's body takes
    50 to 75 µs instead of ~160 µs for decoding each string literal on its own
    (tests/shared/test_redaction.py holds it to that decoding)."""
    if "\\" not in text:
        return text
    if "\\\\" in text or "\\/" in text or "\\u" in text:
        return None
    for escape, character in _SHORT_ESCAPES:
        text = text.replace(escape, character)
    return text


def redact_json_text(text: str, token: str) -> str:
    """JSON text with every string literal that holds a token form rewritten, redacted.

    Literals are decoded first, so escapes cannot hide the token; everything else (numbers of any
    size, spacing, escaped lone surrogates in untouched strings) is kept byte for byte. A rewritten
    literal is well-formed Unicode (lone surrogates become U+FFFD).
    """
    plain = _strings_in_place(text)
    if plain is not None and redact_text(plain, token) == plain:
        # Every string's value is in ``plain`` as it is, between quotes, and no pattern here matches
        # across a quote (no form's alphabet, nor _ANY_TOKEN's or _SCHEME_VALUE's classes, has one;
        # a token's own run may, and then still holds the match): a form in any string is a form in
        # ``plain``. A pattern that could match a quote, or looks ahead past one, breaks this.
        return text
    # Every string literal of the text, not the parsed value: json.loads keeps only the last of a
    # repeated key, and a token in an earlier one would go out unseen.
    literals = [_decoded(literal) for literal in _JSON_STRING.findall(text)]
    joined = "\x00".join(literals)  # NUL is in no form's alphabet: nothing matches across it
    if redact_text(joined, token) == joined:
        return text

    def rewrite(match: re.Match[str]) -> str:
        literal = match.group()
        value = _decoded(literal)
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
    out = redact_json_text(text, token)
    return body if out is text else out.encode()
