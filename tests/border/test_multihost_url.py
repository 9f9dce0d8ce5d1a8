"""Issue 23 item 1: libpq multi-host border URLs everywhere a border URL goes
(config, engines, the LISTEN connection, the CLI), every wait bounded."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk.border.database import (
    BorderTimeouts,
    create_border_engine,
    libpq_connect_args,
    redact,
)
from kiosk.border.deadline import Watchdog
from kiosk.border.errors import BorderError
from kiosk.config import ConfigError, parse_config
from kiosk.store.libpq_url import normalise
from kiosk.supervisor.notify import STATION_CHANNEL, ChangeWaiter
from tests.border.conftest import KIOSK1_ROLE, PgBorder, append, make_record
from tests.border.test_cli import egate

PAIR = "postgresql://kiosk:s3cret@db1:5432,db2:5433/border"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens there once closed


def test_libpq_host_list_becomes_every_server_and_a_read_write_session() -> None:
    engine = create_border_engine(PAIR)
    args = libpq_connect_args(engine)
    assert (args["host"], args["port"]) == ("db1,db2", "5432,5433")
    assert args["target_session_attrs"] == "read-write"  # never settle on a standby
    assert (args["dbname"], args["user"], args["password"]) == ("border", "kiosk", "s3cret")
    # Bounded waits: connecting, the statement on the server, a silent peer.
    assert args["connect_timeout"] == 5 and args["keepalives"] == 1
    assert args["options"] == "-c statement_timeout=30000"
    assert args["tcp_user_timeout"] == 20_000 and args["keepalives_count"] == 3
    assert "s3cret" not in redact(PAIR) and "db2" in redact(PAIR)


def test_what_the_url_says_wins_over_the_defaults() -> None:
    url = f"{PAIR}?target_session_attrs=primary&connect_timeout=9"
    args = libpq_connect_args(create_border_engine(url))
    assert (args["target_session_attrs"], args["connect_timeout"]) == ("primary", "9")
    sqlalchemy_form = "postgresql+psycopg://k@/border?host=db1:5432&host=db2:5433"
    assert libpq_connect_args(create_border_engine(sqlalchemy_form))["host"] == "db1,db2"
    assert normalise("sqlite:///x.sqlite") == "sqlite:///x.sqlite"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://k:s3cret@db1:5432,db2:x/border", "'db2:x' is not host[:port]"),
        ("postgresql://k:s3cret@db1,db2", "needs the database name"),
        ("postgresql://k:s3cret@[::1]:5432,db2/border", "a name or an IPv4 address"),
        ("postgresql://k:s3cret@db1,db2/border?port=5432", "both in the authority"),
        ("postgresql://k:s3cret@db1:5432,db2:5433:7/border", "is not host[:port]"),
    ],
)
def test_a_bad_host_list_is_a_clear_error_without_the_password(url: str, says: str) -> None:
    with pytest.raises(BorderError) as caught:
        create_border_engine(url)
    assert says in str(caught.value) and "s3cret" not in str(caught.value)


def test_config_accepts_a_multi_host_border_url_and_refuses_a_bad_one() -> None:
    base = {"kiosk": {"id": "K1"}, "storage": {"local_url": "sqlite:///x.sqlite"}}
    config = parse_config({**base, "storage": {**base["storage"], "border_url": PAIR}})
    assert config.storage.border_url == PAIR
    with pytest.raises(ConfigError, match=r"storage\.border_url"):
        parse_config(
            {**base, "storage": {**base["storage"], "border_url": "postgresql://k@db1,db2:x/b"}}
        )


def test_the_watchdog_cuts_a_socket_that_stays_silent_past_its_deadline() -> None:
    watchdog = Watchdog()
    ours, theirs = socket.socketpair()
    try:
        watchdog.watch(1, ours.fileno())
        watchdog.arm(1, 0.2)
        started = time.monotonic()
        ours.settimeout(30)
        assert ours.recv(10) == b""  # shut down: the blocked read ends at once
        assert 0.15 <= time.monotonic() - started < 10 and watchdog.fired == 1
        # Disarmed in time: nothing happens to it.
        a, b = socket.socketpair()
        watchdog.watch(2, a.fileno())
        watchdog.arm(2, 0.2)
        watchdog.disarm(2)
        done = threading.Event()
        threading.Timer(0.5, done.set).start()
        done.wait()
        b.send(b"ok")
        assert a.recv(10) == b"ok" and watchdog.fired == 1
        watchdog.forget(2)
        a.close()
        b.close()
    finally:
        watchdog.forget(1)
        ours.close()
        theirs.close()
    before = len(os.listdir("/proc/self/fd"))
    s1, s2 = socket.socketpair()
    watchdog.watch(3, s1.fileno())
    watchdog.forget(3)
    s1.close()
    s2.close()
    assert len(os.listdir("/proc/self/fd")) == before


@pytest.mark.postgres
def test_a_dead_first_server_is_passed_over_by_sync_cli_and_listen(
    pg_border: PgBorder, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    real = f"{pg_border.url.host}:{pg_border.url.port or 5432}"
    url = f"postgresql://{KIOSK1_ROLE}@127.0.0.1:{_closed_port()},{real}/{pg_border.name}"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        f'[kiosk]\nid = "K1"\n[storage]\nlocal_url = "sqlite:///{tmp_path}/local.sqlite"\n'
        f'border_url = "{url}"\n'
    )
    monkeypatch.setenv("EGATE_CONFIG", str(cfg))
    from kiosk.store.database import open_local

    append(open_local(f"sqlite:///{tmp_path}/local.sqlite"), make_record("K1"))
    status, out = egate(capsys, "sync", "--once")
    assert (status, out["pushed"], out["pending"], out["error"]) == (0, 1, 0, None)

    owner_url = f"postgresql://{pg_border.url.username}@127.0.0.1:{_closed_port()},{real}"
    station = create_border_engine(f"{owner_url}/{pg_border.name}", BorderTimeouts(connect_s=2))
    waiter = ChangeWaiter(station, STATION_CHANNEL)
    try:
        assert waiter.wait(0.01) is False
        assert waiter.listening, "LISTEN did not reach the live server of the list"
        with station.begin() as c:
            c.execute(text(f"NOTIFY {STATION_CHANNEL}"))
        assert waiter.wait(10) is True
    finally:
        waiter.close()
        station.dispose()
