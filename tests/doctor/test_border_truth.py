"""Issue 19 item 4: the production kiosk refuses a border it cannot reach (never an
SQLite stand-in), and `egate doctor` connects for real, checks the role's
privileges and the last successful pull (real PostgreSQL as the kiosk role)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from kiosk.border.sync import BorderSync
from kiosk.config import Config, ConfigError, parse_config
from kiosk.runtime.doctor import check_border, check_reference_pull
from kiosk.store.database import open_local
from tests.border.conftest import KIOSK1_ROLE, PgBorder

REPO = Path(__file__).resolve().parents[2]
UNREACHABLE = "postgresql+psycopg://egate_kiosk@127.0.0.1:1/egate"


def config(tmp_path: Path, border: str, kiosk_id: str = "K1") -> Config:
    return parse_config({
        "kiosk": {"id": kiosk_id},
        "storage": {"local_url": f"sqlite:///{tmp_path}/local.sqlite", "border_url": border},
    })  # fmt: skip


def as_role(url: URL, role: str | None) -> str:
    chosen = url if role is None else url.set(username=role, password=None)
    return chosen.render_as_string(hide_password=False)


# -- egate doctor ------------------------------------------------------------------------
def test_doctor_fails_an_unreachable_border(tmp_path: Path) -> None:
    """On main: "ok, reachable as the kiosk role" for 127.0.0.1:1."""
    result = check_border(config(tmp_path, UNREACHABLE))
    assert result.status == "fail", result
    assert "cannot reach" in result.detail and result.fix


def test_doctor_fails_without_a_border_or_on_a_standin(tmp_path: Path) -> None:
    empty = check_border(config(tmp_path, ""))
    assert empty.status == "fail" and "border_url is empty" in empty.detail
    standin = check_border(config(tmp_path, f"sqlite:///{tmp_path}/border.sqlite"))
    assert standin.status == "fail" and "stand-in" in standin.detail
    assert not (tmp_path / "border.sqlite").exists()


def test_doctor_checks_the_role_really_connected(tmp_path: Path, pg_border: PgBorder) -> None:
    kiosk = check_border(config(tmp_path, as_role(pg_border.url, KIOSK1_ROLE)))
    assert kiosk.status == "ok", kiosk
    assert KIOSK1_ROLE in kiosk.detail and "nothing more" in kiosk.detail
    owner = check_border(config(tmp_path, as_role(pg_border.url, None)))  # the superuser
    assert owner.status == "fail", owner
    assert "is a superuser" in owner.detail and "owns" in owner.detail


def test_doctor_checks_the_last_successful_pull(tmp_path: Path, pg_border: PgBorder) -> None:
    cfg = config(tmp_path, as_role(pg_border.url, KIOSK1_ROLE))
    now = datetime.now(UTC)
    never = check_reference_pull(cfg, now)
    assert never.status == "fail" and "never pulled" in never.detail
    local = open_local(cfg.storage.local_url)
    kiosk = pg_border.engine_as(KIOSK1_ROLE)
    try:
        BorderSync(local, kiosk, "K1").run_once()
    finally:
        kiosk.dispose()
        local.dispose()
    fresh = check_reference_pull(cfg, now + timedelta(minutes=1))
    assert fresh.status == "ok", fresh
    stale = check_reference_pull(cfg, now + timedelta(hours=cfg.policy.reference_max_age_h + 1))
    assert stale.status == "fail" and "the lane refers" in stale.detail


def test_doctor_cli_on_this_machine_says_fail_for_127_0_0_1_1(tmp_path: Path) -> None:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[storage]\nlocal_url = "sqlite:///{tmp_path}/local.sqlite"\n'
                   f'border_url = "{UNREACHABLE}"\n')
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "ui.cli", "doctor", "--config", str(cfg),
                           "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 1, done.stderr
    results = {r["check"]: r for r in json.loads(done.stdout)}
    assert results["border_database"]["status"] == "fail"
    assert results["reference_pull"]["status"] == "fail"


# -- egate kiosk ---------------------------------------------------------------------------
@pytest.fixture
def kiosk_toml(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    data = tmp_path / "data"
    data.mkdir()
    yield tmp_path / "kiosk.toml", data


def run_kiosk(cfg: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("EGATE_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "ui.cli", "kiosk", "--config", str(cfg),
                           "--quit-after", "0.01"], capture_output=True, text=True,
                          timeout=120, env=env)


def test_the_production_kiosk_refuses_an_empty_border_url(kiosk_toml: tuple[Path, Path]) -> None:
    """On main: an SQLite stand-in beside the local database, synced as if it were
    the border (empty watchlist, reference data 0.0003 h old)."""
    cfg, data = kiosk_toml
    cfg.write_text(f'[storage]\nlocal_url = "sqlite:///{data}/local.sqlite"\n')
    done = run_kiosk(cfg)
    assert done.returncode == 78, done.stderr
    assert "storage.border_url is empty" in done.stderr
    assert not (data / "border-standin.sqlite").exists()


def test_the_production_kiosk_refuses_an_sqlite_border(kiosk_toml: tuple[Path, Path]) -> None:
    cfg, data = kiosk_toml
    cfg.write_text(f'[storage]\nlocal_url = "sqlite:///{data}/local.sqlite"\n'
                   f'border_url = "sqlite:///{data}/border.sqlite"\n')
    done = run_kiosk(cfg)
    assert done.returncode == 78 and "stand-in" in done.stderr, done.stderr
    assert not (data / "border.sqlite").exists()


def test_the_production_kiosk_refuses_an_unreachable_border(
    kiosk_toml: tuple[Path, Path],
) -> None:
    cfg, data = kiosk_toml
    cfg.write_text(f'[storage]\nlocal_url = "sqlite:///{data}/local.sqlite"\n'
                   f'border_url = "{UNREACHABLE}"\n')
    done = run_kiosk(cfg)
    assert done.returncode == 69, done.stderr
    assert "border_unavailable" in done.stderr and "cannot reach" in done.stderr


def test_production_storage_opens_a_reachable_border(tmp_path: Path, pg_border: PgBorder) -> None:
    from kiosk.runtime.app import open_production_storage

    storage = open_production_storage(config(tmp_path, as_role(pg_border.url, KIOSK1_ROLE)))
    try:
        assert storage.border is not None and storage.border.dialect.name == "postgresql"
        assert storage.border_api is not None
    finally:
        storage.engine.dispose()
        storage.border.dispose()
    with pytest.raises(ConfigError, match="border_url is empty"):
        open_production_storage(config(tmp_path, ""))
