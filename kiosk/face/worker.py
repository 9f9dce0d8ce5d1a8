"""Runs face verification in a worker process.

dlib's ResNet encoder and model loading hold Python's GIL (a jittered chip-photo
encoding blocks every other thread for over a second), so a face pipeline on a
thread would freeze the traveller screen. The verifier lives in a child process;
this side forwards camera frames to it and waits for the verdict.

Protocol (docs/architecture.md, "Face worker"): requests are
("reference", id, image) - start encoding a chip photo - and
("verify", id, reference_id, image, after_index, budget_s); every frame goes over
as (request id, frame or fault text), so a frame forwarded for one request can
never reach another; answers are (request id, kind, payload).
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing as mp
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from multiprocessing.process import BaseProcess
from typing import Any

import numpy as np
import numpy.typing as npt

from devices.protocols import Camera, Frame
from kiosk.face.errors import FaceError
from kiosk.ports import FaceVerification, FaceVerifier, FrameRef, ReferenceTicket

log = logging.getLogger(__name__)

FRAME_QUEUE_DEPTH = 6  # frames in flight; older ones are dropped, as a camera would


class FaceWorkerError(RuntimeError):
    """The face worker process died or did not answer."""


class QueueCamera:
    """devices.protocols.Camera fed from the frame queue (inside the worker process).

    Every item on the queue is tagged with the request it was forwarded for; only
    this request's frames, newer than `after_index`, are handed to the verifier.
    Anything else (frames forwarded for an earlier request that were still in the
    pipe when it ended) is discarded here.
    """

    def __init__(self, frames: Any, request_id: int, after_index: int = -1) -> None:
        self._frames = frames
        self._request_id = request_id
        self._after_index = after_index
        self._latest: Frame | None = None
        self._fault: str | None = None
        self.discarded = 0  # items of other requests thrown away

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def latest(self) -> Frame | None:
        return self._latest

    @property
    def fault(self) -> str | None:
        return self._fault

    def wait_frame(self, after_index: int, timeout: float) -> Frame | None:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            try:
                request_id, item = self._frames.get(
                    timeout=max(0.0, deadline - time.monotonic())
                )
            except queue.Empty:
                return None
            if request_id != self._request_id:
                self.discarded += 1
                continue
            if isinstance(item, str):  # a fault message from the real camera
                self._fault = item
                return None
            self._fault = None
            frame: Frame = item
            if frame.index > max(after_index, self._after_index):
                self._latest = frame
                return frame
            if time.monotonic() >= deadline:
                return None


class _Reference:
    """What the worker holds for a started chip photo: its encoding or its failure.

    With helper processes (kiosk.face.reference_pool) the template is a PendingReference:
    the helpers encode the image and mirror halves on both cores while this process
    analyses the capture's frames; the matcher waits for the descriptor at the end.
    """

    def __init__(
        self, verifier: FaceVerifier, image: Any, helper: tuple[Any, Any, Any] | None = None,
        request_id: int = 0,
    ) -> None:
        self.image = image
        self.template: Any = None
        encode = getattr(verifier, "encode_reference", None)
        if callable(encode):
            try:
                if helper is not None:
                    from kiosk.face.reference_pool import start_reference_split

                    self.template = start_reference_split(
                        verifier, image, helper, request_id  # type: ignore[arg-type]
                    )
                else:
                    self.template = encode(image)
            except FaceError as exc:  # verify_template reports it as no_reference_face
                self.template = exc


def _verify(
    verifier: FaceVerifier, prepared: _Reference | None, image: Any, camera: QueueCamera,
    budget_s: float, helper: tuple[Any, Any, Any] | None = None, request_id: int = 0,
) -> FaceVerification:
    """Verify against the encoding started for this transaction, if there is one."""
    verify_template = getattr(verifier, "verify_template", None)
    if callable(verify_template):
        reference = prepared or _Reference(verifier, image, helper, request_id)
        if reference.template is not None:
            result: FaceVerification = verify_template(reference.template, camera, budget_s)
            return result
    return verifier.verify(image, camera, budget_s)


def _splittable(verifier: FaceVerifier) -> bool:
    """Whether the chip photo's halves can go to helpers (the dlib matcher only)."""
    if type(verifier).__module__ != "kiosk.face.matcher":
        return False  # test doubles: never import dlib for them
    from kiosk.face.reference_pool import splittable

    return splittable(verifier)


