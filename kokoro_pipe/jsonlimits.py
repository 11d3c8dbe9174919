"""The one JSON reader for what others send: FIFO requests, socket lines, frame payloads.

json.loads recurses once per nesting level, so a few KB of "[[[[..." raise
RecursionError (not ValueError) and stop whatever called it. Here the depth is
measured first, by a linear scan that skips strings and does not recurse, and
the input is strict: UTF-8, at most `max_bytes`, no NaN or Infinity, no
integer of more than MAX_DIGITS digits. Every refusal is a JsonError (a
ValueError) whose message says why.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 32  # the deepest legitimate input, a socket request, nests 3
MAX_BYTES = 4 << 20  # the largest legitimate input, a socket request with a lexicon
MAX_DIGITS = 100  # no count or offset is longer (Python itself stops at 4300, with a hint)

# A string, escapes included, or an unterminated one to the end: one match
# per string, so the scan stays linear whatever the quotes.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class JsonError(ValueError):
    """Not JSON this project accepts. The message says why, for the caller to
    put after what it was reading: "invalid JSON (nested deeper than 32 levels)"."""


def loads(data: bytes | str, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """The value of one JSON text, read without unbounded recursion or size."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise JsonError(f"longer than {max_bytes} bytes")
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as e:
        raise JsonError(f"not valid UTF-8 (byte {e.start})") from None
    if depth(text) > max_depth:
        raise JsonError(f"nested deeper than {max_depth} levels")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_int=_int)
    except json.JSONDecodeError as e:
        raise JsonError(f"{e.msg}: column {e.colno}") from None


def depth(text: str) -> int:
    """How deep arrays and objects nest in `text`, brackets inside strings not
    counted; at least as deep as json.loads would go before any error."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _no_constant(name: str):
    raise JsonError(f"{name} is not a JSON number")


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_DIGITS:
        raise JsonError(f"an integer of more than {MAX_DIGITS} digits")
    return int(digits)
