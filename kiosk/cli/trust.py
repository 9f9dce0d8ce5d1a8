"""`egate trust import FILE...` and `egate trust list`: the kiosk's CSCA trust store.

Imports go into the reference-data table of the local database
(storage.local_url) with their provenance; passive authentication reads them
back through CscaStore.from_reference_store. See docs/trust.md.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.cli.common import (
    CommandError,
    add_common_options,
    config_from_args,
    display_name,
    print_json,
)
from kiosk.config import expand_url
from kiosk.store.database import StorageError, open_local
from kiosk.store.reference import ReferenceStore
from kiosk.trust.errors import TrustError
from kiosk.trust.importer import ImportReport, import_file
from kiosk.trust.masterlist import MasterListError
from kiosk.trust.store import CscaStore


def register(sub: Any) -> None:
    group = sub.add_parser("trust", help="manage trusted CSCA certificates, master lists, CRLs")
    gsub = group.add_subparsers(dest="trust_command", metavar="ACTION", required=True)

    imp = gsub.add_parser(
        "import",
        help="add CSCA/DS certificates (PEM/DER), ICAO master lists (.ml) and CRLs",
    )
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument(
        "--source",
        default="",
        help='where the files came from, kept as provenance (e.g. "ICAO PKD 2026-11")',
    )
    imp.add_argument(
        "--require-known-signer",
        action="store_true",
        help="accept a master list only if its signer chains to a CSCA already trusted",
    )
    add_common_options(imp)
    imp.set_defaults(func=run_import)

    lst = gsub.add_parser("list", help="list the trust store")
    add_common_options(lst)
    lst.set_defaults(func=run_list)


def open_reference_store(args: argparse.Namespace) -> ReferenceStore:
    """The ReferenceStore of the local database named by the configuration."""
    config = config_from_args(args)
    url = expand_url(config.storage.local_url)
    try:
        return ReferenceStore(open_local(url))
    except StorageError as exc:
        raise CommandError("storage_error", str(exc), status=74) from exc


def run_import(args: argparse.Namespace) -> int:
    reference = open_reference_store(args)
    store = CscaStore.from_reference_store(reference)
    now = datetime.now(UTC)
    reports: list[ImportReport] = []
    # Decode and verify every file before writing any: an import is all or nothing.
    for name in args.files:
        path = Path(name)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError("unreadable_file", f"{name}: {exc.strerror}", status=66) from exc
        label = display_name(path.name)  # stored and printed: no raw bytes
        provenance = display_name(
            f"egate trust import {label} at {now.isoformat(timespec='seconds')}"
            + (f" from {args.source}" if args.source else "")
        )
        try:
            reports.append(
                import_file(
                    store,
                    data,
                    label,
                    provenance,
                    at=now,
                    require_known_signer=args.require_known_signer,
                )
            )
        except TrustError as exc:
            code = exc.code if isinstance(exc, MasterListError) else "invalid_trust_file"
            raise CommandError(code, f"{name}: {exc}", status=65) from exc
    added = 0
    for report in reports:
        for row in report.rows:
            if reference.put(row.kind, row.key, row.payload, row.provenance):
                added += 1
    result = {"imported": [r.describe() for r in reports], "rows_added": added}
    if args.json:
        print_json(result)
    else:
        for report in reports:
            line = f"{report.name}: {report.kind}, {len(report.entries)} entr"
            line += "y" if len(report.entries) == 1 else "ies"
            if report.master_list is not None:
                signer = report.master_list["signer"]["subject"]
                anchor = report.master_list["signer_anchor"]
                csca = report.master_list["signer_csca"]["sha256"]
                line += f"; signed by {signer} (CSCA sha256 {csca}, trusted via {anchor})"
            print(line)
        print(f"{added} new row(s) in the trust store")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = CscaStore.from_reference_store(open_reference_store(args))
    entries = store.describe()
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry["kind"]] = counts.get(entry["kind"], 0) + 1
    result = {
        "entries": entries,
        "counts": counts,
        "master_lists": [ml.describe() for ml in store.master_lists],
        "load_errors": store.load_errors,
    }
    if args.json:
        print_json(result)
        return 0
    for entry in entries:
        if entry["kind"] == "crl":
            print(f"crl   {entry['issuer']}  next update {entry['next_update']}")
        else:
            print(f"{entry['kind']:<6}{entry['subject']}  until {entry['not_after'][:10]}")
    for error in store.load_errors:
        print(f"unusable: {error}")
    return 0
