"""`egate trust import FILE...`, `egate trust list` and `egate trust endorse`: the
kiosk's CSCA trust store.

Imports go into the reference-data table of the local database
(storage.local_url) with their provenance; passive authentication reads them
back through CscaStore.from_reference_store. See docs/trust.md.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
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
from kiosk.safe_files import DEFAULT_LIMIT as TRUST_MAX_BYTES
from kiosk.safe_files import UnsafeFileError, read_input, write_output
from kiosk.store.database import StorageError, open_local
from kiosk.store.reference import ReferenceStore
from kiosk.trust.certificates import load_certificates
from kiosk.trust.deviation_list import DeviationListError
from kiosk.trust.endorse import endorse, load_signer_key
from kiosk.trust.errors import TrustError
from kiosk.trust.importer import ImportReport, UnvouchedAnchorError, import_file
from kiosk.trust.masterlist import ListRules, MasterListError
from kiosk.trust.store import CscaStore, reference_key


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
    signer = imp.add_mutually_exclusive_group()
    signer.add_argument(
        "--bootstrap-anchor",
        action="store_true",
        help="first bootstrap of an installation only: provision a self-signed CSCA, or "
        "the CSCA that signed a self-consistent master list, as a trust anchor (check "
        "its fingerprint out of band; logged and kept in the provenance)",
    )
    signer.add_argument(
        "--require-known-signer",
        action="store_true",
        help="the default (kept for existing scripts): a master list's signer must "
        "chain to a provisioned trust anchor",
    )
    imp.add_argument(
        "--vouched-list-signers",
        action="store_true",
        help="let a CSCA trusted only through a master list vouch for another list's "
        "signer (off by default: trust does not flow from list to list)",
    )
    imp.add_argument(
        "--signer-grace-days",
        type=int,
        default=0,
        metavar="DAYS",
        help="a list signed while its signer was valid stays importable this many days "
        "after the signer expires (default 0)",
    )
    add_common_options(imp)
    imp.set_defaults(func=run_import)

    lst = gsub.add_parser("list", help="list the trust store")
    add_common_options(lst)
    lst.set_defaults(func=run_list)

    end = gsub.add_parser(
        "endorse",
        help="sign CSCA certificates as an administrator (a master list to publish)",
    )
    end.add_argument("certificates", nargs="+", metavar="CSCA_FILE")
    end.add_argument(
        "--signer-cert",
        required=True,
        metavar="PEM",
        help="the administrator's certificate, issued by a provisioned anchor",
    )
    end.add_argument(
        "--signer-key", required=True, metavar="PEM", help="its private key (unencrypted PEM)"
    )
    end.add_argument("--out", required=True, metavar="FILE", help="where to write the list")
    add_common_options(end)
    end.set_defaults(func=run_endorse)


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
    if args.signer_grace_days < 0:
        raise CommandError("usage", "--signer-grace-days must not be negative", status=64)
    rules = ListRules(args.vouched_list_signers, timedelta(days=args.signer_grace_days))
    reports: list[ImportReport] = []
    # Decode and verify every file before writing any: an import is all or nothing.
    for name in args.files:
        path = Path(name)
        try:
            data = read_input(path, TRUST_MAX_BYTES)
        except UnsafeFileError as exc:
            raise CommandError("unreadable_file", str(exc), status=66) from exc
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
                    bootstrap_anchor=args.bootstrap_anchor,
                    rules=rules,
                )
            )
        except TrustError as exc:
            typed = isinstance(exc, MasterListError | UnvouchedAnchorError | DeviationListError)
            code = exc.code if typed else "invalid_trust_file"
            raise CommandError(code, f"{name}: {exc}", status=65) from exc
    # One transaction, a fixed number of statements (issue 20 item 6).
    added = reference.put_many(
        (row.kind, row.key, row.payload, row.provenance) for r in reports for row in r.rows
    )
    bootstrap = [a for r in reports for a in r.provisioned]
    result = {
        "imported": [r.describe() for r in reports],
        "rows_added": added,
        "bootstrap_anchors": bootstrap,
    }
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
                roles = report.master_list["roles"]
                line += "; " + ", ".join(f"{n} {role}" for role, n in sorted(roles.items()))
            if report.deviation_list is not None:
                dl = report.deviation_list
                listed = sum(d["documents"] for d in dl["deviations"])
                line += (
                    f"; deviation list of {dl['country']} signed by {dl['signer']['subject']}: "
                    f"{len(dl['deviations'])} deviation(s) over {listed} document number(s)"
                    " (a listed document that fails names the deviation: refer, or accept"
                    " with a note under the policy accept_listed; docs/trust.md)"
                )
            print(line)
            for entry in report.entries:
                if entry.get("status") == "skipped":
                    who = entry.get("subject", "")
                    print(f"  skipped entry {entry['index']} {who}: {entry['reason']}")
        for anchor in bootstrap:
            print(f"BOOTSTRAP ANCHOR provisioned: {anchor['subject']} sha256 {anchor['sha256']}")
        print(f"{added} new row(s) in the trust store")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store = CscaStore.from_reference_store(open_reference_store(args))
    entries = store.describe()
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry["kind"]] = counts.get(entry["kind"], 0) + 1
    countries = store.by_country(datetime.now(UTC))
    result = {
        "entries": entries,
        "countries": countries,
        "counts": counts,
        "master_lists": [ml.describe() for ml in store.master_lists],
        "deviation_lists": [dl.describe() for dl in store.deviation_lists],
        "load_errors": store.load_errors,
    }
    if args.json:
        print_json(result)
        return 0
    for entry in entries:
        if entry["kind"] == "crl":
            print(f"crl   {entry['issuer']}  next update {entry['next_update']}")
        else:
            anchor = f" ({entry['anchor']})" if "anchor" in entry else ""
            print(f"{entry['kind']:<6}{entry['subject']}{anchor}  until {entry['not_after'][:10]}")
    for code, summary in countries.items():
        crls = summary["crls"]
        freshness = (
            ", ".join(
                f"next update {c['next_update'] or 'none'} ({'fresh' if c['fresh'] else 'STALE'})"
                for c in crls
            )
            or "none"
        )
        print(
            f"{code}: {summary['anchors']} anchor(s), {summary['links']} link(s), "
            f"{summary['cross']} cross, {summary['document_signers']} DS; CRL {freshness}"
        )
    for error in store.load_errors:
        print(f"unusable: {error}")
    return 0


def _read(name: str) -> bytes:
    try:
        return read_input(name, TRUST_MAX_BYTES)
    except UnsafeFileError as exc:
        raise CommandError("unreadable_file", str(exc), status=66) from exc


def run_endorse(args: argparse.Namespace) -> int:
    try:
        certs = [c for name in args.certificates for c in load_certificates(_read(name))]
        [signer] = load_certificates(_read(args.signer_cert))
        raw = endorse(certs, signer, load_signer_key(_read(args.signer_key)))
    except (TrustError, ValueError) as exc:
        raise CommandError("invalid_trust_file", str(exc), status=65) from exc
    try:
        write_output(args.out, raw)
    except UnsafeFileError as exc:
        raise CommandError("cannot_write", str(exc), status=73) from exc
    except OSError as exc:
        raise CommandError("cannot_write", f"{args.out}: {exc.strerror}", status=73) from exc
    result = {
        "out": args.out,
        "sha256": reference_key(raw),
        "signer": signer.describe(),
        "certificates": [c.describe() for c in certs],
    }
    if args.json:
        print_json(result)
    else:
        print(f"{args.out}: {len(certs)} CSCA certificate(s) signed by {signer.subject}")
    return 0
