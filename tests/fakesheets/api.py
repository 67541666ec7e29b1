"""The fake's endpoints, free of HTTP: method, path, query and body in, JSON out."""

from __future__ import annotations

import json
import random
import re
import string
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

from . import fieldmask, values
from .a1 import Box
from .batch import run_batch
from .errors import ApiError, invalid, not_found, unimplemented
from .model import Spreadsheet, grid_box, new_spreadsheet, now_rfc3339
from .render import spreadsheet_json

SHEETS_MIME = "application/vnd.google-apps.spreadsheet"
_SHEETS_PATH = re.compile(r"^/v4/spreadsheets/(?P<key>[^/:]+)(?P<rest>.*)$")
_DRIVE_PATH = re.compile(r"^/drive/v3/files(?:/(?P<key>[^/]+))?$")
_DRIVE_NAME = re.compile(r"""name\s*=\s*(["'])(?P<name>.*?)\1""")
_KEY_CHARS = string.ascii_letters + string.digits + "-_"

Params = dict[str, list[str]]


@dataclass
class Answer:
    """What to send back: a status and a JSON body (``None`` for no body)."""

    status: int
    body: dict[str, Any] | None


class Store:
    """Every spreadsheet the fake holds, behind one lock."""

    def __init__(self, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.books: dict[str, Spreadsheet] = {}
        self._rng = random.Random(seed)

    def create(
        self,
        title: str,
        sheets: list[str | dict[str, Any]] | None = None,
        key: str | None = None,
    ) -> str:
        """Create a spreadsheet; return its key (a Drive-like 44-char id)."""
        with self.lock:
            if key is None:
                key = "1" + "".join(self._rng.choice(_KEY_CHARS) for _ in range(43))
            if key in self.books:
                raise ValueError(f"spreadsheet {key} exists")
            self.books[key] = new_spreadsheet(key, title, sheets)
            return key

    def book(self, key: str) -> Spreadsheet:
        """Return the live spreadsheet; raises the API's 404."""
        book = self.books.get(key)
        if book is None:
            raise not_found()
        return book

    def snapshot(self, key: str) -> Spreadsheet:
        """Return a deep copy, safe to inspect while the server runs."""
        with self.lock:
            if key not in self.books:
                raise KeyError(key)
            return self.books[key].snapshot()


class SheetsApi:
    """Route requests to the Sheets v4 and Drive v3 operations the fake models."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def handle(self, method: str, raw_path: str, raw_query: str, body: bytes) -> Answer:
        """Answer one request; API errors come back in Google's error shape."""
        try:
            params = parse_qs(raw_query, keep_blank_values=True)
            with self.store.lock:
                return self._route(method.upper(), raw_path, params, body)
        except ApiError as exc:
            return Answer(exc.code, exc.body())
        except Exception as exc:  # a bug in the fake: say so instead of hanging up
            message = f"fakesheets failed on {method} {unquote(raw_path)}: {exc!r}"
            return Answer(500, ApiError(500, "INTERNAL", message).body())

    def _route(self, method: str, raw_path: str, params: Params, body: bytes) -> Answer:
        sheets = _SHEETS_PATH.match(raw_path)
        if sheets:
            key = unquote(sheets.group("key"))
            return self._sheets(method, key, sheets.group("rest"), params, body)
        drive = _DRIVE_PATH.match(raw_path)
        if drive:
            key = drive.group("key")
            return self._drive(method, unquote(key) if key else None, params, body)
        raise not_found(f"No such endpoint in the fake: {method} {unquote(raw_path)}")

    # Sheets ------------------------------------------------------------------

    def _sheets(
        self, method: str, key: str, rest: str, params: Params, body: bytes
    ) -> Answer:
        book = self.store.book(key)
        one = {name: vals[-1] for name, vals in params.items()}
        if rest == "" and method == "GET":
            return Answer(200, self._get_spreadsheet(book, params, one))
        if rest == ":batchUpdate" and method == "POST":
            return Answer(200, self._batch_update(key, book, _json(body)))
        if rest == "/values:batchGet" and method == "GET":
            options = values.read_options(one)
            return Answer(
                200, values.batch_get(book, params.get("ranges", []), options)
            )
        if rest == "/values:batchUpdate" and method == "POST":
            return Answer(
                200, self._touch(book, values.batch_update(book, _json(body)))
            )
        if rest == "/values:batchClear" and method == "POST":
            return Answer(200, self._touch(book, values.batch_clear(book, _json(body))))
        if rest.startswith("/values/"):
            return self._values(method, book, rest[len("/values/") :], one, body)
        raise not_found(f"No such endpoint in the fake: {method} {rest}")

    def _values(
        self,
        method: str,
        book: Spreadsheet,
        raw_range: str,
        one: dict[str, str],
        body: bytes,
    ) -> Answer:
        # The suffix is matched before unquoting: gspread escapes ':' inside
        # the range (%3A) but not in ":append" / ":clear".
        if raw_range.endswith(":append") and method == "POST":
            text = unquote(raw_range[: -len(":append")])
            return Answer(
                200, self._touch(book, values.append(book, text, one, _json(body)))
            )
        if raw_range.endswith(":clear") and method == "POST":
            text = unquote(raw_range[: -len(":clear")])
            cleared = values.clear(book, text)
            return Answer(
                200,
                self._touch(
                    book,
                    {"spreadsheetId": book.spreadsheet_id, "clearedRange": cleared},
                ),
            )
        text = unquote(raw_range)
        if method == "GET":
            return Answer(200, values.get(book, text, values.read_options(one)))
        if method == "PUT":
            return Answer(
                200, self._touch(book, values.update(book, text, one, _json(body)))
            )
        raise not_found(f"No such endpoint in the fake: {method} values/{text}")

    def _get_spreadsheet(
        self, book: Spreadsheet, params: Params, one: dict[str, str]
    ) -> dict[str, Any]:
        mask = _mask(one.get("fields"))
        wants_data = one.get("includeGridData", "").lower() == "true" or (
            "data" in mask.get("sheets", {})
        )
        selection: dict[int, list[Box] | None] | None = None
        ranges = params.get("ranges", [])
        if ranges:
            selection = {}
            for text in ranges:
                sheet, bounds = book.resolve(text)
                box = grid_box(sheet, bounds, text)
                boxes = selection.setdefault(sheet.sheet_id, [] if wants_data else None)
                if boxes is not None:
                    boxes.append(box)
        elif wants_data:
            selection = {sheet.sheet_id: [sheet.full_box()] for sheet in book.sheets}
        out = spreadsheet_json(book, selection)
        return fieldmask.select(out, mask) if mask else out

    def _batch_update(
        self, key: str, book: Spreadsheet, body: dict[str, Any]
    ) -> dict[str, Any]:
        updated, replies = run_batch(book, body.get("requests", []))
        updated.modified_time = now_rfc3339()
        self.store.books[key] = updated
        out: dict[str, Any] = {"spreadsheetId": key, "replies": replies}
        if body.get("includeSpreadsheetInResponse") is True:
            out["updatedSpreadsheet"] = spreadsheet_json(updated)
        return out

    @staticmethod
    def _touch(book: Spreadsheet, out: dict[str, Any]) -> dict[str, Any]:
        book.modified_time = now_rfc3339()
        return out

    # Drive -------------------------------------------------------------------

    def _drive(
        self, method: str, key: str | None, params: Params, body: bytes
    ) -> Answer:
        one = {name: vals[-1] for name, vals in params.items()}
        mask = _mask(one.get("fields"))
        if key is None and method == "POST":
            given = _json(body)
            if given.get("mimeType") != SHEETS_MIME:
                raise unimplemented(f"Drive files of type {given.get('mimeType')}")
            new_key = self.store.create(
                str(given.get("name") or "Untitled spreadsheet")
            )
            return Answer(200, _select(_drive_file(self.store.book(new_key)), mask))
        if key is None and method == "GET":
            match = _DRIVE_NAME.search(one.get("q", ""))
            files = [
                _drive_file(book, full=True)
                for book in self.store.books.values()
                if match is None or book.title == match.group("name")
            ]
            listing = {
                "kind": "drive#fileList",
                "incompleteSearch": False,
                "files": files,
            }
            return Answer(200, _select(listing, mask))
        if key is None:
            raise not_found(f"No such endpoint in the fake: {method} /drive/v3/files")
        book = self.store.books.get(key)
        if book is None:
            raise _drive_not_found(key)
        if method == "GET":
            return Answer(200, _select(_drive_file(book, full=bool(mask)), mask))
        if method == "DELETE":
            del self.store.books[key]
            return Answer(204, None)
        raise not_found(f"No such endpoint in the fake: {method} /drive/v3/files/{key}")


def _json(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise invalid("Invalid JSON payload received. Unexpected token.") from None
    if not isinstance(parsed, dict):
        raise invalid("Invalid JSON payload received. Expected an object.")
    return parsed


def _mask(text: str | None) -> fieldmask.Mask:
    if not text:
        return {}
    try:
        return fieldmask.parse(text)
    except ValueError:
        raise invalid(f"Invalid field selection {text}") from None


def _select(value: dict[str, Any], mask: fieldmask.Mask) -> dict[str, Any]:
    return fieldmask.select(value, mask) if mask else value


def _drive_file(book: Spreadsheet, full: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "drive#file",
        "id": book.spreadsheet_id,
        "name": book.title,
        "mimeType": SHEETS_MIME,
    }
    if full:
        out["createdTime"] = book.created_time
        out["modifiedTime"] = book.modified_time
    return out


def _drive_not_found(key: str) -> ApiError:
    message = f"File not found: {key}."
    errors = [
        {
            "message": message,
            "domain": "global",
            "reason": "notFound",
            "location": "fileId",
            "locationType": "parameter",
        }
    ]
    return ApiError(404, "NOT_FOUND", message, errors=errors)
