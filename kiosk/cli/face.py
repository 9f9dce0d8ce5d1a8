"""`egate face`: compare two photos, calibrate the match threshold on a labelled folder."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.cli.common import CommandError, add_common_options, config_from_args, print_json
from kiosk.safe_files import write_output

if TYPE_CHECKING:  # dlib and the models load only when a face command runs
    from kiosk.face.stills import StillSettings


def register(subparsers: Any) -> None:
    face = subparsers.add_parser("face", help="face verification tools (compare, calibrate)")
    sub = face.add_subparsers(dest="face_command", metavar="SUBCOMMAND", required=True)

    compare = sub.add_parser(
        "compare",
        help="distance between the faces of two photos",
        description="Compare the face in REFERENCE (e.g. a DG2 portrait) with the one in PROBE.",
    )
    compare.add_argument("reference", metavar="REFERENCE", help="reference image file")
    compare.add_argument("probe", metavar="PROBE", help="probe image file")
    compare.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="match threshold (default: face.threshold from the config)",
    )
    compare.add_argument(
        "--jitters",
        type=int,
        default=None,
        help="dlib encoder jitters per photo (default: the shipped reference setting, 10)",
    )
    add_common_options(compare)
    compare.set_defaults(func=run_compare)

    calibrate = sub.add_parser(
        "calibrate",
        help="genuine/impostor distances, FMR and FNMR per threshold",
        description="DIR holds images and labels.csv with the columns file and identity "
        "(and optionally group, for per-group figures).",
    )
    calibrate.add_argument(
        "--dataset",
        required=True,
        action="append",
        metavar="DIR",
        help="labelled folder; repeat to pool several (their people must all differ)",
    )
    calibrate.add_argument(
        "--plot", metavar="FILE", help="write the DET curve and the fitted impostor tail (PNG)"
    )
    calibrate.add_argument(
        "--padding",
        type=float,
        default=None,
        help="face chip padding around the landmarks (default: the shipped setting)",
    )
    calibrate.add_argument(
        "--jitters",
        type=int,
        default=None,
        help="dlib encoder jitters per image (default: the shipped reference setting)",
    )
    calibrate.add_argument(
        "--folds",
        type=int,
        default=None,
        help="k of the k-fold over people for the held-out figures (default 10; "
        "the number of people gives leave-one-person-out)",
    )
    calibrate.add_argument(
        "--workers",
        type=int,
        default=None,
        help="encoding processes (default: one per available core)",
    )
    calibrate.add_argument(
        "--plain",
        action="store_true",
        help="baseline for comparison: no jitter, no mirror image, no upscaling",
    )
    add_common_options(calibrate)
    calibrate.set_defaults(func=run_calibrate)


class _Progress:
    """Progress of a calibration on stderr: rich bars on a terminal, otherwise a line
    every 10% (logs stay short). Encoding first, then the k-fold refits."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        self._console = Console(stderr=True)
        self._bars: Any = None
        if self._console.is_terminal:
            self._bars = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=self._console,
            )
        self._tasks: dict[str, Any] = {}
        self._shown: dict[str, int] = {}
        self._start = time.monotonic()

    def __enter__(self) -> _Progress:
        if self._bars is not None:
            self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bars is not None:
            self._bars.stop()

    def _update(self, what: str, done: int, total: int) -> None:
        if self._bars is not None:
            if what not in self._tasks:
                self._tasks[what] = self._bars.add_task(what, total=total)
            self._bars.update(self._tasks[what], completed=done)
            return
        tenth = done * 10 // max(total, 1)
        if tenth > self._shown.get(what, -1) or done == total:
            self._shown[what] = tenth
            elapsed = time.monotonic() - self._start
            print(f"{what} {done}/{total} ({elapsed:.0f} s)", file=sys.stderr, flush=True)

    def encoding(self, done: int, total: int) -> None:
        self._update("encoding", done, total)

    def folds(self, done: int, total: int) -> None:
        self._update("held-out folds", done, total)


def calibration_progress() -> _Progress:
    return _Progress()


