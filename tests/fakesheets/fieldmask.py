"""Google field masks: ``sheets.properties``, ``userEnteredFormat(bold,italic)``.

A mask is parsed into a tree of dicts; an empty dict marks a whole field. The
same tree filters responses (the ``fields`` query parameter) and drives the
``fields`` of update requests.
"""

from __future__ import annotations

import copy
from typing import Any

Mask = dict[str, "Mask"]


def parse(text: str) -> Mask:
    """Parse a mask; ``.`` and ``/`` both separate path segments.

    Raises ``ValueError`` on unbalanced parentheses or empty segments.
    """
    tree: Mask = {}
    pos = _parse_list(text.replace(" ", ""), 0, tree)
    if pos != len(text.replace(" ", "")):
        raise ValueError(text)
    return tree


def _parse_list(text: str, pos: int, tree: Mask) -> int:
    while True:
        pos = _parse_path(text, pos, tree)
        if pos < len(text) and text[pos] == ",":
            pos += 1
            continue
        return pos


def _parse_path(text: str, pos: int, tree: Mask) -> int:
    node = tree
    while True:
        start = pos
        while pos < len(text) and text[pos] not in ".,/()":
            pos += 1
        name = text[start:pos]
        if not name:
            raise ValueError(text)
        child = node.setdefault(name, {})
        if pos < len(text) and text[pos] in "./":
            node = child
            pos += 1
            continue
        if pos < len(text) and text[pos] == "(":
            pos = _parse_list(text, pos + 1, child)
            if pos >= len(text) or text[pos] != ")":
                raise ValueError(text)
            pos += 1
        return pos


def select(value: Any, mask: Mask) -> Any:
    """Keep only the masked fields of a response value (lists are mapped)."""
    if not mask or "*" in mask:
        return value
    if isinstance(value, list):
        return [select(item, mask) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, sub in mask.items():
        if key in value:
            out[key] = select(value[key], sub)
    return out


def apply(target: dict[str, Any], source: dict[str, Any], mask: Mask) -> None:
    """Copy the masked fields from ``source`` into ``target``.

    A masked field missing from ``source`` is cleared in ``target``, as the
    update requests of the Sheets API do.
    """
    if "*" in mask:
        target.clear()
        target.update(copy.deepcopy(source))
        return
    for key, sub in mask.items():
        if not sub:
            if key in source and source[key] is not None:
                target[key] = copy.deepcopy(source[key])
            else:
                target.pop(key, None)
            continue
        inner_source = source.get(key)
        if not isinstance(inner_source, dict):
            inner_source = {}
        inner = target.get(key)
        if not isinstance(inner, dict):
            inner = {}
        apply(inner, inner_source, sub)
        if inner:
            target[key] = inner
        else:
            target.pop(key, None)


def top_level(mask: Mask) -> set[str]:
    """Return the first segment of every path in the mask."""
    return set(mask)
