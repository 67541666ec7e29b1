"""Errors the fake answers with, in the shape Google's APIs use."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised anywhere in the fake to answer with a Google-shaped error body.

    gspread reads ``error.code`` from the body; without Google's shape its
    ``APIError.code`` is -1, so every refusal of the fake goes through here.
    """

    def __init__(
        self,
        code: int,
        status: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"[{code}] {status}: {message}")
        self.code = code
        self.status = status
        self.message = message
        self.details = details
        self.errors = errors  # Drive's legacy list, which gspread's retry reads

    def body(self) -> dict[str, Any]:
        """Return the JSON body Google sends for this error."""
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "status": self.status,
        }
        if self.errors:
            error["errors"] = self.errors
        if self.details:
            error["details"] = self.details
        return {"error": error}


class RequestError(Exception):
    """Raised by one batchUpdate request; the batch names the request index."""


def invalid(message: str, details: list[dict[str, Any]] | None = None) -> ApiError:
    """Return a 400 INVALID_ARGUMENT error."""
    return ApiError(400, "INVALID_ARGUMENT", message, details)


def not_found(message: str = "Requested entity was not found.") -> ApiError:
    """Return a 404 NOT_FOUND error (the message Sheets uses for unknown ids)."""
    return ApiError(404, "NOT_FOUND", message)


def unimplemented(message: str) -> ApiError:
    """Return a 501 for API features the fake does not model.

    Google never answers 501 here; the fake does so that a test using a feature
    it lacks fails loudly instead of passing against invented behaviour.
    """
    return ApiError(501, "UNIMPLEMENTED", f"fakesheets does not implement {message}")


def bad_field_value(field: str, proto: str, value: object) -> ApiError:
    """Return the 400 Google sends when a JSON field has the wrong type."""
    text = f"Invalid value at '{field}' ({proto}), {_json_repr(value)}"
    violation = {"field": field, "description": text}
    details = [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [violation],
        }
    ]
    return invalid(text, details)


def _json_repr(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    return repr(value)
