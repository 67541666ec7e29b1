"""Render a project's caption guidelines: plain text with a tiny safe markup.

The subset: paragraphs (separated by blank lines), bullet lists (lines starting
with ``- `` or ``* ``; an indented line continues the item above), ``**bold**``
and ``*italic*``. Everything is escaped first, so no HTML typed in the config ever
reaches the page as markup; the only tags in the output are the ones made here.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_BULLET = re.compile(r"^[-*]\s+(.*)$")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![*\w])")


def render_guidance(text: str) -> Markup:
    """Return ``text`` as safe HTML: ``<p>``, ``<ul><li>``, ``<strong>``, ``<em>``."""
    blocks: list[str] = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()):
        blocks += _block(chunk.split("\n"))
    return Markup("\n".join(blocks))


def _block(lines: list[str]) -> list[str]:
    """One blank-line-separated chunk: runs of bullets become lists."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[list[str]] = []

    def flush_paragraph() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    def flush_items() -> None:
        if items:
            lis = "".join(f"<li>{_inline(' '.join(item))}</li>" for item in items)
            out.append(f"<ul>{lis}</ul>")
            items.clear()

    for raw in lines:
        line = raw.strip()
        bullet = _BULLET.match(line)
        if bullet:
            flush_paragraph()
            items.append([bullet.group(1)])
        elif items and raw[:1].isspace() and line:
            items[-1].append(line)
        elif line:
            flush_items()
            paragraph.append(line)
    flush_paragraph()
    flush_items()
    return out


def _inline(text: str) -> str:
    """Escape, then turn ``**x**`` and ``*x*`` into strong and em."""
    safe = str(escape(text))
    safe = _BOLD.sub(r"<strong>\1</strong>", safe)
    return _ITALIC.sub(r"<em>\1</em>", safe)
