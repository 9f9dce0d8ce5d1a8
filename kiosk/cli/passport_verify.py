"""`egate passport verify --dir DIR [--trust PATH ...]`: passive authentication of raw
EF files as read from a chip (EF.SOD, DG1.bin, DG2.bin, ...).

Trust comes only from --trust and the local trust store: a CSCA certificate lying
in DIR next to the document proves nothing and is ignored. Exit status 0 when
the verdict is valid, 1 when it is invalid.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.cli.common import CommandError, add_common_options, config_from_args, print_json
from kiosk.cli.trust import open_reference_store
from kiosk.config import expand_url
from kiosk.safe_files import DEFAULT_LIMIT as TRUST_MAX_BYTES
from kiosk.safe_files import read_input
from kiosk.trust.deviation_list import DEFAULT_DEVIATION_POLICY, DEVIATION_POLICIES
from kiosk.trust.errors import TrustError
from kiosk.trust.importer import import_file
from kiosk.trust.passive import PassiveAuthenticator
from kiosk.trust.store import CscaStore

_SOD = re.compile(r"^(ef[._])?sod(\.bin)?$", re.IGNORECASE)
_COM = re.compile(r"^(ef[._])?com(\.bin)?$", re.IGNORECASE)
_DG = re.compile(r"^(ef[._])?dg([0-9]{1,2})(\.bin)?$", re.IGNORECASE)
MAX_FILE = 4 << 20  # far above any EF a chip holds (EF files are at most 32 KiB..1 MiB)


def register(sub: Any) -> None:
    """Add `verify` to the `passport` command group's subparsers."""
    p = sub.add_parser("verify", help="passive authentication of raw EF files in a directory")
    p.add_argument("--dir", required=True, metavar="DIR", help="directory of raw EF files")
    p.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="PATH",
        help="CSCA certificate, master list or CRL (file or directory); repeatable",
    )
    p.add_argument("--no-store", action="store_true", help="do not use the local trust store")
    p.add_argument("--at", metavar="ISO8601", help="check time (default: now, UTC)")
    p.add_argument("--require-crl", action="store_true", help="fail when no CRL is available")
    p.add_argument("--accept-stale-crl", action="store_true", help="accept an expired CRL")
    p.add_argument(
        "--deviation-policy", choices=DEVIATION_POLICIES, default=DEFAULT_DEVIATION_POLICY,
        help="what a listed deviation does to the failure it explains (docs/trust.md; "
        "default: refer)",
    )  # fmt: skip
    add_common_options(p)
    p.set_defaults(func=run)


def ef_name(filename: str) -> str | None:
    """The EF a file holds, from names such as EF.SOD, DG1.bin, EF.DG2, COM.bin."""
    if _SOD.match(filename):
        return "EF.SOD"
    if _COM.match(filename):
        return "EF.COM"
    match = _DG.match(filename)
    if match and 1 <= int(match.group(2)) <= 16:
        return f"DG{int(match.group(2))}"
    return None


def read_document(directory: Path) -> tuple[dict[str, bytes], dict[str, str], list[str]]:
    if not directory.is_dir():
        raise CommandError("not_a_directory", f"{directory} is not a directory", status=66)
    files: dict[str, bytes] = {}
    names: dict[str, str] = {}
    ignored: list[str] = []
    for path in sorted(directory.iterdir()):
        if not path.is_file():
            continue
        if "csca" in path.name.lower():
            ignored.append(f"{path.name}: CSCA files in the document directory are not trusted")
            continue
        ef = ef_name(path.name)
        if ef is None:
            ignored.append(f"{path.name}: not EF.SOD or a data group")
            continue
        if ef in files:
            raise CommandError(
                "duplicate_file", f"{path.name} and {names[ef]} both hold {ef}", status=65
            )
        if path.stat().st_size > MAX_FILE:
            raise CommandError("file_too_large", f"{path.name} exceeds {MAX_FILE} bytes", 65)
        files[ef] = read_input(path, MAX_FILE)
        names[ef] = path.name
    if "EF.SOD" not in files:
        raise CommandError("missing_sod", f"no EF.SOD in {directory}", status=65)
    return files, names, ignored


def _trust_paths(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            out.extend(p for p in sorted(path.iterdir()) if p.is_file())
        elif path.is_file():
            out.append(path)
        elif path.exists():  # /dev/null, a FIFO: there, but no trust file
            raise CommandError("unreadable_file", f"{name}: not a regular file or directory", 66)
        else:
            raise CommandError("unreadable_file", f"{name}: no such file or directory", 66)
    return out


def _local_store(args: argparse.Namespace, notes: list[str]) -> CscaStore:
    if args.no_store:
        return CscaStore()
    url = expand_url(config_from_args(args).storage.local_url)
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
        notes.append(f"no local trust store at {url}")
        return CscaStore()
    store = CscaStore.from_reference_store(open_reference_store(args))
    notes.extend(f"trust store: {e}" for e in store.load_errors)
    return store


def _check_time(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC)
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError("invalid_time", f"--at {text!r} is not ISO 8601", status=64) from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def run(args: argparse.Namespace) -> int:
    at = _check_time(args.at)
    files, names, ignored = read_document(Path(args.dir))
    notes: list[str] = []
    store = _local_store(args, notes)
    sources: list[str] = []
    for path in _trust_paths(args.trust):
        try:
            # --trust is the caller's own trust decision for this one check, as
            # explicit as a bootstrap: its CSCAs are anchors here, stored nowhere.
            import_file(
                store, read_input(path, TRUST_MAX_BYTES), path.name, f"--trust {path}", at=at,
                bootstrap_anchor=True, log_bootstrap=False,
            )  # fmt: skip
        except (TrustError, OSError) as exc:
            raise CommandError("invalid_trust_file", f"{path}: {exc}", status=65) from exc
        sources.append(str(path))
    authenticator = PassiveAuthenticator(
        store, require_crl=args.require_crl, accept_stale_crl=args.accept_stale_crl,
        deviation_policy=args.deviation_policy,
    )  # fmt: skip
    verdict = authenticator.verify(files, at)
    result = verdict.to_dict()
    result["input"] = {"dir": str(args.dir), "files": names, "ignored": ignored}
    result["trust"] = {
        "sources": sources,
        "anchors": len(store.anchors()),
        "crls": len(store.crls()),
        "notes": notes,
    }
    if args.json:
        print_json(result)
    else:
        print(f"verdict: {result['verdict']}" + (f" ({verdict.reason})" if verdict.reason else ""))
        for name, check in result["checks"].items():
            detail = check.get("detail")
            if name == "dg_hashes":
                groups = [f"{k} {v}" for k, v in check.items() if k.startswith("DG")]
                detail = ", ".join(groups) or detail
            print(f"  {name}: {check['status']}" + (f" - {detail}" if detail else ""))
        if result["document_signer"]:
            print(f"  document signer: {result['document_signer']['subject']}")
        if result["csca"]:
            print(f"  CSCA: {result['csca']['subject']}")
    return 0 if verdict.valid else 1