def _serve(
    factory: Callable[[], FaceVerifier], requests: Any, frames: Any, results: Any,
    helper: tuple[Any, Any, Any] | None = None,
) -> None:
    try:
        verifier = factory()
        warm_up = getattr(verifier, "warm_up", None)
        if callable(warm_up):
            warm_up()
        split = helper is not None and _splittable(verifier)
    except Exception as exc:
        results.put((0, "failed", f"{type(exc).__name__}: {exc}"))
        return
    current = [0]  # id of the request being served, for guidance messages
    set_listener = getattr(verifier, "set_listener", None)
    if callable(set_listener):  # quality guidance travels back as it happens
        set_listener(lambda code: results.put((current[0], "guidance", code)))
    results.put((0, "ready", split))  # the parent starts the helpers when True
    mine_helper = helper if split else None
    # At most one started chip photo: the newest transaction's. It serves one
    # verification and is never kept for another.
    prepared: dict[int, _Reference] = {}
    while True:
        request = requests.get()
        if request is None:
            return
        kind, request_id = request[0], request[1]
        current[0] = request_id
        try:
            if kind == "reference":
                prepared.clear()
                prepared[request_id] = _Reference(verifier, request[2], mine_helper, request_id)
                continue
            _, _, reference_id, image, after_index, budget_s = request
            mine = prepared.pop(reference_id, None)
            prepared.clear()
            results.put((request_id, "started", None))
            camera = QueueCamera(frames, request_id, after_index)
            verdict = _verify(verifier, mine, image, camera, budget_s, mine_helper, request_id)
            results.put((request_id, "result", verdict))
        except Exception as exc:
            results.put((request_id, "error", f"{type(exc).__name__}: {exc}"))


def _checked(
    verdict: FaceVerification, mark: FrameRef | None, forwarded: Mapping[int, float]
) -> FaceVerification:
    """The verdict with its provenance anchored on this side's mark (the camera's newest
    frame at the request), or with none at all - so the lane refuses it - when it
    names a frame that was not forwarded for this request."""
    p = verdict.provenance
    if p is None:
        return verdict
    provenance = replace(p, after=mark)
    strangers = [f.index for f in provenance.frames() if forwarded.get(f.index) != f.captured]
    if strangers or provenance.problem(mark) is not None:
        log.error("face verdict names frames not forwarded for its request: %s", strangers)
        return replace(verdict, provenance=None)
    return replace(verdict, provenance=provenance)


def _release(q: Any, timeout_s: float = 2.0) -> None:
    """Close a queue whose worker is gone and let its feeder thread finish.

    A spawn-context queue holds three named POSIX semaphores, unlinked by a finalizer
    when the queue is dropped or at interpreter exit. Left to exit, they were still
    registered when `egate kiosk`/`supervisor` ended multiprocessing's resource
    tracker (ui/commands/kiosk.py); the tracker unlinked them, and at exit every one
    printed a "sem_unlink ... FileNotFoundError" traceback. Once the feeder thread
    (CPython's private `_thread`, None when nothing was ever put) has ended, nothing
    else holds the queue, so dropping it unlinks and unregisters its semaphores at once.
    """
    q.cancel_join_thread()  # never block interpreter exit on an unread frame
    q.close()
    feeder = getattr(q, "_thread", None)
    reader = getattr(q, "_reader", None)
    deadline = time.monotonic() + timeout_s
    while feeder is not None and feeder.is_alive() and time.monotonic() < deadline:
        # Nobody reads the other end any more: read what the feeder still writes, so a
        # full pipe cannot hold it (it closes both ends itself after the last item).
        try:
            if reader is not None and reader.poll(0.02):
                reader.recv_bytes()
        except (OSError, EOFError, ValueError, TypeError):
            # The feeder closed the reader meanwhile: between poll and recv_bytes its
            # handle becomes None, and CPython's read() then raises TypeError (CI saw it).
            feeder.join(0.02)


