"""One cell: what was entered, how RAW and USER_ENTERED store it, how it reads back."""

from __future__ import annotations

import ast
import copy
import datetime as dt
import operator
import re
from dataclasses import dataclass
from typing import Any

Scalar = str | int | float | bool

# Sheets counts days from 1899-12-30 (the Lotus 1-2-3 epoch it inherited).
_EPOCH = dt.date(1899, 12, 30)
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d*)?([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_HYPERLINK = re.compile(
    r'^=HYPERLINK\(\s*"([^"]*)"\s*(?:[,;]\s*"([^"]*)"\s*)?\)$', re.IGNORECASE
)
_ARITHMETIC = re.compile(r"^[\d\s.+\-*/()eE]+$")
_OPS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}

VALUE_RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
DATE_TIME_RENDER_OPTIONS = ("SERIAL_NUMBER", "FORMATTED_STRING")
VALUE_INPUT_OPTIONS = ("RAW", "USER_ENTERED")


@dataclass
class Cell:
    """A stored cell.

    ``value`` is what the cell evaluates to (``None`` when it holds nothing or a
    formula the fake cannot compute); ``formula`` is set only for cells entered
    through USER_ENTERED (or ``formulaValue``) with a leading ``=``.
    """

    value: Scalar | None = None
    formula: str | None = None
    display: str | None = None  # text Sheets would show when not the general format
    is_date: bool = False
    fmt: dict[str, Any] | None = None
    note: str | None = None
    validation: dict[str, Any] | None = None

    @property
    def is_formula(self) -> bool:
        """True when the cell holds a formula rather than a typed value."""
        return self.formula is not None

    @property
    def has_value(self) -> bool:
        """True when the cell holds a value or a formula."""
        return self.value is not None or self.formula is not None

    @property
    def typed(self) -> Scalar | None:
        """The cell as typed: the formula text, or the stored value."""
        return self.formula if self.formula is not None else self.value

    def is_blank(self) -> bool:
        """True when nothing at all is stored (no value, format, note, rule)."""
        return not (self.has_value or self.fmt or self.note or self.validation)

    def copy(self) -> Cell:
        """Return an independent copy (much faster than ``copy.deepcopy``)."""
        return Cell(
            self.value,
            self.formula,
            self.display,
            self.is_date,
            copy.deepcopy(self.fmt) if self.fmt else None,
            self.note,
            copy.deepcopy(self.validation) if self.validation else None,
        )

    def clear_value(self) -> None:
        """Drop the value and formula, keeping format, note and validation."""
        self.value = None
        self.formula = None
        self.display = None
        self.is_date = False


def check_scalar(value: object) -> bool:
    """True when a JSON value may be written to a cell (null included)."""
    return value is None or isinstance(value, str | int | float | bool)


def enter_raw(cell: Cell, value: Scalar) -> None:
    """Store a value with RAW input: strings stay strings, exactly as sent."""
    cell.clear_value()
    cell.value = value


def enter_user(cell: Cell, value: Scalar) -> None:
    """Store a value as if typed into the Sheets UI (USER_ENTERED)."""
    cell.clear_value()
    if not isinstance(value, str):
        cell.value = value
        return
    if value.startswith("'"):
        cell.value = value[1:]
        return
    if value.startswith("=") and len(value) > 1:
        set_formula(cell, value)
        return
    parsed = parse_typed_text(value)
    if parsed is None:
        cell.value = value
        return
    cell.value, cell.display, cell.is_date = parsed


def set_formula(cell: Cell, formula: str) -> None:
    """Store a formula and whatever value the fake can compute for it."""
    cell.formula = formula
    cell.value = evaluate(formula)


def parse_typed_text(text: str) -> tuple[Scalar, str | None, bool] | None:
    """Read text the way the Sheets UI does: numbers, percents, dates, booleans.

    Returns ``(value, display, is_date)`` or ``None`` for plain text.
    """
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return stripped.upper() == "TRUE", None, False
    body, percent = stripped, False
    if body.endswith("%"):
        body, percent = body[:-1], True
    currency = body.lstrip("+-").startswith("$")
    if currency:
        sign = "-" if body.startswith("-") else ""
        body = sign + body.lstrip("+-")[1:]
    number = _parse_number(body)
    if number is not None:
        if percent:
            return number / 100, stripped, False
        if currency or "," in body:
            return number, stripped, False
        if "e" in body.lower():
            return float(number), f"{float(number):.2E}", False
        return number, None, False
    serial = _parse_date(stripped)
    if serial is not None:
        return serial, stripped, True
    return None


def _parse_number(text: str) -> int | float | None:
    mantissa = re.split("[eE]", text)[0]
    if not _NUMBER.match(text) or not any(ch.isdigit() for ch in mantissa):
        return None
    plain = text.replace(",", "")
    if re.match(r"^[+-]?\d+$", plain):
        return int(plain)
    return float(plain)


def _parse_date(text: str) -> int | None:
    iso = _ISO_DATE.match(text)
    us = _US_DATE.match(text)
    try:
        if iso:
            day = dt.date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        elif us:  # en_US order, the locale new spreadsheets get
            day = dt.date(int(us.group(3)), int(us.group(1)), int(us.group(2)))
        else:
            return None
    except ValueError:
        return None
    return (day - _EPOCH).days


def evaluate(formula: str) -> Scalar | None:
    """Compute the formulas the fake understands: arithmetic and HYPERLINK.

    Anything else evaluates to ``None``: the cell reads back empty, and tests
    inspect ``Cell.formula`` instead.
    """
    link = _HYPERLINK.match(formula)
    if link:
        return link.group(2) if link.group(2) is not None else link.group(1)
    expression = formula[1:].strip()
    if not _ARITHMETIC.match(expression):
        return None
    try:
        result = _arith(ast.parse(expression, mode="eval").body)
    except ZeroDivisionError:
        return "#DIV/0!"
    except (SyntaxError, ValueError, TypeError):
        return None
    return result


def _arith(node: ast.AST) -> float | int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.left), _arith(node.right))
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.operand))
    raise ValueError("not arithmetic")


