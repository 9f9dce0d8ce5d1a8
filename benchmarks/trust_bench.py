"""Passive authentication figures: key generation, EF.SOD build, verification per
signature algorithm, master list import (60 and 600 CSCAs, and the published lists
under ../shared/reference/field-pki when present), and verification with 10 versus
1,010 CSCAs in the store (issue 20 item 6: <= 1 s for 600, no cost per CSCA).

Run: .venv/bin/python benchmarks/trust_bench.py [--quick]
Wall times on a shared machine say little; each line gives the CPU time as well.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from devices.simulated import pki
from kiosk.trust import CscaStore, PassiveAuthenticator

NOW = datetime.now(UTC)
DGS = {1: b"\x61" * 93, 2: b"\x75" * 20_000, 14: b"\x6e" * 300, 15: b"\x6f" * 170}


FIELD = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "field-pki"


def timed(label: str, fn: Callable[[], object], runs: int) -> float:
    samples = []
    cpu = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    median = statistics.median(samples)
    print(
        f"{label:<52} median {median:8.2f} ms"
        f"   p95 {sorted(samples)[int(0.95 * (len(samples) - 1))]:8.2f} ms"
        f"   cpu median {statistics.median(cpu):8.2f} ms   n={runs}"
        f"   load {os.getloadavg()[0]:.2f}"
    )
    return median


def _csca_certificates(count: int) -> list[x509.Certificate]:
    """`count` distinct self-signed CSCAs over a few keys (key generation would
    dominate otherwise; import cost is per certificate, not per key)."""
    out = []
    for i in range(count):
        algorithm = ("rsa2048", "ecdsa-p256", "ecdsa-brainpoolP256r1")[i % 3]
        key = pki.cached_key(algorithm, f"bench/csca-{i % 12}")
        name = pki.country_name(f"Q{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}", "CSCA", i)
        out.append(pki.make_csca_certificate("QQQ", key, now=NOW, serial=i + 1, subject=name))
    return out


def lookup_and_import(quick: bool) -> None:
    state = pki.make_test_pki("MLA", now=NOW)
    key = pki.cached_key("rsa2048", "bench/mls")
    signer = pki.make_master_list_signer(state.csca_cert, state.csca_key, key.public_key(), now=NOW)
    many = _csca_certificates(600)
    ml = pki.make_master_list([state.csca_cert, *many], signer, key)
    timed(
        "import a master list of 601 CSCAs",
        lambda: CscaStore.from_certificates([state.csca_der()]).add_master_list(
            ml, "bench", at=NOW
        ),
        3 if quick else 10,
    )
    for path in sorted(FIELD.glob("*.ml")) if FIELD.is_dir() else []:
        raw = path.read_bytes()
        timed(
            f"import {path.name} (bootstrap)",
            lambda raw=raw: CscaStore().add_master_list(
                raw, "bench", at=NOW, require_known_signer=False, check_signer_validity=False
            ),
            3 if quick else 10,
        )
    p = pki.make_test_pki("UTO", now=NOW)
    raw = pki.build_sod(DGS, p.ds_cert, p.ds_key)
    files = {"EF.SOD": raw, **{f"DG{n}": b for n, b in DGS.items()}}
    others = [c.public_bytes(serialization.Encoding.DER) for c in _csca_certificates(1000)]
    for extra in (others[:10], others):
        store = CscaStore.from_certificates([p.csca_der(), *extra])
        auth = PassiveAuthenticator(store)
        assert auth.authenticate(files, NOW).valid
        timed(
            f"passive authentication, {len(extra) + 1} CSCAs in the store",
            lambda a=auth: a.authenticate(files, NOW),
            20 if quick else 100,
        )


def main() -> None:
    quick = "--quick" in sys.argv
    lookup_and_import(quick)
    if quick:
        return
    for algorithm in ("rsa2048", "ecdsa-p256", "ecdsa-brainpoolP256r1"):
        timed(f"key generation {algorithm}", lambda a=algorithm: pki.generate_key(a), 10)
    for algorithm in pki.ALGORITHMS:
        p = pki.make_test_pki(algorithm=algorithm, now=NOW)
        timed(f"build EF.SOD {algorithm}", lambda p=p: pki.build_sod(DGS, p.ds_cert, p.ds_key), 30)
        raw = pki.build_sod(DGS, p.ds_cert, p.ds_key)
        files = {"EF.SOD": raw, **{f"DG{n}": b for n, b in DGS.items()}}
        store = CscaStore.from_certificates([p.csca_der()], [p.crl(now=NOW)])
        auth = PassiveAuthenticator(store)
        assert auth.authenticate(files, NOW).valid
        timed(
            f"passive authentication {algorithm}",
            lambda a=auth, f=files: a.authenticate(f, NOW),
            50,
        )
    members = [
        pki.make_test_pki(f"Q{chr(65 + i // 26)}{chr(65 + i % 26)}", now=NOW) for i in range(60)
    ]
    state = pki.make_test_pki("MLA", now=NOW)
    key = pki.cached_key("rsa2048", "bench/mls")
    signer = pki.make_master_list_signer(state.csca_cert, state.csca_key, key.public_key(), now=NOW)
    ml = pki.make_master_list([state.csca_cert, *(m.csca_cert for m in members)], signer, key)
    timed(
        f"import a master list of {len(members) + 1} CSCAs",
        lambda: CscaStore.from_certificates([state.csca_der()]).add_master_list(
            ml, "bench", at=NOW
        ),  # signed under a provisioned anchor, as every list must be
        10,
    )


if __name__ == "__main__":
    main()
