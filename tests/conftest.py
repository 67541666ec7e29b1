"""Shared fixtures: real projects built into temporary folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from builder.build import BuildResult, build
from tests.sync_support import BUILT_AT

# Test modules import the backend helpers directly and load them as a plugin too;
# registering them first lets pytest rewrite their asserts either way.
pytest.register_assert_rewrite("tests.backends")

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Dialog, Page, Request

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "pilot"
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def pilot_build(tmp_path_factory: pytest.TempPathFactory) -> BuildResult:
    """The example project built once per session; treat it as read-only."""
    out = tmp_path_factory.mktemp("pilot-build")
    return build(EXAMPLE, out, progress=False, built_at=BUILT_AT)


@pytest.fixture
def pilot_copy(tmp_path: Path) -> Path:
    """A writable copy of the example project (config, manifest, audio)."""
    target = tmp_path / "pilot"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("submissions"))
    return target


MakeProject = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Write a small project: ``make_project(rows, config=..., clips={...})``.

    ``rows`` are manifest lines (header included) written as UTF-8 unless ``raw``
    bytes are given; clips default to two real example excerpts under ``audio/``.
    """

    def make(
        rows: list[str] | None = None,
        *,
        config: str | None = None,
        raw: bytes | None = None,
        name: str = "project",
    ) -> Path:
        root = tmp_path / name
        (root / "audio").mkdir(parents=True, exist_ok=True)
        for clip in ("chaosland-riff.ogg", "madness-riff.ogg", "feelings-build.ogg"):
            shutil.copyfile(EXAMPLE / "audio" / clip, root / "audio" / clip)
        (root / "earmark.toml").write_text(
            config
            or '[project]\nid = "t"\n\n'
            '[[raters]]\nid = "r1"\n\n[[raters]]\nid = "r2"\n',
            "utf-8",
        )
        if raw is None:
            rows = rows or [
                "task_id,kind,prompt,clip_a,model_a,clip_b,model_b",
                "t1,ab,Rock,audio/chaosland-riff.ogg,m1,audio/madness-riff.ogg,m2",
                "t2,caption,Describe,audio/feelings-build.ogg,m1,,",
            ]
            raw = ("\n".join(rows) + "\n").encode("utf-8")
        (root / "tasks.csv").write_bytes(raw)
        return root

    return make


# ---- real Chromium through Playwright (browser tests) ------------------------------

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]
# Schemes a bundle page may load besides its own files.
LOCAL_SCHEMES = ("data:", "blob:")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Debian Chromium for the whole session."""
    if not CHROMIUM.exists():
        pytest.skip("Chromium is missing: run `make chromium`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class PageLog:
    """What a page did: requests, console messages, uncaught errors, dialogs."""

    requests: list[tuple[str, str]] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    root: str | None = None

    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"]

    def outside_requests(self) -> list[str]:
        """Requests that left the bundle folder of the first file:// page opened."""
        return [
            url
            for _, url in self.requests
            if not url.startswith(LOCAL_SCHEMES)
            and not (self.root and url.startswith(self.root))
        ]


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(browser: Browser, page_log: PageLog) -> Iterator[Page]:
    """A fresh context and page; the test fails if anything leaves the bundle.

    The bundle is the folder of the first file:// document the page opens; every
    later request must be a file under it, or a data:/blob: URL.
    """
    context = browser.new_context(accept_downloads=True)
    tab = context.new_page()

    def on_request(request: Request) -> None:
        url = request.url
        if page_log.root is None and url.startswith("file://"):
            page_log.root = url.rsplit("/", 1)[0] + "/"
        page_log.requests.append((request.resource_type, url))

    context.on("request", on_request)
    tab.on("console", lambda m: page_log.console.append((m.type, m.text)))
    tab.on("pageerror", lambda e: page_log.errors.append(str(e)))

    def on_dialog(dialog: Dialog) -> None:
        page_log.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    yield tab
    context.close()
    outside = page_log.outside_requests()
    assert not outside, f"requests left the bundle folder: {outside}"
