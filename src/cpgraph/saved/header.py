"""The metadata header of a ``.rq`` file: grlc's ``#+`` decorators, read without a YAML library.

grlc reads the ``#+`` lines as YAML; this reads the subset of YAML that saved queries use, and
also the looser form cpgraph accepted before (a colon inside an unquoted value):

- a key is split from its value at the first colon only, so that a colon inside a summary or
  description survives;
- an indented line continues the value above, joined with a space; a value may also start
  with a YAML block indicator (``>-``, ``>``, ``|``, ...) and continue on the indented lines
  below (joined with spaces, as above);
- a value in single or double quotes (which may run over several lines) is unquoted, with
  YAML's escapes for a quote (``''`` in single quotes, ``\"`` and ``\\`` in double quotes);
- ``- item`` lines (or an inline ``[a, b]``) make a list; an item ``name: value`` (the
  ``defaults`` and ``parameters``) is a mapping in YAML, its value quoted where it holds
  ``: ``.

An unknown key is an error, so that a typo does not pass silently. The syntax is described for
authors in ``docs/saved-queries.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from cpgraph.errors import InputError

KNOWN_KEYS = {
    "summary",
    "description",
    "tags",
    "defaults",
    "parameters",
    "chart",
    "pagination",
    "endpoint",
    "method",
}
LIST_KEYS = {"tags", "defaults", "parameters"}
Header = dict[str, str | list[str]]
_BLOCK = re.compile(r"[|>](?:[1-9]?[+-]?|[+-][1-9])")  # a YAML block scalar's indicator


def parse_header(text: str, *, source: str = "query") -> Header:
    """The ``#+`` decorators at the top of ``text``, as scalars and lists of strings.

    Raises:
        InputError: for an unknown key, a list item outside a list, or a malformed line.
    """
    header: Header = {}
    key: str | None = None
    blocks: set[str] = set()  # the keys whose value is a block scalar: taken as written
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#+"):
            if line.strip() == "" and not header:
                continue
            break
        content = line[2:]
        stripped = content.strip()
        if not stripped:
            continue
        if stripped.startswith("- "):
            if key is None or not isinstance(header.get(key), list):
                raise InputError(f"{source}: line {number}: a list item outside a list")
            items = header[key]
            assert isinstance(items, list)
            items.append(_unquote(stripped[2:].strip()))
            continue
        if content.startswith(("  ", "\t")) and key is not None:
            value = header.get(key)
            if isinstance(value, str):  # a continuation line of a scalar
                header[key] = f"{value} {stripped}" if value else stripped
                continue
        name, colon, value = stripped.partition(":")
        name = name.strip()
        if not colon or not re.fullmatch(r"[A-Za-z_]+", name):
            raise InputError(f"{source}: line {number}: expected 'key: value', got {stripped!r}")
        if name not in KNOWN_KEYS:
            raise InputError(
                f"{source}: line {number}: unknown header key {name!r} "
                f"(known: {', '.join(sorted(KNOWN_KEYS))})"
            )
        key = name
        value = value.strip()
        if name in LIST_KEYS:
            header[name] = [] if not value else [_unquote(v.strip()) for v in _inline_list(value)]
        elif _BLOCK.fullmatch(value):
            header[name] = ""  # the value is on the indented lines below
            blocks.add(name)
        else:
            header[name] = value  # unquoted below, once its continuation lines are read
    for name, value in header.items():
        if isinstance(value, str) and name not in blocks:
            header[name] = _unquote(value)
    return header


def split_header(text: str) -> tuple[str, int]:
    """The query of a ``.rq`` file's ``text`` (its ``#+`` lines taken out, stripped, ending in
    a newline), and how many lines of the file come before the query's first line (the
    header's, and blank lines), so that a line of the query can be told as a line of the
    file."""
    blanked = "".join(
        "\n" if line.startswith("#+") else line for line in text.splitlines(keepends=True)
    )
    return strip_lines(blanked)


def strip_lines(text: str) -> tuple[str, int]:
    """``text`` stripped, ending in a newline, and how many lines the stripping took off its
    start."""
    body = text.lstrip()
    return body.rstrip() + "\n", text[: len(text) - len(body)].count("\n")


def header_list(header: Mapping[str, str | list[str]], key: str) -> list[str]:
    """The items under ``key`` (a scalar counts as a list of one)."""
    value = header.get(key, [])
    return [value] if isinstance(value, str) and value else list(value or [])


def header_pairs(header: Mapping[str, str | list[str]], key: str, *, source: str) -> dict[str, str]:
    """The ``name: value`` items under ``key`` (``defaults``, ``parameters``), by name.

    Raises:
        InputError: for an item that is not ``name: value``.
    """
    pairs: dict[str, str] = {}
    for item in header_list(header, key):
        name, colon, value = item.partition(":")
        if not colon:
            raise InputError(f"{source}: '{key}' items are 'name: value', got {item!r}")
        pairs[name.strip()] = _unquote(value.strip())
    return pairs


def _inline_list(value: str) -> list[str]:
    if value.startswith("[") and value.endswith("]"):
        return [v for v in value[1:-1].split(",") if v.strip()]
    return [value]


def _unquote(value: str) -> str:
    """``value`` without the quotes around it, if it is quoted, with YAML's escapes for the
    quote read (``''`` in single quotes; ``\\"`` and ``\\\\`` in double quotes)."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        inner = value[1:-1]
        if value[0] == "'":
            return inner.replace("''", "'")
        return re.sub(r'\\([\\"])', r"\1", inner)
    return value
