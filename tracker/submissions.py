"""Submission files: find them, decode and validate each one on its own.

A file that cannot be used becomes a Rejected with a reason a lead can act on;
it never stops the other files from being read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import relevance

log = logging.getLogger(__name__)

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "submission.schema.json"
# A real submission is a few hundred kB at most; anything far larger is not one.
MAX_BYTES = 20 * 1024 * 1024
# The fields a page copies from its bundle; without them a file cannot be placed.
IDENTITY = ("project_id", "build_id", "bundle_id", "rater_id", "task_id")
SHOWN_SCHEMA_ERRORS = 3


@dataclass(frozen=True)
class Loaded:
    """A file that decoded and matched the submission schema."""

    name: str  # path relative to the submissions folder, with forward slashes
    sha256: str
    data: dict[str, Any]

    @property
    def task_id(self) -> str:
        return str(self.data["task_id"])

    @property
    def rater_id(self) -> str:
        return str(self.data["rater_id"])


@dataclass(frozen=True)
class Rejected:
    """A file set aside, with why and, when the file said, whose task it was.

    ``metadata`` is set when a reason concerns what the page fills in (ids, the
    task and its clips, timestamps) rather than the file's format or answers.
    """

    name: str
    sha256: str
    reason: str
    task_id: str | None = None
    rater_id: str | None = None
    metadata: bool = False


class _BadJson(ValueError):
    """Raised while parsing for JSON that Python accepts but the format does not."""


def find_files(folder: Path) -> list[Path]:
    """Return every ``*.json`` under ``folder``, sorted, skipping hidden entries.

    Hidden files and folders include the ``._name`` copies macOS puts in zips.
    """
    found = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        for name in sorted(files):
            if name.startswith("."):
                log.debug("skipping hidden file %s", Path(root) / name)
            elif name.lower().endswith(".json"):
                found.append(Path(root) / name)
    return found


def load_file(path: Path, folder: Path) -> Loaded | Rejected:
    """Read one file and check it against the submission schema."""
    name = path.relative_to(folder).as_posix()
    try:
        raw = _read_capped(path)
    except OSError as exc:
        return Rejected(name, "", f"cannot be read: {exc.strerror or exc}")
    sha = hashlib.sha256(raw).hexdigest()
    if len(raw) > MAX_BYTES:
        return Rejected(name, sha, f"larger than {MAX_BYTES // 2**20} MB")
    try:
        data = parse(raw)
    except ValueError as exc:
        return Rejected(name, sha, str(exc))
    task_id, rater_id = _claimed(data)
    reason = schema_reason(data)
    if reason:
        metadata = bool(_missing_identity(data))
        return Rejected(name, sha, reason, task_id, rater_id, metadata)
    return Loaded(name, sha, data)


def parse(raw: bytes) -> Any:
    """Decode UTF-8 (a BOM is fine) and parse strict JSON.

    Raises ValueError with a reader-facing reason for anything else, including
    NaN, Infinity, numbers too large for a float and repeated keys.
    """
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError(
            "saved as UTF-16, not UTF-8; ask the rater to download the file again "
            "instead of re-saving it"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); the "
            "page writes UTF-8, so the file was re-saved in another encoding; ask "
            "the rater to download it again"
        ) from exc
    try:
        return json.loads(
            text,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_keys,
        )
    except _BadJson as exc:
        raise ValueError(f"not valid JSON: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except RecursionError as exc:
        raise ValueError("not valid JSON: nested too deeply") from exc


def schema_reason(data: Any) -> str | None:
    """Return why ``data`` is not a schema-valid submission, or None if it is."""
    missing = _missing_identity(data)
    if missing:
        return (
            f"missing {', '.join(missing)} (or not text): the file cannot be "
            "matched to a rater's bundle (was it edited, or made outside an "
            "Earmark page?)"
        )
    errors = sorted(_validator().iter_errors(data), key=relevance)
    if not errors:
        return None
    shown = [
        f"{e.json_path}: {_short(e.message)}" for e in errors[:SHOWN_SCHEMA_ERRORS]
    ]
    more = len(errors) - len(shown)
    suffix = f" (and {more} more)" if more > 0 else ""
    return "does not match the submission schema: " + "; ".join(shown) + suffix


def _missing_identity(data: Any) -> list[str]:
    """The identity fields an object lacks (or holds as non-text)."""
    if not isinstance(data, dict):
        return []
    return [f for f in IDENTITY if not isinstance(data.get(f), str)]


def _claimed(data: Any) -> tuple[str | None, str | None]:
    if not isinstance(data, dict):
        return None, None
    task, rater = data.get("task_id"), data.get("rater_id")
    return (
        task if isinstance(task, str) else None,
        rater if isinstance(rater, str) else None,
    )


def _read_capped(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(MAX_BYTES + 1)


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator: jsonschema.protocols.Validator = cls(schema)
    return validator


def _short(message: str, limit: int = 160) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _refuse_constant(name: str) -> Any:
    raise _BadJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _BadJson(f"the number {_short(text, 40)} is too large")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _BadJson(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result
