"""`egate chip serve`: emulate a virtual passport's chip behind vsmartcard's vpcd."""

from __future__ import annotations

import argparse
import dataclasses
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from devices.errors import DeviceFault
from devices.simulated.emulator import ChipEmulator, Misbehaviour
from devices.simulated.virtual_passport import VirtualPassport, VirtualPassportError
from devices.simulated.vpcd import DEFAULT_HOST, DEFAULT_PORT, VpcdCardServer, parse_endpoint
from kiosk.cli.common import CommandError, add_common_options, print_json


def register(sub: Any) -> None:
    group = sub.add_parser("chip", help="ePassport chip emulation")
    gsub = group.add_subparsers(dest="chip_command", metavar="ACTION", required=True)
    p = gsub.add_parser(
        "serve",
        help="serve a virtual passport's chip to pcscd through vpcd until stopped",
        description="Emulate the chip of a passport written by `egate passport make` "
        "behind vsmartcard's vpcd driver, so PC/SC applications read it on the reader "
        "'Virtual PCD 00 00' (port 35963) or 'Virtual PCD 00 01' (35964).",
    )
    p.add_argument("--dir", required=True, metavar="DIR", help="passport directory")
    p.add_argument(
        "--vpcd",
        default=f"{DEFAULT_HOST}:{DEFAULT_PORT}",
        metavar="HOST:PORT",
        help=f"vpcd endpoint (default {DEFAULT_HOST}:{DEFAULT_PORT})",
    )
    add_fault_options(p)
    p.add_argument(
        "--once",
        action="store_true",
        help="exit when vpcd drops the connection instead of reconnecting",
    )
    add_common_options(p)
    p.set_defaults(func=run)


def add_fault_options(p: argparse.ArgumentParser) -> None:
    names = ", ".join(f.name for f in dataclasses.fields(Misbehaviour))
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME[=N]",
        help=f"make the emulated chip misbehave (repeatable): {names}",
    )
    p.add_argument(
        "--max-read",
        type=int,
        default=4096,
        metavar="BYTES",
        help="largest READ BINARY answer of the emulated chip (default 4096)",
    )


def misbehaviour_from(specs: list[str]) -> Misbehaviour:
    """--fault NAME (switches) or NAME=N (counts) -> Misbehaviour."""
    kinds = {f.name: f.type for f in dataclasses.fields(Misbehaviour)}
    values: dict[str, Any] = {}
    for spec in specs:
        name, sep, raw = spec.partition("=")
        name = name.strip().replace("-", "_")
        if name not in kinds:
            raise CommandError(
                "invalid_fault", f"unknown fault {name!r} (known: {', '.join(kinds)})"
            )
        if "bool" in str(kinds[name]):
            if sep:
                raise CommandError("invalid_fault", f"fault {name} takes no value")
            values[name] = True
        elif not raw.isdigit() or int(raw) < 1:
            raise CommandError("invalid_fault", f"fault {name} needs a positive count: {name}=N")
        else:
            values[name] = int(raw)
    return Misbehaviour(**values)


def emulator_for(args: argparse.Namespace, passport: VirtualPassport) -> ChipEmulator:
    if args.max_read < 16:
        raise CommandError("invalid_max_read", "--max-read must be at least 16 bytes")
    return ChipEmulator.from_passport(
        passport, misbehaviour_from(args.fault), max_read=args.max_read
    )


def load_passport(directory: str) -> VirtualPassport:
    path = Path(directory)
    if not path.is_dir():
        raise CommandError("not_found", f"{directory}: no such directory", 66)
    try:
        return VirtualPassport.load(path)
    except (VirtualPassportError, OSError, ValueError) as exc:
        raise CommandError("invalid_passport", f"{directory}: {exc}", 65) from exc


def run(args: argparse.Namespace) -> int:
    passport = load_passport(args.dir)
    try:
        host, port = parse_endpoint(args.vpcd)
    except ValueError as exc:
        raise CommandError("invalid_endpoint", str(exc), 64) from exc
    emulator = emulator_for(args, passport)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    server = VpcdCardServer(emulator, host, port)
    try:
        server.start()
    except DeviceFault as exc:
        raise CommandError("vpcd_unavailable", str(exc), 69) from exc
    info = {
        "serving": str(Path(args.dir)),
        "vpcd": f"{host}:{port}",
        "document_number": passport.document_number,
        "access": "PACE" if passport.pace else "BAC",
    }
    if args.json:
        print_json(info)
    else:
        print(f"serving {info['serving']} on vpcd {info['vpcd']} (Ctrl-C to stop)", flush=True)
    while not stop.is_set():
        stop.wait(0.2)
        if not server.connected and not stop.is_set():
            if args.once:
                break
            try:
                server.start(timeout=2.0)
            except DeviceFault:
                continue
    server.stop()
    print(f"served {server.apdus} APDUs", file=sys.stderr)
    return 0
