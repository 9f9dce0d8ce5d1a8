"""`egate policy evaluate|packs|boarding-pass`: decide a case file, list packs, read a
boarding pass.

The case and decision formats are the public contract of docs/policy.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime
from typing import Any

from kiosk.cli.common import CommandError, add_common_options, config_from_args, print_json
from kiosk.decision.journey.boarding_pass import journey_from_boarding_pass
from kiosk.decision.journey.carrier_keys import (
    CarrierKeyError,
    Keys,
    Verification,
    carrier_of,
    load_carrier_key,
    verify_boarding_pass,
)
from kiosk.decision.journey.resolver import CHINA_TIME
from kiosk.decision.policy_adapter import PackPolicy
from kiosk.safe_files import DEFAULT_LIMIT as INPUT_MAX_BYTES
from kiosk.safe_files import UnsafeFileError, read_input
from policy.bcbp import BcbpLeg, BoardingPass, parse_bcbp
from policy.case import parse_case
from policy.engine import Decision, decide
from policy.errors import BcbpError, CaseError, PackError
from policy.pack import PolicyPack, parse_pack, select_pack
from policy.shipped import shipped_airports


def register(sub: Any) -> None:
    group = sub.add_parser("policy", help="entry policy: evaluate cases, list policy packs")
    gsub = group.add_subparsers(dest="policy_command", metavar="ACTION", required=True)

    ev = gsub.add_parser("evaluate", help="decide one case (JSON file, '-' for stdin)")
    ev.add_argument("case", metavar="CASE.json")
    ev.add_argument(
        "--pack",
        metavar="FILE",
        action="append",
        default=None,
        help="decide with this pack file only (repeatable) instead of the installed packs",
    )
    add_common_options(ev)
    ev.set_defaults(func=run_evaluate)

    ls = gsub.add_parser("packs", help="list the packs in use with dates and sha256 checksums")
    ls.add_argument(
        "--pack",
        metavar="FILE",
        action="append",
        default=None,
        help="validate and list these pack files instead of the installed packs",
    )
    add_common_options(ls)
    ls.set_defaults(func=run_packs)

    bp = gsub.add_parser(
        "boarding-pass",
        help="parse an IATA BCBP boarding pass (text or barcode image) into the onward journey",
    )
    source = bp.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", metavar="BCBP", help="the barcode's text")
    source.add_argument("--image", metavar="FILE", help="an image with a PDF417/Aztec/QR code")
    bp.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        default=None,
        help="local date of the check (default: today in UTC+8); BCBP dates have no year",
    )
    bp.add_argument(
        "--carrier-key",
        metavar="CARRIER=PEM",
        action="append",
        default=[],
        help="a carrier's public key (ECDSA P-256, PEM) to verify the pass's security data "
        "against; repeatable (the kiosk uses the keys the border distributes)",
    )
    add_common_options(bp)
    bp.set_defaults(func=run_boarding_pass)


def _read(path: str, what: str) -> bytes:
    try:
        if path == "-":
            return sys.stdin.buffer.read()
        return read_input(path, INPUT_MAX_BYTES)
    except UnsafeFileError as exc:
        raise CommandError("cannot_read", f"{what} {exc}", status=66) from exc


def _load_packs(paths: list[str]) -> list[PolicyPack]:
    packs: list[PolicyPack] = []
    for path in paths:
        try:
            packs.append(parse_pack(_read(path, "pack"), origin=path))
        except PackError as exc:
            raise CommandError("invalid_pack", str(exc), status=65) from exc
    return packs


def _decide(args: argparse.Namespace, case_data: Any) -> Decision:
    try:
        case = parse_case(case_data)
    except CaseError as exc:
        # name the file too, as its JSON errors do (`-` is standard input)
        raise CommandError("invalid_case", f"{args.case}: {exc}", status=65) from exc
    if args.pack:
        packs = _load_packs(args.pack)
        pack = select_pack(packs, case.port, case.now)
        if pack is None:
            raise CommandError(
                "no_pack_in_force",
                f"none of the given packs covers {case.port} on {case.now.isoformat()}",
                status=3,
            )
        return decide(case, pack)
    config = config_from_args(args)
    policy = PackPolicy.from_config(config)
    for problem in policy.problems:
        print(f"egate: policy pack {problem}", file=sys.stderr)
    pack = select_pack(policy.packs, case.port, case.now)
    if pack is None:
        raise CommandError(
            "no_pack_in_force",
            f"no valid policy pack covers {case.port} on {case.now.isoformat()}",
            status=3,
        )
    return decide(case, pack, max_reference_age_hours=config.policy.reference_max_age_h)


def run_evaluate(args: argparse.Namespace) -> int:
    raw = _read(args.case, "case")
    try:
        case_data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, 5000-digit integers
        raise CommandError("invalid_case", f"{args.case}: not JSON ({exc})", status=65) from exc
    except RecursionError as exc:
        raise CommandError(
            "invalid_case", f"{args.case}: JSON nested too deeply", status=65
        ) from exc
    decision = _decide(args, case_data)
    if args.json:
        print_json(decision.to_json())
        return 0
    head = decision.decision.upper()
    if decision.basis:
        head += f" on basis {decision.basis}"
    if decision.reasons:
        head += f": {', '.join(decision.reasons)}"
    print(head)
    if decision.permitted_until:
        print(f"permitted until {decision.permitted_until.isoformat()}")
    print(f"pack {decision.pack_id} {decision.pack_version}")
    for line in decision.trace:
        print(f"  - {line}")
    return 0


def run_packs(args: argparse.Namespace) -> int:
    if args.pack:
        packs = _load_packs(args.pack)
        problems: tuple[str, ...] = ()
    else:
        policy = PackPolicy.from_config(config_from_args(args))
        packs = list(policy.packs)
        problems = policy.problems
    listing = [p.summary() for p in packs]
    if args.json:
        print_json({"packs": listing, "rejected": list(problems)})
        return 0
    for p in packs:
        until = p.effective_until.isoformat() if p.effective_until else "open"
        print(
            f"{p.id} {p.version}  {p.effective_from}..{until}  ports {','.join(sorted(p.ports))}"
            f"  sha256 {p.sha256}  ({p.origin})"
        )
    for problem in problems:
        print(f"REJECTED {problem}")
    return 0


def _boarding_pass_text(args: argparse.Namespace) -> str:
    if args.text is not None:
        return str(args.text)
    import cv2
    import numpy as np

    from kiosk.decision.journey.barcode import decode_barcodes

    raw = _read(args.image, "image")
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR) if raw else None
    if image is None:
        raise CommandError("cannot_read", f"image {args.image}: not readable", status=66)
    texts = decode_barcodes(np.asarray(image, dtype=np.uint8))
    if not texts:
        raise CommandError("no_barcode", f"{args.image}: no PDF417, Aztec or QR code found", 1)
    return texts[0]


def _leg_date(leg: BcbpLeg, today: date) -> str | None:
    try:
        return leg.flight_date(today).isoformat()
    except BcbpError:
        return None


def run_boarding_pass(args: argparse.Namespace) -> int:
    text = _boarding_pass_text(args)
    if args.date is None:
        today = datetime.now(CHINA_TIME).date()
    else:
        try:
            today = date.fromisoformat(args.date)
        except ValueError as exc:
            raise CommandError("invalid_date", f"--date {args.date!r}: {exc}", 2) from exc
    try:
        bp = parse_bcbp(text)
    except BcbpError as exc:
        raise CommandError("invalid_boarding_pass", str(exc), status=65) from exc
    keys = _carrier_keys(args.carrier_key)
    checked: list[Verification] = []

    def verify(pass_: BoardingPass, leg: BcbpLeg) -> Verification:
        checked.append(verify_boarding_pass(pass_, leg, keys))
        return checked[-1]

    journey = journey_from_boarding_pass(
        bp, shipped_airports(), home_state="CHN", today=today, tz=CHINA_TIME, verify=verify
    )
    legs: list[dict[str, Any]] = [
        {
            "flight": leg.flight,
            "from": leg.from_airport,
            "to": leg.to_airport,
            "date": _leg_date(leg, today),
            "seat": leg.seat or None,
            "seat_assigned": leg.seat_assigned,
            "pnr": leg.pnr,
        }
        for leg in bp.legs
    ]
    onward = journey.case_journey() if journey else None
    out = {
        "passenger_name": bp.passenger_name,
        "version": bp.version,
        "legs": legs,
        "onward": onward,
        "verification": checked[-1].detail if checked else None,
    }
    if args.json:
        print_json(out)
        return 0
    print(f"{bp.passenger_name}: {len(bp.legs)} leg(s)")
    for leg in legs:
        print(f"  {leg['flight']} {leg['from']}->{leg['to']} {leg['date']} seat {leg['seat']}")
    if journey is None:
        print("no departure abroad on or after the date of the check")
    else:
        print(f"onward journey: {json.dumps(onward, ensure_ascii=False)}")
        print(checked[-1].detail if checked else "")
    return 0


def _carrier_keys(specs: list[str]) -> Keys:
    out: Keys = {}
    for spec in specs:
        carrier, sep, path = spec.partition("=")
        if not sep or not path:
            raise CommandError("bad_argument", f"--carrier-key {spec!r}: expected CARRIER=PEM", 2)
        try:
            out.setdefault(carrier_of(carrier), []).append(
                load_carrier_key(_read(path, "carrier key"))
            )
        except CarrierKeyError as exc:
            raise CommandError("invalid_carrier_key", f"{path}: {exc}", status=65) from exc
    return out
