"""Policy and boarding-pass figures: decisions per second, pack loading, BCBP decoding.

Run: .venv/bin/python benchmarks/policy_bench.py
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

from kiosk.decision.journey.barcode import decode_barcodes
from kiosk.decision.policy_adapter import PackPolicy
from policy.bcbp import parse_bcbp
from policy.engine import evaluate
from policy.shipped import shipped_packs

REPO = Path(__file__).resolve().parents[1]
CASE = json.loads((REPO / "docs/examples/policy/entry-transit-240h-admit.json").read_text())
BCBP = (
    "M2DESMARAIS/LUC       EABC123 YULFRAAC 0834 226F001A0025 14D>6181WW6225BAC 0014123456"
    "0032A0141234567890 1AC AC 1234567890123    20KYLX58ZDEF456 FRAGVALH 3664 227C012C0002"
    " 12E2A0140987654321 1AC AC 1234567890123    2PCNWQ^164GIWVC5EH7JNT684FVNJ91W2QA4DVN5J"
    "8K4F0L0GEQ3DF5TGBN8709HKT5D3DW3GBHFCVHMY7J5T6HFR41W2QA4DVN5J8K4F0L0GE"
)


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and 95th percentile of `repeat` runs, in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def frame_with(fmt: zxingcpp.BarcodeFormat) -> np.ndarray:
    symbol = np.asarray(zxingcpp.create_barcode(BCBP, fmt).to_image(scale=1))
    h, w = symbol.shape
    k = max(2, int(min(1000 / w, 600 / h)))
    symbol = cv2.resize(symbol, (w * k, h * k), interpolation=cv2.INTER_NEAREST)
    frame = np.full((720, 1280), 150, dtype=np.uint8)
    y, x = (720 - symbol.shape[0]) // 2, (1280 - symbol.shape[1]) // 2
    frame[y : y + symbol.shape[0], x : x + symbol.shape[1]] = symbol
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def main() -> None:
    packs = shipped_packs()
    med, p95 = timed(lambda: evaluate(CASE, packs), 2000)
    print(
        f"evaluate (example case, shipped packs): median {med:.3f} ms, p95 {p95:.3f} ms, "
        f"{1000 / med:.0f} decisions/s"
    )
    policy = PackPolicy()
    med, p95 = timed(lambda: policy.evaluate(CASE), 2000)
    print(f"PackPolicy.evaluate: median {med:.3f} ms, p95 {p95:.3f} ms")
    med, p95 = timed(PackPolicy, 50)
    print(f"PackPolicy() (load + validate shipped packs): median {med:.2f} ms, p95 {p95:.2f} ms")
    med, p95 = timed(lambda: parse_bcbp(BCBP), 5000)
    print(f"parse_bcbp (2 legs + security): median {med * 1000:.1f} us, p95 {p95 * 1000:.1f} us")
    blank = np.full((720, 1280, 3), 150, dtype=np.uint8)
    med, p95 = timed(lambda: decode_barcodes(blank), 30)
    print(f"decode_barcodes 1280x720, no symbol: median {med:.1f} ms, p95 {p95:.1f} ms")
    for name, fmt in (
        ("PDF417", zxingcpp.BarcodeFormat.PDF417),
        ("Aztec", zxingcpp.BarcodeFormat.Aztec),
        ("QR", zxingcpp.BarcodeFormat.QRCode),
    ):
        frame = frame_with(fmt)
        assert decode_barcodes(frame) == [BCBP]
        med, p95 = timed(lambda f=frame: decode_barcodes(f), 30)
        print(f"decode_barcodes 1280x720, {name}: median {med:.1f} ms, p95 {p95:.1f} ms")


if __name__ == "__main__":
    main()