def _face_error(exc: Exception) -> CommandError:
    from kiosk.face.errors import FaceError, ModelsUnavailableError

    if isinstance(exc, ModelsUnavailableError):
        return CommandError(exc.code, exc.message, status=3)
    if isinstance(exc, FaceError):
        return CommandError(exc.code, exc.message, status=2)
    raise exc


def run_compare(args: argparse.Namespace) -> int:
    from kiosk.face.encoding import face_distance
    from kiosk.face.errors import FaceError
    from kiosk.face.models import load_models
    from kiosk.face.reference import load_image_file
    from kiosk.face.stills import REFERENCE_SETTINGS, encode_still

    config = config_from_args(args)
    threshold = config.face.threshold if args.threshold is None else args.threshold
    if not 0.0 < threshold < 2.0:
        raise CommandError("invalid_threshold", f"threshold {threshold} is outside (0, 2)")
    settings = REFERENCE_SETTINGS
    if args.jitters is not None:
        if not 0 <= args.jitters <= 100:
            raise CommandError("invalid_argument", "--jitters must be between 0 and 100")
        settings = replace(settings, jitters=args.jitters)
    start = time.perf_counter()
    encodings = []
    try:
        models = load_models()
        for role, path in (("reference", args.reference), ("probe", args.probe)):
            try:
                encodings.append(encode_still(load_image_file(path), models, settings))
            except FaceError as exc:
                exc.message = f"{role} {path}: {exc.message}"
                raise
    except FaceError as exc:
        raise _face_error(exc) from exc
    reference, probe = encodings
    distance = face_distance(reference.descriptor, probe.descriptor)
    out = {
        "distance": round(distance, 4),
        "threshold": threshold,
        "match": distance <= threshold,
        "faces_in_reference": reference.faces,
        "faces_in_probe": probe.faces,
        "ms": round((time.perf_counter() - start) * 1000.0, 1),
    }
    if args.json:
        print_json(out)
    else:
        verdict = "match" if out["match"] else "no match"
        print(f"{verdict}: distance {distance:.4f} (threshold {threshold})")
    return 0


def _group_line(group: str, g: dict[str, Any]) -> str:
    def rate(part: dict[str, Any] | None, what: str) -> str:
        if part is None or part[what] is None:
            return "-"
        lo, hi = part[f"{what}_clopper_pearson"]
        return f"{part[what]:.3%} ({lo:.3%}-{hi:.3%})"

    held = g["held_out"]
    return (
        f"group {group} ({g['people']} people): within-group FMR at the shipped threshold "
        f"{rate(g['at_shipped_threshold'], 'fmr')}; held out: FMR {rate(held, 'fmr')}, "
        f"FNMR {rate(held, 'fnmr')}; own target point {g['threshold_at_target_within_group']}"
    )


def _calibration_settings(args: argparse.Namespace) -> StillSettings:
    """How the stills are encoded: the reference settings unless the options say otherwise."""
    from kiosk.face.stills import REFERENCE_SETTINGS, StillSettings

    settings = REFERENCE_SETTINGS
    if args.plain:
        settings = StillSettings(jitters=0, mirror=False, prepare=False)
    if args.jitters is not None:
        if not 0 <= args.jitters <= 100:
            raise CommandError("invalid_argument", "--jitters must be between 0 and 100")
        settings = replace(settings, jitters=args.jitters)
    if args.padding is not None:
        if not 0.0 <= args.padding <= 1.0:
            raise CommandError("invalid_argument", "--padding must be between 0 and 1")
        settings = replace(settings, padding=args.padding)
    return settings


