"""Players on a preference page: playing from disk, first press, switching, ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page

from builder.build import BuildResult
from tests.conftest import PageLog
from tests.page_helpers import (
    audio,
    blockers,
    bundle,
    config_of,
    copy_bundle,
    download,
    draft,
    fill_rubric,
    listen_through,
    media,
    open_page,
    page_named,
    set_rate,
    until,
    validate,
    wait_metadata,
)

pytestmark = pytest.mark.browser


def test_plays_from_disk_with_relative_src_and_nothing_else(
    page: Page, page_log: PageLog, pilot_build: BuildResult
) -> None:
    """F01: <audio> with a relative src plays from file://; no fetch, no errors."""
    config = open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    src = page.get_attribute(audio("A"), "src")
    assert src == config["clips"][0]["src"]
    assert src is not None and src.startswith("audio/")

    wait_metadata(page, "A")
    page.click("[data-testid='play-A']")
    until(page, "A", "a.currentTime > 0.3")

    kinds = {kind for kind, _ in page_log.requests}
    assert kinds <= {"document", "media"}, kinds
    media_urls = [url for kind, url in page_log.requests if kind == "media"]
    assert any(url.endswith(src) for url in media_urls)
    assert page_log.console_errors() == []
    assert page_log.errors == []


def test_nothing_plays_on_load_and_the_first_press_sounds(
    page: Page, pilot_build: BuildResult
) -> None:
    """F02: no autoplay; the first press starts sound; counting starts at playing."""
    config = open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    wait_metadata(page, "A")
    wait_metadata(page, "B")
    page.wait_for_timeout(300)
    for label in ("A", "B"):
        assert media(page, label, "paused") is True
        assert media(page, label, "currentTime") == 0
    assert page.text_content("[data-testid='coverage-A']") == "Heard 0% · needs 90%"

    set_rate(page, "A", 4)
    page.click("[data-testid='play-A']")
    until(page, "A", "a.currentTime > 2")
    page.click("[data-testid='play-A']")
    assert media(page, "A", "paused") is True

    saved = draft(page, config)
    assert saved is not None
    ledger = saved["ledger"]
    assert ledger["clips"]["A"]["plays"] == 1
    assert ledger["clips"]["A"]["intervals"][0][0] < 0.5
    assert ledger["clips"]["A"]["intervals"][-1][1] > 1.5
    kinds = [e["type"] for e in ledger["events"]]
    assert kinds[:2] == ["play", "playing"]
    assert "pause" in kinds


def test_rejected_play_shows_a_message_and_counts_nothing(
    page: Page, pilot_build: BuildResult
) -> None:
    """F02: a refused play() is told to the analyst and never counted as heard."""
    page.add_init_script(
        "HTMLMediaElement.prototype.play = function () {"
        "  const refusal = new DOMException('autoplay says no', 'NotAllowedError');"
        "  return Promise.reject(refusal);"
        "};"
    )
    config = open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    wait_metadata(page, "A")
    page.click("[data-testid='play-A']")

    message = page.locator("[data-testid='player-message-A']")
    message.wait_for(state="visible")
    assert "did not start clip A" in message.text_content()
    page.wait_for_timeout(300)
    assert page.text_content("[data-testid='coverage-A']") == "Heard 0% · needs 90%"
    page.click("[data-testid='anomaly-other']")  # any change saves the draft now
    saved = draft(page, config)
    assert saved is not None
    clip = saved["ledger"]["clips"]["A"]
    assert clip["plays"] == 0
    assert clip["intervals"] == []
    assert [e["type"] for e in saved["ledger"]["events"]] == ["rejected"]


def test_switching_keeps_the_position(page: Page, pilot_build: BuildResult) -> None:
    """Starting B while A plays pauses A and starts B where A was."""
    open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    wait_metadata(page, "A")
    wait_metadata(page, "B")
    set_rate(page, "A", 2)
    page.click("[data-testid='play-A']")
    until(page, "A", "a.currentTime > 3")
    page.click("[data-testid='play-B']")
    until(page, "B", "!a.paused")
    a_position = media(page, "A", "currentTime")
    b_position = media(page, "B", "currentTime")
    assert media(page, "A", "paused") is True
    assert a_position > 3
    assert a_position - 0.05 <= b_position < a_position + 1.5

    page.click("[data-testid='play-A']")
    until(page, "A", "!a.paused")
    assert media(page, "B", "paused") is True
    assert media(page, "A", "currentTime") >= b_position - 0.05


def test_a_seek_is_not_counted_as_heard(page: Page, pilot_build: BuildResult) -> None:
    """Jumping ahead while playing leaves the skipped part unheard."""
    config = open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    wait_metadata(page, "A")
    set_rate(page, "A", 8)
    page.click("[data-testid='play-A']")
    until(page, "A", "a.currentTime > 1")
    page.eval_on_selector(audio("A"), "a => { a.currentTime = 14; }")
    until(page, "A", "a.ended")
    page.click("[data-testid='anomaly-other']")

    saved = draft(page, config)
    assert saved is not None
    intervals = saved["ledger"]["clips"]["A"]["intervals"]
    assert all(end <= 5 or start >= 13.9 for start, end in intervals), intervals
    assert intervals[-1][1] == pytest.approx(18, abs=0.3)
    assert "seek" in [e["type"] for e in saved["ledger"]["events"]]
    coverage = page.text_content("[data-testid='coverage-A']") or ""
    assert coverage.startswith("Heard ") and "needs 90%" in coverage


