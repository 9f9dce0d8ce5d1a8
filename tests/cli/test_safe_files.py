"""Issue 19 item 6: every input file is a regular file read with a bound, every
output a regular file written atomically (kiosk.safe_files), through the real
console script where the attack was a hang or an exhausted memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.safe_files import UnsafeFileError, read_input, write_output

REPO = Path(__file__).resolve().parents[2]
HANG_S = 60  # a FIFO open blocks for ever on the old code; the new one answers at once


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "input.fifo"
    os.mkfifo(path)
    yield path


def _limit_memory() -> None:  # /dev/zero read whole would exhaust this, not the machine
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))


def egate(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("EGATE_CONFIG", None)
    env.pop("EGATE_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-c", "import sys; from ui.cli import main; sys.exit(main())", *argv],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=HANG_S,
        preexec_fn=_limit_memory,
    )


# -- inputs ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "status"),
    [
        (["--config", "{fifo}", "config", "check"], 78),
        (["policy", "evaluate", "{fifo}"], 66),
        (["trust", "import", "{fifo}"], 66),
        (["scenario", "run", "--ui", "none", "{fifo}"], 65),
        (["face", "compare", "{fifo}", "{fifo}"], None),
    ],
    ids=["config", "case", "trust-import", "scenario", "face-compare"],
)
def test_a_fifo_as_input_is_refused_not_waited_on(
    tmp_path: Path, fifo: Path, argv: list[str], status: int | None
) -> None:
    done = egate(*[a.format(fifo=fifo) for a in argv], cwd=tmp_path)
    assert done.returncode != 0
    if status is not None:
        assert done.returncode == status, done.stderr
    assert "FIFO" in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_dev_zero_as_config_is_refused_before_reading(tmp_path: Path) -> None:
    done = egate("--config", "/dev/zero", "config", "check", cwd=tmp_path)
    assert done.returncode == 78, done.stderr
    assert "character device" in done.stderr


def test_reads_are_bounded(tmp_path: Path) -> None:
    big = tmp_path / "big.toml"
    with big.open("wb") as f:
        f.truncate(2 << 20)  # sparse: 2 MB of zeros, over the config bound
    done = egate("--config", str(big), "config", "check", cwd=tmp_path)
    assert done.returncode == 78 and "at most" in done.stderr, done.stderr
    with pytest.raises(UnsafeFileError, match="at most 10 are read"):
        read_input(big, 10)


def test_the_log_key_file_is_checked_before_it_is_read() -> None:
    from kiosk.store.seal import LogKeyError, load_key

    with pytest.raises(LogKeyError, match="not a regular file"):
        load_key(Path("/dev/zero"))


# -- outputs ---------------------------------------------------------------------------
def test_outputs_refuse_devices_fifos_symlinks_and_system_paths(tmp_path: Path, fifo: Path) -> None:
    link = tmp_path / "link.pdf"
    link.symlink_to("/etc/passwd")
    for target, why in (
        ("/dev/full", "under /dev"),
        ("/proc/self/attr/current", "under /proc"),
        (str(fifo), "FIFO"),
        (str(link), "symbolic link"),
        (str(tmp_path), "directory"),
        (str(tmp_path / "missing" / "x.csv"), "not a directory"),
    ):
        with pytest.raises(UnsafeFileError, match=why):
            write_output(target, b"data")
    assert stat_kind("/dev/full") == "char" and Path("/etc/passwd").read_text()


def stat_kind(path: str) -> str:
    import stat

    return "char" if stat.S_ISCHR(os.stat(path).st_mode) else "other"


def test_output_is_atomic_and_leaves_nothing_on_error(tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    out.write_bytes(b"old report")

    def broken(path: Path) -> None:
        path.write_bytes(b"half")
        raise RuntimeError("renderer failed")

    with pytest.raises(RuntimeError):
        write_output(out, broken)
    assert out.read_bytes() == b"old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]
    write_output(out, b"new report")
    assert out.read_bytes() == b"new report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]
