"""`egate mrz read`: the MRZ off images of passport data pages (the chip's access key)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from kiosk.cli.common import add_common_options, print_json

# Exit status when at least one image gave no valid MRZ (documented in docs/cli.md).
NOT_ALL_VALID = 3


def register(subparsers: Any) -> None:
    mrz = subparsers.add_parser("mrz", help="machine-readable zone tools")
    sub = mrz.add_subparsers(dest="mrz_command", metavar="SUBCOMMAND", required=True)
    read = sub.add_parser(
        "read",
        help="read the MRZ off data-page images",
        description="Locate, OCR and check-digit-verify the MRZ of each IMAGE.",
    )
    read.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, ...)")
    add_common_options(read)
    read.set_defaults(func=run_read)


def load_image(path: Path) -> Any:
    """The image as BGR pixels, or None. Decoded by Pillow, which refuses malformed and
    decompression-bomb files with an exception (OpenCV's decoders crashed the process
    on a hostile file in the property test)."""
    import io

    import numpy as np
    from PIL import Image

    from kiosk.safe_files import IMAGE_MAX_BYTES, UnsafeFileError, read_input

    try:  # a regular file, bounded (a FIFO or /dev/zero is not an image)
        data = read_input(path, IMAGE_MAX_BYTES)
    except UnsafeFileError:
        return None
    try:
        with Image.open(io.BytesIO(data)) as img:
            rgb = np.asarray(img.convert("RGB"), dtype=np.uint8)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, MemoryError):
        return None
    return np.ascontiguousarray(rgb[:, :, ::-1])


def run_read(args: argparse.Namespace) -> int:
    from devices.mrz.reader import read_image

    results: list[dict[str, Any]] = []
    for name in args.images:
        image = load_image(Path(name))
        if image is None:
            entry: dict[str, Any] = {
                "found": False,
                "valid": False,
                "mrz": [],
                "fields": {},
                "check_digits": {},
                "ms": 0.0,
                "problem": "unreadable image",
            }
        else:
            entry = read_image(image).to_json()
        results.append({"image": name, **entry})
    if args.json:
        print_json(results)
    else:
        for r in results:
            state = "valid" if r["valid"] else ("found, invalid" if r["found"] else "not found")
            print(f"{r['image']}: {state} ({r['ms']:.0f} ms)")
            for line in r["mrz"]:
                print(f"  {line}")
            if r.get("problem"):
                print(f"  {r['problem']}")
    return 0 if all(r["valid"] for r in results) else NOT_ALL_VALID