def test_listening_at_sixteen_times_counts_as_heard(
    page: Page, pilot_build: BuildResult
) -> None:
    """The plausibility check scales with playbackRate."""
    open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    listen_through(page, "A")
    text = page.text_content("[data-testid='coverage-A']") or ""
    assert text.endswith("✓"), text
    assert int(text.split()[1].rstrip("%")) >= 90


@pytest.mark.parametrize("reported", ["Infinity", "NaN"])
def test_unknown_media_duration_never_shows_nan(
    page: Page, page_log: PageLog, pilot_build: BuildResult, reported: str
) -> None:
    """F13: the build-time duration is shown and used; an early timeupdate is safe."""
    page.add_init_script(
        "Object.defineProperty(HTMLMediaElement.prototype, 'duration',"
        f" {{ get() {{ return {reported}; }} }});"
    )
    open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    page.eval_on_selector(audio("A"), "a => a.dispatchEvent(new Event('timeupdate'))")
    assert page.text_content("[data-testid='time-A']") == "0:00 / 0:18"

    listen_through(page, "A")
    time_text = page.text_content("[data-testid='time-A']") or ""
    assert "NaN" not in time_text and time_text.endswith("/ 0:18")
    assert (page.text_content("[data-testid='coverage-A']") or "").endswith("✓")
    assert page_log.errors == []


def test_unknown_duration_everywhere_shows_dashes(
    page: Page, page_log: PageLog, pilot_build: BuildResult, tmp_path: Path
) -> None:
    """F13: with no build-time duration and a NaN media duration, show --:--."""
    folder = copy_bundle(pilot_build, "r01", tmp_path)
    html = page_named(folder, "ab-001")
    text = html.read_text("utf-8")
    html.write_text(text.replace('"duration":18.0', '"duration":0'), "utf-8")
    page.add_init_script(
        "Object.defineProperty(HTMLMediaElement.prototype, 'duration',"
        " { get() { return NaN; } });"
        "Object.defineProperty(HTMLMediaElement.prototype, 'currentTime',"
        " { get() { return NaN; }, set(v) {} });"
    )
    open_page(page, html)
    page.eval_on_selector(audio("A"), "a => a.dispatchEvent(new Event('timeupdate'))")
    assert page.text_content("[data-testid='time-A']") == "--:-- / --:--"
    assert page_log.errors == []


def test_an_unplayable_clip_is_reported_and_does_not_block(
    page: Page, pilot_build: BuildResult, tmp_path: Path
) -> None:
    """F06: a clip the browser cannot decode is marked, recorded, and not required."""
    folder = copy_bundle(pilot_build, "r01", tmp_path)
    html = page_named(folder, "ab-001")
    (folder / config_of(html)["clips"][1]["src"]).write_bytes(b"not an ogg file" * 99)

    config = open_page(page, html)
    message = page.locator("[data-testid='player-message-B']")
    message.wait_for(state="visible")
    assert "cannot play clip B" in (message.text_content() or "")
    assert page.is_disabled("[data-testid='play-B']")
    assert page.text_content("[data-testid='coverage-B']") == "Cannot play here"

    fill_rubric(page, config)
    listen_through(page, "A")
    assert blockers(page) == []
    _, data = download(page)
    submission = json.loads(data)
    validate(submission)
    heard = submission["listening"]["clips"]
    assert heard["A"]["playable"] is True and heard["A"]["coverage"] >= 0.9
    assert heard["B"]["playable"] is False
    assert heard["B"]["error"]
    assert heard["B"]["coverage"] == 0
    assert {"label": "B", "type": "error"}.items() <= submission["listening"]["events"][
        0
    ].items()


def test_a_format_the_browser_refuses_is_marked_unplayable(
    page: Page, pilot_build: BuildResult
) -> None:
    """F06: canPlayType saying no is enough; the clip never blocks the download."""
    page.add_init_script("HTMLMediaElement.prototype.canPlayType = () => '';")
    open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    for label in ("A", "B"):
        message = page.locator(f"[data-testid='player-message-{label}']")
        message.wait_for(state="visible")
        assert ".ogg files are not supported" in (message.text_content() or "")
    assert not any(b.startswith("Listen") for b in blockers(page))


def test_the_event_list_is_capped(page: Page, pilot_build: BuildResult) -> None:
    """The ledger keeps the newest 2000 events and counts the ones it dropped."""
    config = open_page(page, page_named(bundle(pilot_build, "r01"), "ab-001"))
    page.eval_on_selector(
        audio("A"),
        "a => { for (let i = 0; i < 2150; i++) a.dispatchEvent(new Event('play')); }",
    )
    page.click("[data-testid='anomaly-other']")
    saved = draft(page, config)
    assert saved is not None
    assert len(saved["ledger"]["events"]) == 2000
    assert saved["ledger"]["events_dropped"] == 150
