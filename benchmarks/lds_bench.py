"""LDS figures: document factory, parsing each file type, decoding the DG2 portrait.

Run: .venv/bin/python benchmarks/lds_bench.py
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date

from devices.icao9303.lds.dg1 import DataGroup1
from devices.icao9303.lds.dg2 import DataGroup2
from devices.icao9303.lds.dg14 import DataGroup14
from devices.icao9303.lds.dg15 import DataGroup15
from devices.icao9303.lds.ef_com import EfCom
from devices.simulated.factory import default_face_jpeg, make_document
from devices.simulated.pki import make_test_pki

TODAY = date.today()


def timed(label: str, fn: Callable[[], object], runs: int) -> None:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    p95 = sorted(samples)[int(0.95 * (len(samples) - 1))]
    print(f"{label:<44} median {statistics.median(samples):8.3f} ms   p95 {p95:8.3f} ms   n={runs}")


def main() -> None:
    start = time.perf_counter()
    pki = make_test_pki("UTO")
    elapsed = 1000 * (time.perf_counter() - start)
    print(f"{'test PKI (first use in the process)':<44} {elapsed:8.1f} ms")
    default_face_jpeg()
    timed("make_document (default spec, shared PKI)", lambda: make_document(pki=pki), 20)
    timed("make_document defect huge_dg2", lambda: make_document(pki=pki, defects=["huge_dg2"]), 5)
    passport = make_document(pki=pki, now=TODAY)
    files = passport.files
    print(f"DG2 size {len(files['DG2'])} bytes; portrait {len(passport.face_image or b'')} bytes")
    timed("EF.COM parse", lambda: EfCom.parse(files["EF.COM"]), 1000)
    timed("DG1 parse (all check digits)", lambda: DataGroup1.parse(files["DG1"]), 1000)
    timed("DG2 parse (19794-5 record)", lambda: DataGroup2.parse(files["DG2"]), 1000)
    face = DataGroup2.parse(files["DG2"]).face
    timed("DG2 portrait decode to RGB (360x480 JPEG)", face.decode, 50)
    timed("DG14 parse (SecurityInfos)", lambda: DataGroup14.parse(files["DG14"]), 1000)
    timed("DG15 parse + public key", lambda: DataGroup15.parse(files["DG15"]).public_key(), 1000)


if __name__ == "__main__":
    main()
