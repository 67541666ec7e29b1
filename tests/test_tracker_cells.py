"""Cell text both backends can store: invalid characters replaced, long text cut."""

from __future__ import annotations

from tracker.cells import MAX_CELL_UNITS, CellLog, cut, storable
from tracker.times import parse_instant, read_utc_cell, utc_text


def test_control_characters_and_lone_surrogates_become_replacement_chars() -> None:
    log = CellLog()

    text = storable("a\x0bb\x1b[31mc\ud800d\ufffe\tok\n", "task t1, field x", log)

    assert text == "a\ufffdb\ufffd[31mc\ufffdd\ufffd\tok\n"
    assert log.notes == [
        "task t1, field x: replaced 4 control or invalid character(s) with U+FFFD"
    ]


def test_clean_text_is_returned_as_is_without_a_note() -> None:
    log = CellLog()
    assert storable("Größe 音楽 🎵", "w", log) == "Größe 音楽 🎵"
    assert log.notes == []


def test_cut_counts_utf16_units_and_ends_with_a_marker() -> None:
    text = "🎵" * 20_000  # 40,000 UTF-16 units

    result = cut(text)

    assert len(result.encode("utf-16-le")) // 2 <= MAX_CELL_UNITS
    assert result.endswith(" [cut: 20,000 characters in full]")
    assert result.startswith("🎵🎵")
    assert cut("short") == "short"


def test_timestamps_with_offsets_give_one_utc_text() -> None:
    a = parse_instant("2026-03-01T10:00:00.000+05:30")
    b = parse_instant("2026-03-01T04:30:00Z")
    assert utc_text(a) == utc_text(b) == "2026-03-01T04:30:00Z"


def test_kept_cells_read_back_from_text_dates_and_serials() -> None:
    from datetime import datetime

    assert read_utc_cell("2026-03-01T10:00:00+05:30") == "2026-03-01T04:30:00Z"
    assert read_utc_cell(datetime(2026, 3, 1, 4, 30)) == "2026-03-01T04:30:00Z"
    assert read_utc_cell(46082) == "2026-03-01T00:00:00Z"
    assert read_utc_cell("not a date") is None
    assert read_utc_cell(True) is None
