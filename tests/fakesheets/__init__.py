"""A fake Google Sheets API for tests: real gspread, real HTTP, loopback only.

Start it with the ``fake_sheets`` fixture (``tests.fakesheets.fixtures``) or
``with FakeSheets() as fake:``; ``fake.client()`` returns a gspread client
routed to it, ``fake.create(...)`` makes a spreadsheet, ``fake.spreadsheet(key)``
returns the stored state to inspect, ``fake.calls`` logs every HTTP request and
``fake.faults`` scripts failures.
"""

from .cells import Cell
from .client import routed_client, routed_session
from .errors import ApiError
from .faults import Faults
from .model import OWNER, Sheet, Spreadsheet
from .server import PAYLOAD_LIMIT, Call, FakeSheets

__all__ = [
    "OWNER",
    "PAYLOAD_LIMIT",
    "ApiError",
    "Call",
    "Cell",
    "FakeSheets",
    "Faults",
    "Sheet",
    "Spreadsheet",
    "routed_client",
    "routed_session",
]