def _print_calibration(report: dict[str, Any]) -> None:
    shipped = report["at_shipped_threshold"]
    print(
        f"{report['images']} images, {report['genuine_pairs']} genuine and "
        f"{report['impostor_pairs']} impostor pairs; at threshold "
        f"{report['shipped_threshold']}: FMR {shipped['fmr']:.4%}, FNMR {shipped['fnmr']:.4%}; "
        f"recommended threshold {report['recommended_threshold']}"
    )
    held = report["held_out_identities"]
    if held["folds"] == 0:
        print("held-out figures: need at least three people")
    else:
        fmr_lo, fmr_hi = held["fmr_bootstrap_people"]
        fnmr_lo, fnmr_hi = held["fnmr_bootstrap_people"]
        print(
            f"{held['method']}: FMR {held['fmr']:.4%} (95% {fmr_lo:.4%}-{fmr_hi:.4%}), "
            f"FNMR {held['fnmr']:.4%} (95% {fnmr_lo:.4%}-{fnmr_hi:.4%})"
        )
    for group, g in report["groups"].items():
        print(_group_line(group, g))
    for item in report["unusable"]:
        print(f"unusable: {item['file']}: {item['reason']}")


def run_calibrate(args: argparse.Namespace) -> int:
    from kiosk.face.batch import encode_datasets
    from kiosk.face.calibration import (
        DatasetError,
        calibration_report,
        choose_threshold,
        error_rates,
        pair_distances,
        plot_det,
        plot_thresholds,
    )
    from kiosk.face.errors import FaceError
    from kiosk.face.matcher import SHIPPED_THRESHOLD
    from kiosk.face.models import load_models

    config = config_from_args(args)
    datasets = [Path(d) for d in args.dataset]
    for dataset in datasets:
        if not dataset.is_dir():
            raise CommandError("invalid_dataset", f"{dataset}: not a folder")
    if len({d.resolve() for d in datasets}) != len(datasets):
        raise CommandError("invalid_dataset", "the same folder was given twice")
    settings = _calibration_settings(args)
    if args.folds is not None and args.folds < 2:
        raise CommandError("invalid_argument", "--folds must be at least 2")
    if args.workers is not None and not 1 <= args.workers <= 64:
        raise CommandError("invalid_argument", "--workers must be between 1 and 64")
    start = time.perf_counter()
    try:
        load_models()  # a missing model is reported before any worker starts
        with calibration_progress() as progress:
            encoded = encode_datasets(datasets, settings, args.workers, progress.encoding)
            report: dict[str, Any] = calibration_report(
                encoded, SHIPPED_THRESHOLD, folds=args.folds, progress=progress.folds
            )
    except DatasetError as exc:
        raise CommandError("invalid_dataset", str(exc)) from exc
    except FaceError as exc:
        raise _face_error(exc) from exc
    if config.face.threshold != SHIPPED_THRESHOLD:
        (configured,) = error_rates(
            pair_distances(encoded.descriptors, encoded.identities), [config.face.threshold]
        )
        report["configured_threshold"] = config.face.threshold
        report["at_configured_threshold"] = {"fmr": configured.fmr, "fnmr": configured.fnmr}
    report["settings"] = {
        "detector": "dlib HOG",
        "landmarks": "5-point",
        "jitters": settings.jitters,
        "mirror": settings.mirror,
        "upscale_small_photos": settings.prepare,
        "padding": settings.padding,
    }
    if args.plot:
        plot_path = Path(args.plot)
        pairs = pair_distances(encoded.descriptors, encoded.identities)
        title = (
            f"{report['identities']} people, {report['genuine_pairs']} genuine / "
            f"{report['impostor_pairs']} impostor pairs; jitters {settings.jitters}, "
            f"mirror {settings.mirror}, padding {settings.padding}"
        )
        rates = error_rates(pairs, plot_thresholds())
        model = choose_threshold(pairs.impostor).model.chosen
        try:  # atomic, a regular file only (kiosk/safe_files.py)
            write_output(plot_path, lambda tmp: plot_det(rates, SHIPPED_THRESHOLD, tmp,
                                                         model=model, title=title))
        except OSError as exc:
            raise CommandError("plot_failed", f"{plot_path}: {exc}", status=1) from exc
        report["plot"] = str(plot_path)
    report["ms"] = round((time.perf_counter() - start) * 1000.0, 1)
    if args.json:
        print_json(report)
    else:
        _print_calibration(report)
    return 0