def json_number(value: int | float) -> int | float:
    """Return integral floats as ints: the API prints ``2``, not ``2.0``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def format_number(value: int | float) -> str:
    """Format a number as the default (automatic) number format shows it."""
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15):
        return str(int(value))
    if 1e-10 <= abs(value) < 1e15:
        return f"{value:.10f}".rstrip("0").rstrip(".")
    return f"{value:.2E}"


def render(cell: Cell | None, value_option: str, date_option: str) -> Scalar:
    """Return a cell as values.get returns it ("" for an empty cell)."""
    if cell is None or not cell.has_value:
        return ""
    if value_option == "FORMULA" and cell.formula is not None:
        return cell.formula
    value = cell.value
    if value is None:
        return ""
    if value_option == "FORMATTED_VALUE":
        return formatted(cell)
    if isinstance(value, bool | str):
        return value
    if cell.is_date and date_option == "FORMATTED_STRING":
        return formatted(cell)
    return json_number(value)


def formatted(cell: Cell) -> str:
    """Return the text Sheets shows for the cell."""
    value = cell.value
    if value is None:
        return ""
    if cell.display is not None:
        return cell.display
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return value
    return format_number(value)


def extended_value(value: Scalar) -> dict[str, Scalar]:
    """Wrap a value as an ExtendedValue (``{"numberValue": 2}``)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": json_number(value)}
    return {"stringValue": value}


def to_cell_data(cell: Cell, *, effective: bool = True) -> dict[str, Any]:
    """Return the CellData of a cell as spreadsheets.get shows it."""
    data: dict[str, Any] = {}
    if cell.formula is not None:
        data["userEnteredValue"] = {"formulaValue": cell.formula}
    elif cell.value is not None:
        data["userEnteredValue"] = extended_value(cell.value)
    if effective and cell.value is not None:
        data["effectiveValue"] = extended_value(cell.value)
        data["formattedValue"] = formatted(cell)
    if cell.fmt:
        data["userEnteredFormat"] = copy.deepcopy(cell.fmt)
    if cell.note:
        data["note"] = cell.note
    if cell.validation:
        data["dataValidation"] = copy.deepcopy(cell.validation)
    return data


def from_cell_data(cell: Cell, data: dict[str, Any], *, value_touched: bool) -> None:
    """Load a CellData (after a field mask was applied) back into a cell."""
    if value_touched:
        entered = data.get("userEnteredValue") or {}
        if "formulaValue" in entered:
            cell.clear_value()
            set_formula(cell, str(entered["formulaValue"]))
        elif "stringValue" in entered:
            enter_raw(cell, str(entered["stringValue"]))
        elif "numberValue" in entered:
            enter_raw(cell, entered["numberValue"])
        elif "boolValue" in entered:
            enter_raw(cell, bool(entered["boolValue"]))
        else:
            cell.clear_value()
    cell.fmt = data.get("userEnteredFormat") or None
    cell.note = data.get("note") or None
    cell.validation = data.get("dataValidation") or None
