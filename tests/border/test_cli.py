"""`egate border ...` and `egate sync` through the real command-line entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli.main import main
from kiosk.store.database import open_local
from kiosk.store.reference import ReferenceStore
from policy.shipped import shipped_pack_texts
from tests.border.conftest import ROLE_PREFIX, PgServer, append, make_record

REPO = Path(__file__).resolve().parents[2]


def egate(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    try:
        status = main([*argv, "--json"])
    except SystemExit as exc:
        status = int(exc.code or 0)
    out = capsys.readouterr().out
    return status, json.loads(out) if out.strip() else None


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(
        f'[kiosk]\nid = "K1"\n[storage]\nlocal_url = "sqlite:///{tmp_path}/local.sqlite"\n'
    )
    monkeypatch.setenv("EGATE_CONFIG", str(path))
    return path


def test_standin_round_trip(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = egate(capsys, "border", "init")
    assert status == 0 and out["backend"] == "sqlite" and out["roles"] is None
    assert out["url"].endswith("border-standin.sqlite")

    status, out = egate(capsys, "border", "publish", "watchlist", "--key", "usa:x1234567<")
    assert status == 0 and out["published"][0]["key"] == "USA:X1234567"
    pack = tmp_path / "pack.toml"
    pack.write_bytes(next(iter(shipped_pack_texts().values())))
    status, out = egate(capsys, "border", "publish", "policy_pack", str(pack))
    assert status == 0 and out["published"][0]["changed"]
    status, out = egate(capsys, "border", "publish", "policy_pack", str(pack))
    assert status == 0 and not out["published"][0]["changed"]

    status, out = egate(
        capsys, "border", "api", "add", "--document-number", "X1234567", "--issuing-state",
        "USA", "--flight-date", "2026-03-01", "--arrived-from", "JPN", "--destination", "KOR",
        "--departure-time", "2026-03-05T20:00:00+08:00", "--departure-port", "CSX",
        "--confirmed",
    )  # fmt: skip
    assert status == 0 and out["api"]["destination"] == "KOR"
    status, out = egate(
        capsys, "border", "api", "lookup", "--document-number", "X1234567",
        "--issuing-state", "USA", "--date", "2026-03-01",
    )  # fmt: skip
    assert status == 0 and out["status"]["state"] == "found"
    assert out["journey"]["onward"]["departure_time"] == "2026-03-05T12:00:00+00:00"

    local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    append(local, make_record(), make_record())
    status, out = egate(capsys, "sync", "--once")
    assert status == 0
    assert {k: out[k] for k in ("pushed", "pending", "pulled", "error")} == {
        "pushed": 2, "pending": 0, "pulled": 2, "error": None}  # fmt: skip
    store = ReferenceStore(local)
    assert store.get("watchlist", "USA:X1234567") is not None

    status, out = egate(
        capsys, "border", "entry-record", "--document-number", "X1234567",
        "--issuing-state", "USA",
    )  # fmt: skip
    assert status == 0 and out["entry_record"]["basis"] == "transit_240h"

    status, out = egate(capsys, "border", "withdraw", "watchlist", "--key", "USA:X1234567")
    assert status == 0
    status, out = egate(capsys, "sync", "--once")
    assert status == 0 and out["withdrawn"] == 1
    assert store.get("watchlist", "USA:X1234567") is None
    status, out = egate(capsys, "border", "withdraw", "watchlist", "--key", "USA:X1234567")
    assert status == 65 and out["error"]["code"] == "not_found"


def test_bad_input_gives_typed_json_errors(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "junk.der"
    junk.write_bytes(b"\x30\x03\x02\x01")
    for argv, code, exit_status in (
        (("border", "publish", "csca", str(junk)), "invalid_input", 65),
        (("border", "publish", "crl", str(junk)), "invalid_input", 65),
        (("border", "publish", "masterlist", str(junk)), "invalid_input", 65),
        (("border", "publish", "policy_pack", str(junk)), "invalid_input", 65),
        (("border", "publish", "csca", str(tmp_path / "missing")), "cannot_read", 66),
        (("border", "publish", "watchlist", "--key", "nonsense"), "invalid_input", 65),
        (("border", "publish", "csca"), "invalid_arguments", 2),
        (("border", "api", "add", "--document-number", "X1", "--issuing-state", "USA",
          "--flight-date", "2026-03-01", "--destination", "KOR"), "invalid_input", 65),
        (("border", "api", "add", "--document-number", "X1", "--issuing-state", "USA",
          "--flight-date", "2026-03-01", "--departure-time", "2026-03-05T20:00:00+08:00",
          "--departure-port", "Changsha"), "invalid_input", 65),
        (("border", "init", "--kiosk-role", "k1"), "invalid_arguments", 2),
        (("border", "init", "--kiosk-role", "k1", "--kiosk-id", "K1"), "roles_unsupported", 65),
        (("border", "init", "--url", "mysql://x@y/z"), "border_unavailable", 69),
    ):  # fmt: skip
        status, out = egate(capsys, *argv)
        assert (status, out["error"]["code"]) == (exit_status, code), argv


def test_sync_with_the_border_down_reports_and_keeps_events(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = open_local(f"sqlite:///{tmp_path}/local.sqlite")
    append(local, make_record())
    status, out = egate(
        capsys, "sync", "--once", "--url", "postgresql+psycopg://k@127.0.0.1:1/border"
    )
    assert status == 75
    assert (out["pushed"], out["pending"]) == (0, 1)
    assert "push:" in out["error"]


def test_console_script_runs_sync(config: Path) -> None:
    env = {**os.environ, "EGATE_CONFIG": str(config), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", "from kiosk.cli.main import main; raise SystemExit(main())",
         "sync", "--once", "--json"],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["error"] is None and out["pending"] == 0


@pytest.mark.postgres
def test_init_on_postgresql_creates_roles_a_kiosk_can_sync_with(
    pg_server: PgServer, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    url = pg_server.create_database()
    admin = url.render_as_string(hide_password=False)
    role = f"{ROLE_PREFIX}_k5"
    status, out = egate(
        capsys, "border", "init", "--url", admin, "--role-prefix", ROLE_PREFIX,
        "--kiosk-role", role, "--kiosk-id", "K5",
    )  # fmt: skip
    assert status == 0, out
    assert out["roles"]["kiosks"] == {role: "K5"}
    assert out["roles"]["supervisor"] == f"{ROLE_PREFIX}_supervisor"
    kiosk_url = url.set(username=role).render_as_string(hide_password=False)
    cfg = tmp_path / "k5.toml"
    cfg.write_text(
        f'[kiosk]\nid = "K5"\n[storage]\nlocal_url = "sqlite:///{tmp_path}/k5.sqlite"\n'
        f'border_url = "{kiosk_url}"\n'
    )
    monkeypatch.setenv("EGATE_CONFIG", str(cfg))
    local = open_local(f"sqlite:///{tmp_path}/k5.sqlite")
    append(local, make_record("K5", finished_at=datetime(2026, 3, 1, tzinfo=UTC)))
    status, out = egate(capsys, "sync", "--once")
    assert (status, out["pushed"], out["error"]) == (0, 1, None)
    # The kiosk role cannot publish: a typed error, not a crash.
    status, out = egate(capsys, "border", "publish", "watchlist", "--key", "USA:X1")
    assert status == 69 and "permission denied" in out["error"]["message"]


def test_sync_daemon_runs_cycles_until_sigterm(config: Path) -> None:
    import signal

    env = {**os.environ, "EGATE_CONFIG": str(config), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from kiosk.cli.main import main; raise SystemExit(main())",
         "sync", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not lines or lines[-1] != "}\n":  # the first cycle's JSON object
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else ""
            lines.append(line)
        first = json.loads("".join(lines))
        assert first["error"] is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
