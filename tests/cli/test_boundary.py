"""The error boundary: every exception becomes a message and a documented status."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy.exc import OperationalError

from devices.errors import DeviceFault
from kiosk.border.errors import BorderError
from kiosk.cli.boundary import UsageError, classify, run_guarded
from kiosk.cli.common import CommandError, print_json
from kiosk.cli.main import main
from kiosk.config import ConfigError
from kiosk.store.database import StorageError


@pytest.mark.parametrize(
    ("exc", "code", "status"),
    [
        (UsageError("egate x: bad"), "usage", 2),
        (ConfigError("kiosk.lane: too big"), "invalid_config", 78),
        (RecursionError("maximum recursion depth exceeded"), "input_too_deep", 65),
        (MemoryError(), "input_too_large", 65),
        (StorageError("cannot migrate"), "storage_error", 74),
        (BorderError("unreachable"), "border_unavailable", 69),
        (OperationalError("SELECT 1", {}, Exception("database is locked")), "database_error", 74),
        (DeviceFault("reader gone"), "device_fault", 69),
        (FileNotFoundError(2, "No such file or directory", "/x"), "io_error", 74),
        (OverflowError("int too large"), "invalid_input", 65),
        (ValueError("year -9 is out of range"), "invalid_input", 65),
        (RuntimeError("a bug"), "internal_error", 70),
        (KeyError("k"), "internal_error", 70),
    ],
)  # fmt: skip
def test_classify(exc: BaseException, code: str, status: int) -> None:
    error = classify(exc)
    assert (error.code, error.status) == (code, status)
    assert "\n" not in error.message


def raising(exc: BaseException) -> int:
    raise exc


def test_a_bug_is_an_internal_error_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run_guarded(lambda: raising(RuntimeError("boom\nsecond line")), as_json=True)
    assert done.value.code == 70
    out, err = capsys.readouterr()
    error = json.loads(out)["error"]
    assert (
        error["code"] == "internal_error" and "RuntimeError: boom second line" in error["message"]
    )
    assert "Traceback" not in out + err


def test_egate_debug_adds_the_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EGATE_DEBUG", "1")
    with pytest.raises(SystemExit):
        run_guarded(lambda: raising(RuntimeError("boom")), as_json=False)
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("(set EGATE_DEBUG=1 for the traceback)")


def test_interrupt_and_broken_pipe(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run_guarded(lambda: raising(KeyboardInterrupt()), as_json=False)
    assert done.value.code == 130
    assert capsys.readouterr().err == "egate: interrupted: interrupted\n"
    # Output piped into `head`: the reader left, which is not an error.
    assert run_guarded(lambda: raising(BrokenPipeError()), as_json=False) == 0
    assert capsys.readouterr().err == ""


def test_command_error_keeps_its_code_and_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run_guarded(lambda: raising(CommandError("no_pack_in_force", "none", 3)), as_json=True)
    assert done.value.code == 3
    assert json.loads(capsys.readouterr().out) == {
        "error": {"code": "no_pack_in_force", "message": "none"}
    }


def test_usage_errors_are_json_with_json(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["policy", "evaluate", "--json"])
    assert done.value.code == 2
    assert json.loads(capsys.readouterr().out)["error"]["code"] == "usage"
    with pytest.raises(SystemExit):
        main(["policy", "evaluate"])
    err = capsys.readouterr().err
    assert err.startswith("usage: egate policy evaluate") and "egate: usage: " in err


def test_log_records_print_without_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    from kiosk.cli import boundary

    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "sync cycle failed", (), None)
    try:
        raise OSError("disk full")
    except OSError:
        import sys

        record.exc_info = sys.exc_info()
    boundary._CONCISE.emit(record)
    err = capsys.readouterr().err
    assert err == "egate: error: sync cycle failed (disk full)\n"


def test_surrogate_file_names_stay_valid_json(capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import sys

    raw = b"\xff\xfe.pem".decode("utf-8", "surrogateescape")
    real = sys.stdout
    sys.stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    try:
        print_json({"file": raw})
        sys.stdout.flush()
        data = sys.stdout.buffer.getvalue()  # type: ignore[attr-defined]
    finally:
        sys.stdout = real
    assert json.loads(data) == {"file": raw}
