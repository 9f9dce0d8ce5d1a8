"""Encoding many still photos on every core (calibration, benchmarks).

dlib's network is single-threaded and its objects must not be shared between
threads (models.DlibModels.lock), so parallelism is one process per core, each
with its own models. Results come back in input order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kiosk.face.calibration import (
    EncodedDataset,
    dataset_from_results,
    pool_datasets,
    read_labels,
)
from kiosk.face.encoding import Descriptor
from kiosk.face.stills import REFERENCE_SETTINGS, StillSettings


@dataclass(frozen=True)
class Encoded:
    descriptor: Descriptor | None  # None when the photo could not be encoded
    error_code: str | None = None  # FaceError code: unreadable_image, no_face, ...
    error_message: str | None = None


def encode_path(path: Path, settings: StillSettings) -> Encoded:
    """One photo, in this process (models loaded once per process)."""
    from kiosk.face.errors import FaceError
    from kiosk.face.models import load_models
    from kiosk.face.reference import load_image_file
    from kiosk.face.stills import encode_still

    try:
        rgb = load_image_file(path)
        return Encoded(encode_still(rgb, load_models(), settings).descriptor)
    except FaceError as exc:
        return Encoded(None, exc.code, exc.message)


def _job(args: tuple[Path, StillSettings]) -> Encoded:
    return encode_path(*args)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def encode_paths(
    paths: Sequence[Path],
    settings: StillSettings = REFERENCE_SETTINGS,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Encoded]:
    """Encode `paths` on `workers` processes (default: every core available)."""
    workers = default_workers() if workers is None else workers
    total = len(paths)
    if workers <= 1 or total <= 1:
        out = []
        for n, path in enumerate(paths, start=1):
            out.append(encode_path(path, settings))
            if progress is not None:
                progress(n, total)
        return out
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = []
        jobs = [(p, settings) for p in paths]
        for n, item in enumerate(pool.map(_job, jobs, chunksize=2), start=1):
            results.append(item)
            if progress is not None:
                progress(n, total)
        return results


def encode_datasets(
    folders: Sequence[Path],
    settings: StillSettings = REFERENCE_SETTINGS,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EncodedDataset:
    """Every labelled photo of `folders` encoded in one pool; several folders pooled
    (calibration.pool_datasets). Unusable photos are listed with their reason."""
    rows = [read_labels(folder) for folder in folders]
    paths = [folder / r.file for folder, part in zip(folders, rows, strict=True) for r in part]
    results = encode_paths(paths, settings, workers, progress)
    parts = []
    at = 0
    for part in rows:
        chunk = results[at : at + len(part)]
        at += len(part)
        triples = [(e.descriptor, e.error_code, e.error_message) for e in chunk]
        parts.append(dataset_from_results(part, triples))
    return parts[0] if len(parts) == 1 else pool_datasets(folders, parts)
