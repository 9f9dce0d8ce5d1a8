"""A process that used the face worker exits without noise on stderr.

`egate kiosk` and `egate supervisor` end multiprocessing's resource tracker after
closing the face worker. The worker's queues used to keep their named semaphores
until interpreter exit, so the tracker unlinked them first ("leaked semaphore
objects") and each semaphore's own finalizer then printed a
"sem_unlink(name) ... FileNotFoundError" traceback: nine to fifteen a process, which
filled the CI log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from devices.protocols import Frame
    from kiosk.face.worker import FaceWorkerError, ProcessFaceVerifier
    from tests.kiosk import face_fakes
    from ui.commands.kiosk import stop_resource_tracker


    class BigFrames:
        # 1.2 MB frames, a new one on every call: the frame pipe fills at once.
        fault = None

        def __init__(self):
            self.index = -1

        def start(self): ...
        def stop(self): ...

        def latest(self):
            return None

        def wait_frame(self, after_index, timeout):
            self.index += 1
            image = np.full((640, 640, 3), self.index % 250, np.uint8)
            return Frame(image, time.monotonic(), self.index)


    if __name__ == "__main__":
        factory = getattr(face_fakes, sys.argv[1])
        verifier = ProcessFaceVerifier(factory, margin_s=1.0)
        reference = np.full((4, 4, 3), 7, np.uint8)
        try:
            print(verifier.verify(reference, BigFrames(), budget_s=1.0).distance)
        except FaceWorkerError as exc:  # the stuck worker: stopped at its deadline
            print(exc)
        verifier.close()
        stop_resource_tracker()  # as egate kiosk and egate supervisor do when they stop
        print("done")
    """
)


@pytest.mark.parametrize("worker", ["echo", "stuck"])
def test_no_semaphore_tracebacks_after_the_worker_and_tracker_stop(
    worker: str, tmp_path: Path
) -> None:
    # "stuck" never reads its frames: the pipe is full when the worker is stopped.
    script = tmp_path / "worker_exit.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, str(script), worker], capture_output=True, text=True, env=env,
        cwd=ROOT, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "done", done.stdout
    assert "sem_unlink" not in done.stderr
    assert "leaked semaphore" not in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr == ""


def test_the_tracker_is_left_running_while_a_semaphore_is_in_use(tmp_path: Path) -> None:
    # In one process (tests run `egate supervisor` in-process) another face worker's
    # queue is still in use when a command stops: ending the tracker would unlink its
    # semaphores under it, and each would print a traceback at exit.
    script = tmp_path / "still_used.py"
    script.write_text(textwrap.dedent(
        """
        import multiprocessing as mp
        from ui.commands.kiosk import stop_resource_tracker

        if __name__ == "__main__":
            queue = mp.get_context("spawn").Queue()
            stop_resource_tracker()
            queue.put("still works")
            print(queue.get(timeout=10))
        """
    ))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "still works"
    assert done.stderr == ""


def test_releasing_a_queue_survives_the_feeder_closing_its_reader() -> None:
    """Between poll() and recv_bytes() the feeder thread may close the reader; CPython
    then raises TypeError from the None handle (a CI run failed on it)."""
    from types import SimpleNamespace

    from kiosk.face.worker import _release

    class Feeder:
        def __init__(self) -> None:
            self.joins = 0

        def is_alive(self) -> bool:
            return self.joins == 0

        def join(self, _timeout: float) -> None:
            self.joins += 1

    class ClosedUnderUs:
        def poll(self, _timeout: float) -> bool:
            return True

        def recv_bytes(self) -> bytes:
            raise TypeError("'NoneType' object cannot be interpreted as an integer")

    feeder = Feeder()
    q = SimpleNamespace(cancel_join_thread=lambda: None, close=lambda: None,
                        _thread=feeder, _reader=ClosedUnderUs())  # fmt: skip
    _release(q)
    assert feeder.joins == 1
