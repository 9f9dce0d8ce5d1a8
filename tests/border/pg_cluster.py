"""Throwaway PostgreSQL 15 servers for the high-availability tests.

A primary and a synchronous standby (streaming replication, synchronous_commit
on: a commit is acknowledged only once the standby has its WAL), each in its
own temporary directory on a free loopback port, run as the postgres system
user (initdb refuses root). The machine's own server on 5432 is never touched.
fsync is off: the tests kill processes, not the machine, so the page cache
survives and the disk would only cost time.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from tests.ci import unavailable

BIN = Path(os.environ.get("EGATE_PG_BIN", "/usr/lib/postgresql/15/bin"))
STANDBY_NAME = "standby1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    cmd = [str(BIN / args[0]), *args[1:]]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120, **kw)  # type: ignore[call-overload, no-any-return]


@dataclass
class Node:
    name: str
    datadir: Path
    port: int

    def start(self) -> None:
        _as_postgres(["pg_ctl", "-D", str(self.datadir), "-l", str(self.log), "-w", "-t", "60",
                      "start"])  # fmt: skip

    @property
    def log(self) -> Path:
        return self.datadir.parent / f"{self.name}.log"

    def pids(self) -> list[int]:
        """The postmaster and every process it forked (backends, walsender ...)."""
        pidfile = self.datadir / "postmaster.pid"
        if not pidfile.exists():
            return []
        root = int(pidfile.read_text().split()[0])
        found, frontier = [root], [root]
        while frontier:
            parent = frontier.pop()
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(entry.name))
                    frontier.append(int(entry.name))
        return found

    def kill(self) -> None:
        """SIGKILL the whole server at once: a machine that died."""
        for pid in self.pids():
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            try:
                _as_postgres(["pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop"])
            except subprocess.CalledProcessError:
                self.kill()

    def promote(self) -> None:
        _as_postgres(["pg_ctl", "-D", str(self.datadir), "-w", "-t", "60", "promote"])

    def url(self, user: str = "postgres", database: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"


@dataclass
class Pair:
    primary: Node
    standby: Node
    root: Path

    def url(self, user: str = "postgres", database: str = "border") -> str:
        """libpq's multi-host URL: both servers, a read-write session wanted."""
        return (f"postgresql://{user}@127.0.0.1:{self.primary.port},127.0.0.1:{self.standby.port}"
                f"/{database}?target_session_attrs=read-write")  # fmt: skip


def _conf(node: Node, extra: str = "") -> None:
    with (node.datadir / "postgresql.auto.conf").open("a") as f:
        f.write(f"port = {node.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{node.datadir}'\n"
                "fsync = off\nfull_page_writes = off\nshared_buffers = 16MB\n"
                "max_connections = 40\nwal_level = replica\nmax_wal_senders = 4\n"
                f"hot_standby = on\nwal_keep_size = 64MB\n{extra}")  # fmt: skip


def start_pair() -> Iterator[Pair]:
    """Yields a running primary + synchronous standby; removes both afterwards."""
    if not (BIN / "initdb").exists():
        unavailable(f"PostgreSQL 15 binaries not found in {BIN} (set EGATE_PG_BIN)")
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            unavailable("no postgres system user to run initdb as (it refuses root)")
    root = Path(tempfile.mkdtemp(prefix="egate-ha-"))  # /tmp: reachable by postgres
    if os.geteuid() == 0:
        os.chown(root, pw.pw_uid, pw.pw_gid)
    primary = Node("primary", root / "primary", free_port())
    standby = Node("standby", root / "standby", free_port())
    try:
        _as_postgres(["initdb", "-D", str(primary.datadir), "-U", "postgres", "-A", "trust",
                      "--no-sync", "-E", "UTF8", "--locale=C"])  # fmt: skip
        with (primary.datadir / "pg_hba.conf").open("a") as f:
            f.write("host replication postgres 127.0.0.1/32 trust\n")
        _conf(primary, f"synchronous_standby_names = '{STANDBY_NAME}'\n"
                       "synchronous_commit = on\n")  # fmt: skip
        primary.start()
        base = ["-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres"]
        _as_postgres(["pg_basebackup", *base, "-D", str(standby.datadir), "-X", "stream",
                      "--no-sync"])  # fmt: skip
        (standby.datadir / "standby.signal").touch()
        if os.geteuid() == 0:
            os.chown(standby.datadir / "standby.signal", pw.pw_uid, pw.pw_gid)
        conninfo = (
            f"host=127.0.0.1 port={primary.port} user=postgres application_name={STANDBY_NAME}"
        )
        _conf(standby, f"primary_conninfo = '{conninfo}'\nsynchronous_standby_names = ''\n")
        standby.start()
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        for node in (standby, primary):
            node.stop()
        logs = " | ".join(n.log.read_text()[-400:] for n in (primary, standby) if n.log.exists())
        err = getattr(exc, "stderr", "") or ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"cannot start the PostgreSQL pair: {exc} {err} {logs}") from exc
    try:
        yield Pair(primary, standby, root)
    finally:
        for node in (standby, primary):
            node.stop()
        shutil.rmtree(root, ignore_errors=True)


def wait_streaming(pair: Pair, timeout: float = 60.0) -> None:
    """Until the primary reports the standby as its synchronous one."""
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(pair.primary.url(), autocommit=True, connect_timeout=5) as c:
        while True:
            row = c.execute(
                "SELECT sync_state FROM pg_stat_replication WHERE application_name = %s",
                (STANDBY_NAME,),
            ).fetchone()
            if row is not None and row[0] == "sync":
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"standby not synchronous within {timeout} s: {row}")
            time.sleep(0.1)