class ProcessFaceVerifier:
    """kiosk.ports.FaceVerifier that runs `factory()`'s verifier in a child process.

    `factory` must be picklable (a module-level function or functools.partial).
    Every request carries an id the worker echoes, so a late answer to an earlier
    traveller can never be taken for the current one; a worker that does not answer
    within the budget (plus `margin_s` for the chip photo's encoding) is stopped.
    """

    def __init__(
        self,
        factory: Callable[[], FaceVerifier],
        # A bound on a hung start, not a performance target: three processes load the
        # dlib models, which took over 60 s with the machine five times oversubscribed.
        start_timeout_s: float = 180.0,
        margin_s: float = 20.0,
    ) -> None:
        self._factory = factory
        self._listener: Callable[[str], None] | None = None
        self._start_timeout_s = start_timeout_s
        self._margin_s = margin_s
        self._ctx = mp.get_context("spawn")  # fork is unsafe with Qt and threads
        self._lock = threading.RLock()
        self._process: BaseProcess | None = None
        self._requests: Any = None
        self._frames: Any = None
        self._results: Any = None
        # Encode the chip photo's image and mirror halves (kiosk/face/reference_pool.py).
        self._helpers: list[BaseProcess] = []
        self._helper_queues: tuple[Any, Any, Any] | None = None
        self._request_id = 0
        self._atexit = False

    def set_listener(self, listener: Callable[[str], None] | None) -> None:
        """Receives the worker's guidance codes (too_far, hold_still ...) during verify."""
        self._listener = listener

    def warm_up(self) -> None:
        """Start the worker and load its models now, not with the first traveller."""
        with self._lock:
            self._ensure_started()

    def _ensure_started(self) -> None:
        helpers_ok = all(h.is_alive() for h in self._helpers)
        if self._process is not None and self._process.is_alive() and helpers_ok:
            return
        self._stop_worker()
        self._requests = self._ctx.Queue()
        self._frames = self._ctx.Queue(maxsize=FRAME_QUEUE_DEPTH)
        self._results = self._ctx.Queue()
        self._helper_queues = (self._ctx.Queue(), self._ctx.Queue(), self._ctx.Queue())
        # Frames are disposable: never let an unread frame hold up interpreter exit.
        self._frames.cancel_join_thread()
        process = self._ctx.Process(
            target=_serve,
            args=(self._factory, self._requests, self._frames, self._results,
                  self._helper_queues),
            name="egate-face",
            daemon=True,
        )
        process.start()
        self._process = process
        if not self._atexit:
            atexit.register(self.close)
            self._atexit = True
        deadline = time.monotonic() + self._start_timeout_s
        while True:
            try:
                _, kind, payload = self._results.get(timeout=0.2)
            except queue.Empty:
                if not process.is_alive():
                    self._stop_worker()
                    raise FaceWorkerError("face worker exited during start-up") from None
                if time.monotonic() > deadline:
                    self._stop_worker()
                    raise FaceWorkerError("face worker did not start in time") from None
                continue
            if kind == "ready":
                if payload:
                    self._start_helpers(deadline)
                return
            self._stop_worker()
            raise FaceWorkerError(f"face worker failed to start: {payload}")

    def _start_helpers(self, deadline: float) -> None:
        """The two encoding processes (kiosk.face.reference_pool); a helper that fails
        only costs time (the worker encodes its half itself)."""
        from kiosk.face.reference_pool import HALVES, serve_halves

        assert self._helper_queues is not None
        results = self._helper_queues[2]
        for half, requests in zip(HALVES, self._helper_queues[:2], strict=True):
            helper = self._ctx.Process(
                target=serve_halves, args=(requests, results), name=f"egate-face-{half}",
                daemon=True,
            )
            helper.start()
            self._helpers.append(helper)
        try:  # models loaded before the first traveller, as for the worker
            for _ in HALVES:
                results.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            log.warning("a face helper did not start in time; the worker encodes for it")

    def start_reference(self, reference_rgb: npt.NDArray[np.uint8]) -> ReferenceTicket:
        """Start encoding a chip photo in the worker now (kiosk.ports.EarlyReferenceVerifier).

        Returns at once; the worker encodes while the lane checks the document.
        """
        image = np.ascontiguousarray(reference_rgb)
        with self._lock:
            self._ensure_started()
            self._request_id += 1
            ticket = ReferenceTicket(self._request_id, image)
            self._requests.put(("reference", ticket.id, image))
            return ticket

    def verify(
        self, reference_rgb: npt.NDArray[np.uint8], camera: Camera, budget_s: float
    ) -> FaceVerification:
        """Verify against a chip photo encoded afresh in the worker."""
        return self._verify(0, np.ascontiguousarray(reference_rgb), camera, budget_s)

    def verify_prepared(
        self, ticket: ReferenceTicket, camera: Camera, budget_s: float
    ) -> FaceVerification:
        """Verify against the encoding `start_reference` began (afresh if it was superseded)."""
        return self._verify(ticket.id, ticket.image, camera, budget_s)

    def _verify(
        self, reference_id: int, image: npt.NDArray[np.uint8], camera: Camera, budget_s: float
    ) -> FaceVerification:
        with self._lock:
            self._ensure_started()
            process = self._process
            assert process is not None
            self._request_id += 1
            request_id = self._request_id
            # Only frames captured from now on: never a previous traveller's.
            mark = FrameRef.of(camera.latest())
            last = mark.index if mark is not None else -1
            self._requests.put(("verify", request_id, reference_id, image, last, budget_s))
            # The budget runs from when the worker takes the request up (it may still
            # be encoding this transaction's chip photo); the margin covers that wait.
            deadline = time.monotonic() + budget_s + self._margin_s
            started = [False]

            def on_started() -> None:
                if not started[0]:
                    started[0] = True
                    nonlocal deadline
                    deadline = time.monotonic() + budget_s + self._margin_s

            forwarded: dict[int, float] = {}  # index -> capture time, this request's frames
            try:
                while True:
                    answer = self._answer(request_id, on_started)
                    if answer is not None:
                        return _checked(answer, mark, forwarded)
                    if not process.is_alive():
                        raise FaceWorkerError("face worker process died")
                    if not all(h.is_alive() for h in self._helpers):
                        raise FaceWorkerError("face encoding helper process died")
                    if time.monotonic() > deadline:
                        raise FaceWorkerError("face worker did not answer in time")
                    last = self._forward(camera, last, request_id, forwarded)
            except BaseException:
                # Whatever the worker still says about this request is void.
                self._stop_worker()
                raise

    def _answer(
        self, request_id: int, on_started: Callable[[], None] = lambda: None
    ) -> FaceVerification | None:
        """The verdict for `request_id` if it has arrived; relays guidance meanwhile."""
        while True:
            try:
                answered, kind, payload = self._results.get_nowait()
            except queue.Empty:
                return None
            if answered != request_id:
                continue  # a late message about an earlier request
            if kind == "result":
                result: FaceVerification = payload
                return result
            if kind == "guidance":
                self._tell(str(payload))
                continue
            if kind == "started":
                on_started()
                continue
            raise FaceWorkerError(f"face worker failed: {payload}")

    def _tell(self, code: str) -> None:
        listener = self._listener
        if listener is None:
            return
        try:
            listener(code)
        except Exception:  # a screen callback must never break a verification
            log.exception("guidance listener failed")

    def _forward(
        self, camera: Camera, last: int, request_id: int, forwarded: dict[int, float]
    ) -> int:
        """Pass the next camera frame (or its fault) to the worker; the newest index."""
        fault = camera.fault
        if fault is not None:
            self._put((request_id, fault))
            threading.Event().wait(0.05)
            return last
        frame = camera.wait_frame(last, timeout=0.05)
        if frame is None or frame.index <= last:
            return last
        forwarded[frame.index] = frame.timestamp
        self._put((request_id, frame))
        return frame.index

    def _put(self, item: tuple[int, Frame | str]) -> None:
        try:
            self._frames.put_nowait(item)
        except queue.Full:
            try:  # drop the oldest frame, keep the newest
                self._frames.get_nowait()
                self._frames.put_nowait(item)
            except (queue.Empty, queue.Full):
                pass

    def _stop_worker(self) -> None:
        """Stop the worker and its helper (politely, then by force), release the queues."""
        self._stop_helpers()
        process, self._process = self._process, None
        if process is None:
            return
        try:
            self._requests.put(None)
            process.join(timeout=2.0)
        finally:
            if process.is_alive():
                process.terminate()
                process.join(timeout=2.0)
            # Whatever is still buffered for a dead worker must not block exit.
            for q in (self._requests, self._frames, self._results):
                _release(q)
            self._requests = self._frames = self._results = None

    def _stop_helpers(self) -> None:
        helpers, self._helpers = self._helpers, []
        queues, self._helper_queues = self._helper_queues, None
        if queues is None:
            return
        try:
            for helper, requests in zip(helpers, queues[:2], strict=False):
                requests.put(None)
                helper.join(timeout=2.0)
        finally:
            for helper in helpers:
                if helper.is_alive():
                    helper.terminate()
                    helper.join(timeout=2.0)
            for q in queues:
                _release(q)

    def close(self) -> None:
        with self._lock:
            self._stop_worker()
