"""Render bundle pages from jinja templates, with CSS and JS inlined.

Each page embeds one JSON config (see ``page_config`` in ``builder/build.py``) that
its script reads once; everything untrusted reaches the page either through
autoescaped template text or through that JSON, escaped by ``embed_json``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

HERE = Path(__file__).resolve().parent.parent
TEMPLATES = HERE / "templates"
ASSETS = HERE / "site_assets"

# Characters that could end a <script> block, open a comment, or break a JS
# string literal in older engines (U+2028/U+2029) are written as \u escapes.
_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_JSON_TABLE = str.maketrans(_JSON_ESCAPES)


def embed_json(value: Any) -> str:
    """Serialise ``value`` for a ``<script type="application/json">`` block."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.translate(_JSON_TABLE)


@cache
def asset(name: str) -> Markup:
    """Return a file of ``site_assets/`` for inlining; our own code, so not escaped."""
    text = (ASSETS / name).read_text("utf-8")
    if "</" in text:
        # An inlined "</script>" or "</style>" would end the block early.
        raise ValueError(f"site_assets/{name} contains '</'; write '<\\/' instead")
    return Markup(text)


@cache
def environment() -> jinja2.Environment:
    """The one jinja environment: autoescape on, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals["asset"] = asset
    # Safe to mark: embed_json leaves no '<', '>' or '&' in its output.
    env.filters["embed_json"] = lambda value: Markup(embed_json(value))
    return env


def render(template: str, **context: Any) -> str:
    """Render ``template`` with ``context``; inline assets are available as asset()."""
    return environment().get_template(template).render(**context)
