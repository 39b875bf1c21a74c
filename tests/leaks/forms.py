"""Ways an upstream can write our token back, and an oracle that finds any of them in an answer.

The oracle is written independently of ``shared.redaction`` (it decodes instead of matching
encoded windows), so a gap in the proxy's rules is not mirrored by the test that checks them.
"""

from __future__ import annotations

import base64
import binascii
import html
import json
import re
import unicodedata
from urllib.parse import quote, unquote

FRAGMENT = 8  # the shortest piece of the token that counts as a leak


def _b64(raw: bytes, url: bool = False) -> str:
    return (base64.urlsafe_b64encode if url else base64.b64encode)(raw).decode()


def machine_forms(token: str) -> dict[str, str]:
    """Spellings a program (an upstream echoing headers, a logger, a model) could write."""
    raw = token.encode()
    return {
        "exact": token,
        "lower-cased": token.lower(),
        "upper-cased": token.upper(),
        "case-swapped": token.swapcase(),
        "truncated prefix": token[:12] + "...",
        "truncated suffix": "..." + token[-10:],
        "middle fragment": token[3:14],
        "reversed": token[::-1],
        "Bearer": f"Bearer {token}",
        "Authorization header": f"Authorization: Bearer {token}",
        "query string": f"?access_token={token}&x=1",
        "base64": _b64(raw),
        "base64 of Bearer": _b64(f"Bearer {token}".encode()),
        "base64 of Basic user:token": "Basic " + _b64(f"user:{token}".encode()),
        "base64 offset 1": _b64(b"x" + raw),
        "base64 offset 2": _b64(b"xy" + raw),
        "base64url offset 1": _b64(b"\xfb" + raw, url=True),
        "base64 lower-cased token": _b64(token.lower().encode()),
        "base64 truncated": _b64(raw)[:20],
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "percent-encoded": "".join(f"%{b:02X}" for b in raw),
        "percent-encoded, partly": quote(token, safe="").replace("_", "%5F"),
        "json-escaped (literal backslashes)": "".join(f"\\u{b:04x}" for b in raw),
        "html character references": "".join(f"&#{b};" for b in raw),
        "html hex character references": "".join(f"&#x{b:x};" for b in raw),
        "repr in a dict": repr({"Authorization": f"Bearer {token}"}),
        "another HF token": "hf_" + "Zq8" * 11 + "x",  # any HF-shaped token, not only ours
    }


def sentence_forms(token: str) -> dict[str, str]:
    """Spellings meant for a human, which only an error sentence can carry: withheld or redacted."""
    return {
        **machine_forms(token),
        "full-width": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in token),
        "zero-width spaces": "\u200b".join(token),
        "soft hyphens": "\u00ad".join(token),
        "dotted": ".".join(token),
        "spaced": " ".join(token),
        "newline inside": token[:9] + "\n" + token[9:],
    }


# --- the oracle -----------------------------------------------------------------------------------


def _json_strings(value) -> list[str]:
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend([*item.keys(), *item.values()])
    return out


def views(text: str) -> list[str]:
    """What a reader can get out of an answer: as sent, JSON-decoded (whole body or each SSE
    ``data:`` line, as the browser's JSON.parse), URL- and HTML-unescaped, NFKC-normalised."""
    found = [text]
    pieces = [text] + [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
    for piece in pieces:
        try:
            found += _json_strings(json.loads(piece))
        except (ValueError, RecursionError):
            pass
    more = []
    for view in found:
        more += [unquote(view), html.unescape(view), unicodedata.normalize("NFKC", view)]
        more.append("".join(ch for ch in view if unicodedata.category(ch) != "Cf"))  # zero-width, soft hyphen
        if "\\u" in view:
            more.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), view))
    return found + more


def _decodings(view: str) -> list[bytes]:
    """Every base64 run decoded at every alignment, and every hex run."""
    out = []
    for run in re.findall(r"[A-Za-z0-9+/_-]{12,}", view):
        run = run.replace("-", "+").replace("_", "/")
        for skip in range(4):
            piece = run[skip:]
            piece = piece[: len(piece) - len(piece) % 4]
            try:
                out.append(base64.b64decode(piece))
            except (binascii.Error, ValueError):
                pass
    for run in re.findall(r"[0-9A-Fa-f]{16,}", view):
        for skip in range(2):
            piece = run[skip:]
            out.append(bytes.fromhex(piece[: len(piece) - len(piece) % 2]))
    return out


def leaked(text: str, token: str, *, also: tuple[str, ...] = (), squeeze: bool = False) -> list[str]:
    """The ways ``text`` (a response body, a header, a log) still reveals the token; [] if none.

    ``squeeze`` also reads the text with every separator dropped (``h.f._.S``): for upstream
    sentences, which the proxy withholds when they spell the token that way.
    """
    low = token.lower()
    windows = {low[i : i + FRAGMENT] for i in range(len(low) - FRAGMENT + 1)}
    windows |= {w[::-1] for w in windows}
    found = []
    squeezed = re.sub(r"[^a-z0-9]", "", low)
    squeezed_windows = {squeezed[i : i + FRAGMENT] for i in range(len(squeezed) - FRAGMENT + 1)}
    for view in views(text):
        lowered = view.lower()
        if squeeze:
            flat = re.sub(r"[^a-z0-9]", "", lowered)
            found += [f"spelled-out fragment {w!r}" for w in squeezed_windows if w in flat]
        found += [f"fragment {w!r}" for w in windows if w in lowered]
        found += [f"form {f!r}" for f in also if f and f in view]
        for decoded in _decodings(view):
            dl = decoded.lower()
            found += [f"encoded fragment {w!r}" for w in windows if w.encode() in dl]
        if re.search(r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{10,}", view, re.IGNORECASE):
            found.append("an hf_ token")
    return sorted(set(found))
