"""`egate passport read`: read an ePassport chip through PC/SC (or an emulated one)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from devices.errors import (
    AccessDeniedError,
    CardRemovedError,
    ChipDataError,
    ChipError,
    DeviceFault,
)
from devices.icao9303.lds import LdsError
from devices.icao9303.lds.dg1 import DataGroup1
from devices.icao9303.lds.dg2 import DataGroup2
from devices.icao9303.mrz import Mrz
from devices.icao9303.pcsc import PcscTerminal
from devices.icao9303.reader import ChipReadReport, ReaderOptions, read_chip
from devices.protocols import ChipReadResult, MrzKey
from devices.simulated.transport import InProcessTransport
from devices.simulated.virtual_passport import FILE_NAMES
from kiosk.cli.chip import add_fault_options, emulator_for, load_passport
from kiosk.cli.common import CommandError, add_common_options, config_from_args, print_json
from kiosk.safe_files import write_output

DG1_KEYS = (
    "document_code",
    "issuing_state",
    "surname",
    "given_names",
    "document_number",
    "nationality",
    "birth_date",
    "sex",
    "expiry_date",
    "optional_data",
)


def register(gsub: Any) -> None:
    p = gsub.add_parser(
        "read",
        help="read a chip (PACE or BAC, files, chip and active authentication)",
        description="Read an ePassport chip on a PC/SC reader. The access key is the MRZ "
        "(--mrz, or its three fields) or the card access number (--can).",
    )
    p.add_argument("--reader", metavar="NAME", help="PC/SC reader name or part of it")
    p.add_argument(
        "--emulate",
        metavar="DIR",
        help="read a passport directory through the in-process chip emulator instead "
        "(--fault and --max-read shape that emulator)",
    )
    key = p.add_mutually_exclusive_group(required=True)
    key.add_argument("--mrz", nargs="+", metavar="LINE", help="the MRZ lines")
    key.add_argument("--document-number", metavar="N")
    key.add_argument("--can", metavar="CAN", help="card access number")
    p.add_argument("--birth-date", metavar="YYMMDD")
    p.add_argument("--expiry-date", metavar="YYMMDD")
    p.add_argument("--out", metavar="DIR", help="write every file read and the face image")
    p.add_argument("--no-extended-length", action="store_true", help="short APDUs only")
    add_fault_options(p)
    add_common_options(p)
    p.set_defaults(func=run)


def access_key(args: argparse.Namespace) -> MrzKey:
    if args.can:
        if not args.can.isdigit():
            raise CommandError("invalid_key", "--can takes the digits of the card access number")
        return MrzKey(can=args.can)
    if args.mrz:
        try:
            return Mrz.parse([line.strip() for line in args.mrz]).mrz_key()
        except LdsError as exc:
            raise CommandError("invalid_mrz", str(exc)) from exc
    for option, value in (("--birth-date", args.birth_date), ("--expiry-date", args.expiry_date)):
        if not value or len(value) != 6 or not value.isdigit():
            raise CommandError("invalid_key", f"{option} YYMMDD is needed with --document-number")
    return MrzKey(args.document_number.upper(), args.birth_date, args.expiry_date)


def _read(args: argparse.Namespace, key: MrzKey) -> ChipReadResult:
    options = ReaderOptions(extended_length=not args.no_extended_length)
    if args.emulate:
        card = emulator_for(args, load_passport(args.emulate))
        return read_chip(InProcessTransport(card), key, options)
    if args.fault:
        raise CommandError("invalid_fault", "--fault applies to --emulate only")
    name = args.reader if args.reader is not None else config_from_args(args).devices.reader_name
    terminal = PcscTerminal(name, extended_length=options.extended_length)
    transport = terminal.connect()
    try:
        return read_chip(transport, key, options)
    finally:
        transport.close()


def _face(files: dict[str, bytes], out: Path | None, notes: list[str]) -> str | None:
    raw = files.get("DG2")
    if raw is None:
        return None
    try:
        faces = DataGroup2.parse(raw).faces
    except LdsError as exc:
        notes.append(f"DG2: {exc}")
        return None
    if not faces or out is None:
        return None
    face = faces[0]
    suffix = ".jpg" if face.image_format == "jpeg" else (".j2c" if face.is_codestream else ".jp2")
    path = out / f"face{suffix}"
    write_output(path, face.image_bytes)
    return str(path)


def run(args: argparse.Namespace) -> int:
    key = access_key(args)
    try:
        result = _read(args, key)
    except CardRemovedError as exc:
        raise CommandError("card_removed", str(exc), 3) from exc
    except AccessDeniedError as exc:
        raise CommandError("access_denied", str(exc), 4) from exc
    except (ChipError, ChipDataError) as exc:
        raise CommandError("chip_error", str(exc), 5) from exc
    except DeviceFault as exc:
        raise CommandError("reader_unavailable", str(exc), 69) from exc
    files = dict(result.files)
    notes = list(result.notes)
    out = Path(args.out) if args.out else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        for name, raw in files.items():
            write_output(out / FILE_NAMES.get(name, name), raw)
    dg1: dict[str, Any] | None = None
    if "DG1" in files:
        try:
            parsed = DataGroup1.parse(files["DG1"]).to_json()
            dg1 = {k: parsed.get(k) for k in DG1_KEYS}
        except LdsError as exc:
            notes.append(f"DG1: {exc}")
    face = _face(files, out, notes)
    timings = result.timings_ms if isinstance(result, ChipReadReport) else {"total": result.ms}
    rounded = {k: round(v, 2) for k, v in timings.items()}
    report: dict[str, Any] = {
        "access": result.access_control,
        "dg1": dg1,
        "data_groups": sorted(int(n[2:]) for n in files if n.startswith("DG")),
        "files": sorted(files),
        "face_image": face,
        "chip_authentication": result.chip_authentication,
        "active_authentication": result.active_authentication,
        "apdu_count": result.apdus,
        "bytes_read": result.bytes_read,
        "timings_ms": rounded,
        "notes": notes,
    }
    if args.json:
        print_json(report)
    else:
        name = f"{dg1['surname']}, {dg1['given_names']}" if dg1 else "(DG1 unreadable)"
        print(f"{report['access']}: {name}, data groups {report['data_groups']}")
        print(
            f"chip authentication {result.chip_authentication}, active authentication "
            f"{result.active_authentication}; {result.apdus} APDUs, {result.bytes_read} bytes, "
            f"{report['timings_ms'].get('total', 0.0)} ms"
        )
        if face:
            print(f"face image: {face}")
    return 0
