"""The one way every command reads an input file or writes an output file.

Input: regular files only, opened without blocking (a FIFO must not hang the
command: O_NONBLOCK makes the open return at once, and its type is checked on the
open descriptor, not the name, before a byte is read), at most `limit` bytes read
(`/dev/zero` or a 10 GB file must not exhaust memory).

Output: only a regular file or a new name in an existing directory; never a
device, FIFO, socket or symlink, never under /dev, /proc or /sys (as root,
`os.replace` onto /dev/full would replace the device node). The data goes to a
temporary file in the same directory that is fsynced and renamed over the target,
so a reader sees the old file or the whole new one, and a failure (an exception
from the writer included) leaves no temporary file behind.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

MiB = 1024 * 1024
DEFAULT_LIMIT = 16 * MiB  # trust lists, packs, cases, images: all far smaller
TEXT_MAX_BYTES = 1 * MiB  # configs, scenarios, keys
IMAGE_MAX_BYTES = 32 * MiB
SYSTEM_DIRS = ("/dev", "/proc", "/sys", "/run")


class UnsafeFileError(OSError):
    """An input or output path the command refuses (names the file and why)."""

    def __init__(self, path: str | os.PathLike[str], reason: str, *, output: bool) -> None:
        super().__init__(errno.EINVAL, reason, os.fspath(path))
        self.path = os.fspath(path)
        self.reason = reason
        self.output = output

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_input(path: str | os.PathLike[str], limit: int = DEFAULT_LIMIT) -> bytes:
    """The bytes of the regular file `path` (symlinks followed), at most `limit`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise UnsafeFileError(path, f"cannot open ({exc.strerror})", output=False) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnsafeFileError(path, f"is {_kind(info.st_mode)}; a regular file is needed",
                                  output=False)
        if info.st_size > limit:
            raise UnsafeFileError(path, f"is {info.st_size} bytes; at most {limit} are read",
                                  output=False)
        chunks: list[bytes] = []
        total = 0
        while True:  # the size can grow after fstat: the limit holds on what is read
            chunk = os.read(fd, min(MiB, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise UnsafeFileError(path, f"is larger than {limit} bytes", output=False)
        return b"".join(chunks)
    except OSError as exc:
        if isinstance(exc, UnsafeFileError):
            raise
        raise UnsafeFileError(path, f"cannot read ({exc.strerror})", output=False) from exc
    finally:
        os.close(fd)


def read_text_input(path: str | os.PathLike[str], limit: int = DEFAULT_LIMIT) -> str:
    raw = read_input(path, limit)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeFileError(path, f"is not UTF-8 text (byte {exc.start})", output=False) from exc


def check_output(path: str | os.PathLike[str]) -> Path:
    """`path` made absolute, or UnsafeFileError when it must not be written."""
    p = Path(os.path.abspath(path))
    for system in SYSTEM_DIRS:
        real_parent = os.path.realpath(p.parent)
        if real_parent == system or real_parent.startswith(system + "/"):
            raise UnsafeFileError(path, f"is under {system}; reports go to ordinary files",
                                  output=True)
    if not p.parent.is_dir():
        raise UnsafeFileError(path, f"{p.parent} is not a directory", output=True)
    try:
        info = os.lstat(p)
    except FileNotFoundError:
        return p
    except OSError as exc:
        raise UnsafeFileError(path, f"cannot check ({exc.strerror})", output=True) from exc
    if not stat.S_ISREG(info.st_mode):
        raise UnsafeFileError(path, f"is {_kind(info.st_mode)}; only a regular file is replaced",
                              output=True)
    return p


def write_output(path: str | os.PathLike[str], write: Callable[[Path], None] | bytes,
                 mode: int = 0o644) -> Path:
    """Write atomically: `write` is bytes, or a function that fills the temporary
    path it is given. Returns the absolute path written."""
    target = check_output(path)
    # Hidden, in the same directory (an atomic rename), keeping the suffix: a
    # writer such as matplotlib or PIL picks the format from it.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".part{target.suffix}",
                                    dir=target.parent)
    tmp = Path(tmp_name)
    try:
        if isinstance(write, bytes):
            with os.fdopen(fd, "wb") as f:
                f.write(write)
        else:
            os.close(fd)
            write(tmp)
        os.chmod(tmp, mode & ~_umask())
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        check_output(target)  # still not a device or link since the first check
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def _umask() -> int:
    # os.umask() can only be read by setting it, which races other threads.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022
