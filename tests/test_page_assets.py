"""The inlined page assets: safe to inline, and free of HTML-from-data sinks."""

from __future__ import annotations

import re

import pytest

from builder.build import BuildResult
from builder.render import ASSETS
from tests.page_helpers import bundle

SCRIPT = (ASSETS / "earmark.js").read_text("utf-8")
STYLE = (ASSETS / "earmark.css").read_text("utf-8")


@pytest.mark.parametrize("text", [SCRIPT, STYLE], ids=["js", "css"])
def test_assets_cannot_end_their_inline_block(text: str) -> None:
    """base.html inlines them unescaped; these sequences would break out or confuse."""
    for sequence in ("</script", "</style", "<!--", "<script"):
        assert sequence not in text.lower(), sequence


def test_script_never_turns_data_into_html() -> None:
    """F10: text reaches the DOM through textContent and value only."""
    sinks = (
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|Function\("
    )
    assert re.findall(sinks, SCRIPT) == []


def test_pages_keep_the_content_security_policy(pilot_build: BuildResult) -> None:
    folder = bundle(pilot_build, "r01")
    for html in [folder / "index.html", *sorted(folder.glob("task-*.html"))]:
        text = html.read_text("utf-8")
        assert "default-src 'none'" in text and "connect-src 'none'" in text, html.name
        assert text.count("<script") == 2, html.name
