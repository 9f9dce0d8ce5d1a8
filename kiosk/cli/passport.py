"""`egate passport ...`: make virtual passports (and, when installed, read and verify them).

`passport make` lives here; `passport read` (kiosk.cli.passport_read) and `passport
verify` (kiosk.cli.passport_verify) register into the same group when present.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
from datetime import date
from pathlib import Path
from typing import Any

from devices.simulated.factory import DEFECTS, DocumentSpec, FactoryError, make_document
from devices.simulated.pki import ALGORITHMS
from kiosk.cli.common import CommandError, add_common_options, print_json
from kiosk.safe_files import IMAGE_MAX_BYTES, UnsafeFileError, read_input

SUBCOMMAND_MODULES = ("kiosk.cli.passport_read", "kiosk.cli.passport_verify")


def register(sub: Any) -> None:
    group = sub.add_parser("passport", help="make, read and verify ePassports")
    gsub = group.add_subparsers(dest="passport_command", metavar="ACTION", required=True)
    _register_make(gsub)
    for name in SUBCOMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(gsub)


def _iso_date(text: str, option: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise CommandError("invalid_date", f"{option} {text!r} is not a date YYYY-MM-DD") from None
    # The MRZ writes YYMMDD: only a century around now has a meaning (and the
    # factory dates the issue ten years before expiry).
    if not 1900 <= day.year <= 2099:
        raise CommandError("invalid_date", f"{option} {text!r} is outside the years 1900-2099")
    return day


def _register_make(gsub: Any) -> None:
    spec = DocumentSpec()
    p = gsub.add_parser(
        "make",
        help="write a virtual passport (signed LDS, keys, CSCA) into a directory",
        description="Build a complete, signed virtual ePassport. Every option has a "
        "default: with --out alone you get a valid PACE passport with chip and active "
        "authentication.",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="directory to write")
    p.add_argument("--surname", default=spec.surname)
    p.add_argument("--given-names", default=spec.given_names)
    p.add_argument("--document-number", default=spec.document_number)
    p.add_argument("--nationality", default=spec.nationality)
    p.add_argument("--issuing-state", default=spec.issuing_state)
    p.add_argument("--birth-date", default=spec.birth_date.isoformat(), metavar="YYYY-MM-DD")
    p.add_argument("--sex", default=spec.sex, choices=["M", "F", "X"])
    p.add_argument(
        "--expiry-date",
        default=None,
        metavar="YYYY-MM-DD",
        help="default: five years from today",
    )
    p.add_argument("--optional-data", default=spec.optional_data, help="personal number")
    p.add_argument("--document-code", default=spec.document_code)
    p.add_argument(
        "--mrz-format",
        choices=["TD1", "TD2", "TD3"],
        default=None,
        help="default: TD3 for passports (code P...), TD1 otherwise",
    )
    p.add_argument(
        "--face", metavar="IMAGE", help="portrait (JPEG/JPEG 2000 kept, others re-encoded)"
    )
    p.add_argument(
        "--face-format",
        choices=["jpeg", "jpeg2000"],
        default=None,
        help="re-encode the portrait; jpeg2000 gives a raw codestream (FF4FFF51)",
    )
    p.add_argument("--can", help="six-digit card access number (default: derived)")
    p.add_argument(
        "--defect",
        action="append",
        default=[],
        metavar="NAME",
        help="repeatable; one of: " + ", ".join(sorted(DEFECTS)),
    )
    p.add_argument(
        "--algorithm",
        default=spec.algorithm,
        choices=list(ALGORITHMS),
        help="test PKI signature algorithm (default rsa2048)",
    )
    p.add_argument(
        "--pace-parameter-id",
        type=int,
        default=spec.pace_parameter_id,
        choices=[12, 13, 15, 16],
        help="12 P-256 (default), 13 brainpoolP256r1, 15 P-384, 16 brainpoolP384r1",
    )
    p.add_argument(
        "--pace-mapping",
        default=spec.pace_mapping,
        choices=["GM", "IM", "CAM"],
        help="PACE generic (default), integrated or chip authentication mapping",
    )
    p.add_argument("--no-bac", action="store_true", help="a PACE-only chip (BAC refused)")
    p.add_argument(
        "--face-record",
        default=spec.face_record,
        choices=["ISO19794-5", "ISO39794-5", "raw"],
        help="DG2 container (default ISO19794-5)",
    )
    p.add_argument(
        "--no-extended-length", action="store_true", help="the chip refuses extended-length APDUs"
    )
    add_common_options(p)
    p.set_defaults(func=run_make)


def run_make(args: argparse.Namespace) -> int:
    unknown = [d for d in args.defect if d not in DEFECTS]
    if unknown:
        raise CommandError(
            "unknown_defect", f"unknown defect(s) {unknown}; known: {', '.join(sorted(DEFECTS))}"
        )
    birth = _iso_date(args.birth_date, "--birth-date")
    expiry = _iso_date(args.expiry_date, "--expiry-date") if args.expiry_date else None
    face: bytes | None = None
    if args.face:
        try:
            face = read_input(args.face, IMAGE_MAX_BYTES)
        except UnsafeFileError as exc:
            raise CommandError("face_unreadable", str(exc), 66) from exc
    spec = DocumentSpec(
        document_code=args.document_code,
        mrz_format=args.mrz_format,
        issuing_state=args.issuing_state,
        surname=args.surname,
        given_names=args.given_names,
        document_number=args.document_number,
        nationality=args.nationality,
        birth_date=birth,
        sex=args.sex,
        expiry_date=expiry,
        optional_data=args.optional_data,
        face_image=face,
        face_format=args.face_format,
        face_record=args.face_record,
        can=args.can,
        pace_parameter_id=args.pace_parameter_id,
        pace_mapping=args.pace_mapping,
        bac=not args.no_bac,
        extended_length=not args.no_extended_length,
        algorithm=args.algorithm,
    )
    if args.can is not None and (len(args.can) != 6 or not args.can.isdigit()):
        raise CommandError("invalid_can", f"CAN {args.can!r} must be six digits", 2)
    try:
        passport = make_document(spec, defects=args.defect)
    except FactoryError as exc:
        raise CommandError("invalid_document", str(exc), 2) from exc
    out = Path(args.out)
    try:
        manifest = passport.save(out)
    except OSError as exc:
        raise CommandError("cannot_write", f"{out}: {exc.strerror or exc}", 73) from exc
    manifest["directory"] = str(out.resolve())
    if args.json:
        print_json(manifest)
    else:
        print(f"virtual passport written to {out}")
        for line in passport.mrz:
            print(f"  {line}")
        print(f"  CAN {passport.can}; data groups {passport.data_groups()}")
        print(f"  defects: {', '.join(passport.defects) or 'none'}")
    return 0
