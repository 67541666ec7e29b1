"""Injected failures as plain requests and real gspread clients see them."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import gspread
import gspread.http_client
import pytest
import requests
from gspread.http_client import BackOffHTTPClient

from tests.fakesheets import FakeSheets

pytest_plugins = ["tests.fakesheets.fixtures"]

SHORT_TIMEOUT = 0.2  # seconds the client waits; stalls last far longer
LONG_STALL = 30.0  # never waited out: the fake wakes stalled handlers on stop


def _values_url(key: str, cells: str = "Sheet1!A1:B2") -> str:
    return f"https://sheets.googleapis.com/v4/spreadsheets/{key}/values/{cells}"


def test_429_then_success_with_a_plain_retry_loop(fake_sheets: FakeSheets) -> None:
    key = fake_sheets.create("Quota")
    fake_sheets.faults.fail_next(1, status=429)
    http = fake_sheets.session()
    statuses = []
    for _attempt in range(3):  # a bounded retry, as a transport would do
        reply = http.get(_values_url(key))
        statuses.append(reply.status_code)
        if reply.ok:
            break
        error = reply.json()["error"]
        assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
        assert "Read requests per minute per user" in error["message"]
    assert statuses == [429, 200]
    assert fake_sheets.faults.pending == 0
    assert fake_sheets.count_calls("GET", r"/values/") == 2


def test_gspread_backoff_client_retries_429(
    fake_sheets: FakeSheets, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = fake_sheets.create("Backoff")
    waits: list[float] = []
    # gspread sleeps 2, 4, ... seconds between tries; record instead of waiting.
    monkeypatch.setattr(
        gspread.http_client, "time", SimpleNamespace(sleep=waits.append)
    )
    ws = fake_sheets.client(http_client=BackOffHTTPClient).open_by_key(key).sheet1
    ws.update([["kept"]], "A1")
    fake_sheets.faults.fail_next(2, status=429, method="GET", path="/values/")
    with fake_sheets.counting() as calls:
        assert ws.get_all_values() == [["kept"]]
    assert waits == [2, 4]
    assert len(calls) == 3


def test_503_reaches_gspread_as_api_error(fake_sheets: FakeSheets) -> None:
    key = fake_sheets.create("Unavailable")
    ws = fake_sheets.client().open_by_key(key).sheet1
    fake_sheets.faults.fail_next(1, status=503)
    with pytest.raises(gspread.exceptions.APIError) as failure:
        ws.get_all_values()
    assert failure.value.code == 503
    assert failure.value.error["status"] == "UNAVAILABLE"
    assert ws.get_all_values() == [[]]


def test_faults_can_aim_at_one_endpoint(fake_sheets: FakeSheets) -> None:
    key = fake_sheets.create("Aimed")
    sh = fake_sheets.client().open_by_key(key)
    fake_sheets.faults.fail_next(1, status=500, method="POST", path=r":batchUpdate$")
    sh.sheet1.update([["reads and value writes pass"]], "A1")
    with pytest.raises(gspread.exceptions.APIError) as failure:
        sh.sheet1.freeze(rows=1)
    assert failure.value.code == 500
    assert fake_sheets.spreadsheet(key).sheet("Sheet1").frozen_rows == 0
    assert [f.kind for f in fake_sheets.faults.fired] == ["status"]


def test_stall_beyond_client_timeout_raises_read_timeout(
    fake_sheets: FakeSheets,
) -> None:
    key = fake_sheets.create("Slow")
    gc = fake_sheets.client(timeout=SHORT_TIMEOUT)
    sh = gc.open_by_key(key)
    fake_sheets.faults.timeout_next(1, seconds=LONG_STALL, method="PUT")
    with pytest.raises(requests.exceptions.ReadTimeout):
        sh.sheet1.update([["lost"]], "A1")
    assert fake_sheets.spreadsheet(key).sheet("Sheet1").values() == []
    sh.sheet1.update([["second try"]], "A1")  # a new connection works at once
    assert sh.sheet1.get_all_values() == [["second try"]]


def test_stall_after_apply_commits_the_write_the_client_gave_up_on(
    fake_sheets: FakeSheets,
) -> None:
    key = fake_sheets.create("Slow commit")
    sh = fake_sheets.client(timeout=SHORT_TIMEOUT).open_by_key(key)
    handled = fake_sheets.handled
    fake_sheets.faults.timeout_next(1, seconds=LONG_STALL, apply=True, method="PUT")
    with pytest.raises(requests.exceptions.ReadTimeout):
        sh.sheet1.update([["landed anyway"]], "A1")
    assert fake_sheets.wait_handled(handled + 1)
    assert fake_sheets.spreadsheet(key).sheet("Sheet1").values() == [["landed anyway"]]


def test_dropped_connection_raises_connection_error(fake_sheets: FakeSheets) -> None:
    key = fake_sheets.create("Dropped")
    http = fake_sheets.session()
    fake_sheets.faults.drop_next(1)
    with pytest.raises(requests.exceptions.ConnectionError):
        http.get(_values_url(key))
    assert http.get(_values_url(key)).status_code == 200
    ws = fake_sheets.client().open_by_key(key).sheet1
    fake_sheets.faults.drop_next(1, method="GET", path="/values/")
    with pytest.raises(requests.exceptions.ConnectionError):
        ws.get_all_values()  # gspread 6.2.1 does not wrap or retry this


def test_fail_after_apply_leaves_the_write_in_place(fake_sheets: FakeSheets) -> None:
    key = fake_sheets.create("Interrupted sync")
    sh = fake_sheets.client().open_by_key(key)
    fake_sheets.faults.fail_after_apply_next(1, status=500, path=r"values:batchUpdate$")
    with pytest.raises(gspread.exceptions.APIError) as failure:
        sh.values_batch_update(
            {
                "valueInputOption": "RAW",
                "data": [{"range": "Sheet1!A1", "values": [["w"]]}],
            }
        )
    assert failure.value.code == 500
    assert fake_sheets.spreadsheet(key).sheet("Sheet1").values() == [["w"]]


def test_stop_ends_stalled_handlers_and_threads() -> None:
    fake = FakeSheets().start()
    key = fake.create("Teardown")
    fake.faults.timeout_next(1, seconds=LONG_STALL)
    with pytest.raises(requests.exceptions.ReadTimeout):
        fake.session().get(_values_url(key), timeout=SHORT_TIMEOUT)
    idle = fake.session()
    assert idle.get(_values_url(key)).ok  # leaves a keep-alive connection open
    fake.stop()
    alive = [t.name for t in threading.enumerate() if t.name.startswith("fakesheets")]
    assert alive == []
    with pytest.raises(requests.exceptions.ConnectionError):
        idle.get(_values_url(key), timeout=SHORT_TIMEOUT)
