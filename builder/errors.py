"""The one error type Earmark raises for problems a user can fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as we can."""

    file: str
    message: str
    line: int | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
        if self.field:
            where += f" [{self.field}]"
        return f"{where}: {self.message}"


class EarmarkError(Exception):
    """Raised for any failure the user can act on; the CLI prints it and exits.

    ``problems`` holds every located problem found before giving up, so one run
    reports all of them instead of the first.
    """

    exit_code = 1

    def __init__(self, message: str, problems: list[Problem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])

    def __str__(self) -> str:
        lines = [self.message, *(f"  - {p}" for p in self.problems)]
        return "\n".join(lines)


class ProjectInvalid(EarmarkError):
    """Raised when the project folder (config, manifest, audio) fails validation."""

    exit_code = 2
