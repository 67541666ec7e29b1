"""The retrying transport under real gspread, against the fake's injected faults."""

from __future__ import annotations

import gspread
import pytest
import requests

from tests.fakesheets import FakeSheets
from tracker.transport import RetryingHTTPClient, RetryPolicy, is_idempotent

pytest_plugins = ["tests.fakesheets.fixtures"]

BASE = "https://sheets.googleapis.com/v4/spreadsheets/KEY"


class Waits:
    """Records the back-off instead of sleeping; jitter fixed at its middle."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    def policy(self, jitter: float = 0.5) -> RetryPolicy:
        return RetryPolicy(sleep=self.seconds.append, random=lambda: jitter)


def client(
    fake: FakeSheets, policy: RetryPolicy, timeout: float | None = None
) -> RetryingHTTPClient:
    """The HTTP client gspread makes for a RetryingHTTPClient class."""
    made = fake.client(RetryingHTTPClient.with_policy(policy), timeout).http_client
    assert isinstance(made, RetryingHTTPClient)
    return made


@pytest.mark.parametrize(
    ("method", "url", "safe"),
    [
        ("GET", BASE, True),
        ("GET", f"{BASE}/values:batchGet?ranges=A", True),
        ("POST", f"{BASE}/values:batchUpdate", True),
        ("POST", f"{BASE}/values:batchClear", True),
        ("POST", f"{BASE}/values/Sheet1%21A1:clear", True),
        ("PUT", f"{BASE}/values/Sheet1%21A1", True),
        ("POST", f"{BASE}:batchUpdate", False),
        ("POST", f"{BASE}/values/Sheet1%21A1:append", False),
        ("POST", "https://www.googleapis.com/drive/v3/files", False),
    ],
)
def test_only_requests_that_can_land_twice_are_idempotent(
    method: str, url: str, safe: bool
) -> None:
    assert is_idempotent(method, url) is safe


def test_back_off_doubles_with_jitter_and_stops_at_the_cap() -> None:
    low = RetryPolicy(random=lambda: 0.0)
    high = RetryPolicy(random=lambda: 1.0)

    assert [low.delay(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 16, 16]
    assert [high.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 32, 32]
    assert high.delay(1, retry_after=20.0) == 20.0
    assert high.delay(1, retry_after=600.0) == 32.0


def test_reads_are_retried_on_5xx_and_429(fake_sheets: FakeSheets) -> None:
    key = fake_sheets.create("Retry")
    waits = Waits()
    http = client(fake_sheets, waits.policy())
    fake_sheets.faults.fail_next(1, status=503, method="GET")
    fake_sheets.faults.fail_next(1, status=429, method="GET")
    fake_sheets.faults.fail_next(1, status=500, method="GET")

    answer = http.spreadsheets_get(key)

    assert answer["spreadsheetId"] == key
    assert waits.seconds == [0.75, 1.5, 3.0]
    assert [x.status for x in http.log.exchanges] == [503, 429, 500, 200]


def test_value_writes_survive_dropped_connections_and_lost_answers(
    fake_sheets: FakeSheets,
) -> None:
    key = fake_sheets.create("Drops")
    waits = Waits()
    http = client(fake_sheets, waits.policy(), timeout=0.3)
    body = {
        "valueInputOption": "RAW",
        "data": [{"range": "Sheet1!A1:B1", "values": [["007", 1]]}],
    }
    path = r"/values:batchUpdate$"
    fake_sheets.faults.drop_next(1, path=path)
    fake_sheets.faults.fail_after_apply_next(1, status=502, path=path)
    fake_sheets.faults.timeout_next(1, seconds=30, apply=True, path=path)

    http.values_batch_update(key, body)

    assert fake_sheets.spreadsheet(key).sheet("Sheet1").values() == [["007", 1]]
    assert len(waits.seconds) == 3
    assert [x.status for x in http.log.exchanges] == [None, 502, None, 200]
    assert all(x.bytes_sent > 0 for x in http.log.exchanges)


def test_a_structural_batch_is_retried_on_429_only(fake_sheets: FakeSheets) -> None:
    key = fake_sheets.create("Structure")
    waits = Waits()
    http = client(fake_sheets, waits.policy())
    freeze = {
        "requests": [
            {
                "updateSheetProperties": {
                    "properties": {
                        "sheetId": 0,
                        "gridProperties": {"frozenRowCount": 1},
                    },
                    "fields": "gridProperties.frozenRowCount",
                }
            }
        ]
    }
    fake_sheets.faults.fail_next(1, status=429, path=r":batchUpdate$")
    http.batch_update(key, freeze)
    assert len(waits.seconds) == 1

    fake_sheets.faults.fail_after_apply_next(1, status=503, path=r":batchUpdate$")
    with pytest.raises(gspread.exceptions.APIError) as failure:
        http.batch_update(key, freeze)
    assert failure.value.code == 503
    fake_sheets.faults.drop_next(1, path=r":batchUpdate$")
    with pytest.raises(requests.ConnectionError):
        http.batch_update(key, freeze)
    assert len(waits.seconds) == 1
    assert fake_sheets.count_calls("POST", r":batchUpdate$") == 4


def test_a_persistent_quota_error_gives_up_after_five_tries(
    fake_sheets: FakeSheets,
) -> None:
    key = fake_sheets.create("Quota")
    waits = Waits()
    http = client(fake_sheets, waits.policy(jitter=1.0))
    fake_sheets.faults.fail_next(50, status=429)

    with pytest.raises(gspread.exceptions.APIError) as failure:
        http.spreadsheets_get(key)

    assert failure.value.code == 429
    assert waits.seconds == [1, 2, 4, 8]
    assert fake_sheets.count_calls() == 5


def test_errors_that_retrying_cannot_fix_are_raised_at_once(
    fake_sheets: FakeSheets,
) -> None:
    waits = Waits()
    http = client(fake_sheets, waits.policy())

    with pytest.raises(gspread.exceptions.APIError) as failure:
        http.spreadsheets_get("no-such-key")

    assert failure.value.code == 404
    assert waits.seconds == []
