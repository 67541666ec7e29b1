"""The sync command's Google Sheets options, through the click entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from builder.build import BuildResult
from cli import main
from tracker.sheets import CREDENTIALS_ENV, SheetsTracker

KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcd"
URL = f"https://docs.google.com/spreadsheets/d/{KEY}/edit#gid=0"


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(CREDENTIALS_ENV, raising=False)


def sync(build: BuildResult, tmp_path: Path, *args: str) -> Result:
    folder = tmp_path / "submissions"
    folder.mkdir(exist_ok=True)
    return CliRunner().invoke(
        main, ["sync", str(folder), "--build", str(build.out), *args]
    )


def test_tracker_and_sheet_together_are_refused(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    result = sync(pilot_build, tmp_path, "--tracker", "t.xlsx", "--sheet", KEY)

    assert result.exit_code == 2
    assert (
        "use either --tracker (a workbook) or --sheet (a Google Sheet), not both"
        in (result.output)
    )
    assert not (tmp_path / "t.xlsx").exists()


def test_a_tracker_or_a_sheet_is_required(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    result = sync(pilot_build, tmp_path)

    assert result.exit_code == 2
    assert "--tracker tracker.xlsx or --sheet KEY_OR_URL" in result.output


def test_credentials_without_a_sheet_are_refused(
    pilot_build: BuildResult, tmp_path: Path
) -> None:
    result = sync(
        pilot_build, tmp_path, "--tracker", "t.xlsx", "--credentials", "sa.json"
    )

    assert result.exit_code == 2
    assert "--credentials goes with --sheet" in result.output


def test_a_sheet_needs_credentials(pilot_build: BuildResult, tmp_path: Path) -> None:
    result = sync(pilot_build, tmp_path, "--sheet", URL)

    assert result.exit_code == 1
    assert isinstance(result.exception, Exception)
    assert f"pass --credentials FILE.json or set {CREDENTIALS_ENV}" in str(
        result.exception
    )


def test_missing_and_unusable_credentials_are_named(
    pilot_build: BuildResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.json"
    monkeypatch.setenv(CREDENTIALS_ENV, str(missing))
    result = sync(pilot_build, tmp_path, "--sheet", KEY)
    assert f"Credentials file {missing} does not exist" in str(result.exception)

    wrong = tmp_path / "sa.json"
    wrong.write_text(json.dumps({"type": "authorized_user"}), "utf-8")
    result = sync(pilot_build, tmp_path, "--sheet", KEY, "--credentials", str(wrong))
    assert f"Cannot use {wrong} as a Google service account key" in str(
        result.exception
    )


def test_a_bad_sheet_url_is_named(pilot_build: BuildResult, tmp_path: Path) -> None:
    result = sync(
        pilot_build, tmp_path, "--sheet", "https://example.invalid/not-a-sheet"
    )

    assert "is not a Google Sheets URL" in str(result.exception)


def test_sheet_options_are_in_the_help() -> None:
    result = CliRunner().invoke(main, ["sync", "--help"])

    assert result.exit_code == 0
    assert "--sheet KEY_OR_URL" in result.output
    assert "--credentials" in result.output
    assert "GOOGLE_APPLICATION_CREDENTIALS" in result.output


def service_account_key(path: Path) -> Path:
    """Write a well-formed service account key (a fresh RSA key, no real account)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    info = {
        "type": "service_account",
        "project_id": "earmark-test",
        "private_key_id": "0" * 40,
        "private_key": pem.decode("ascii"),
        "client_email": "sync@earmark-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info), "utf-8")
    return path


def test_open_takes_a_url_or_a_key_and_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = service_account_key(tmp_path / "sa.json")

    by_url = SheetsTracker.open(URL, key_file)
    monkeypatch.setenv(CREDENTIALS_ENV, str(key_file))
    by_key = SheetsTracker.open(KEY)

    assert by_url.key == by_key.key == KEY
    assert by_url.location == f"https://docs.google.com/spreadsheets/d/{KEY}"
    assert "sync@earmark-test.iam.gserviceaccount.com" in by_url._access_hint()
