"""Passive authentication figures: key generation, EF.SOD build, verification per
signature algorithm, master list import.

Run: .venv/bin/python benchmarks/trust_bench.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from devices.simulated import pki
from kiosk.trust import CscaStore, PassiveAuthenticator

NOW = datetime.now(UTC)
DGS = {1: b"\x61" * 93, 2: b"\x75" * 20_000, 14: b"\x6e" * 300, 15: b"\x6f" * 170}


def timed(label: str, fn: Callable[[], object], runs: int) -> None:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    print(
        f"{label:<52} median {statistics.median(samples):7.2f} ms"
        f"   p95 {sorted(samples)[int(0.95 * (len(samples) - 1))]:7.2f} ms   n={runs}"
    )


def main() -> None:
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
