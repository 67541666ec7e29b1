"""Timestamps: parse what pages write, and show every instant as UTC text.

Tracker cells hold ISO-8601 text ending in ``Z`` rather than spreadsheet dates:
workbook dates carry no offset, and Sheets returns them as serial numbers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

# Day zero of spreadsheet serial dates (Lotus 1-2-3 compatible, as Sheets uses).
SERIAL_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 timestamp that carries its UTC offset.

    Raises ValueError when the text is not ISO-8601 or has no offset.
    """
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{text!r} has no UTC offset")
    return parsed.astimezone(UTC)


def utc_text(instant: datetime) -> str:
    """Return ``2026-03-01T04:30:00Z`` for an offset-aware datetime (seconds kept)."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_day(instant: datetime) -> str:
    """Return the UTC calendar day of an instant as ``2026-03-01``."""
    return instant.astimezone(UTC).date().isoformat()


def read_day_cell(value: object) -> str | None:
    """Turn a tracker cell back into a UTC day ``2026-03-01``, or None.

    Accepts our own text, a spreadsheet date or date-time (its day), a serial day
    number (days since 1899-12-30, as Google Sheets gives a date cell) and text
    with a time after the day.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        if not 1 <= value < 2958466:  # 9999-12-31 is the last serial day
            return None
        return (SERIAL_EPOCH + timedelta(days=float(value))).date().isoformat()
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            return None
    return None


def read_utc_cell(value: object) -> str | None:
    """Turn a tracker cell back into UTC text, or None when it holds no instant.

    Accepts our own text, a spreadsheet date (naive, taken as UTC) and a serial
    day number, so a value a lead's spreadsheet program converted is not lost.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return utc_text(aware)
    if isinstance(value, date):
        return utc_text(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, int | float):
        if not 1 <= value < 2958466:  # 9999-12-31 is the last serial day
            return None
        return utc_text(SERIAL_EPOCH + timedelta(days=float(value)))
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
        aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        return utc_text(aware)
    return None
