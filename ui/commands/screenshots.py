"""`egate screenshots --out DIR`: every traveller screen in every language, offscreen."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

from kiosk.cli.common import CommandError, print_json
from ui.progress import Progress


def register(sub: Any) -> None:
    p = sub.add_parser("screenshots", help="render every traveller screen to PNG (offscreen)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--lang", action="append", metavar="CODE",
                   help="only this language (repeatable); default all five")
    p.add_argument("--size", action="append", metavar="WxH",
                   help="only this size (repeatable); default 1920x1080 and 1080x1920")
    p.add_argument("--screen", action="append", metavar="NAME", help="only this screen")
    p.add_argument("--high-contrast", action="store_true")
    p.add_argument("--no-camera", action="store_true",
                   help="face screen without a camera picture (smaller files, docs/screens)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ui.screenshots import LANGUAGES, SCREENS, SIZES, StillCamera, layout_problems, render, save

    languages = tuple(args.lang or LANGUAGES)
    for lang in languages:
        if lang not in LANGUAGES:
            raise CommandError("bad_argument", f"--lang {lang}: have {', '.join(LANGUAGES)}")
    sizes = []
    for text in args.size or []:
        m = re.fullmatch(r"(\d{3,5})x(\d{3,5})", text)
        if not m:
            raise CommandError("bad_argument", f"--size {text!r}: expected WxH, e.g. 1920x1080")
        sizes.append((int(m.group(1)), int(m.group(2))))
    screens = tuple(args.screen or SCREENS)
    for name in screens:
        if name not in SCREENS:
            raise CommandError("bad_argument", f"--screen {name}: have {', '.join(SCREENS)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    problems: list[str] = []
    camera = None if args.no_camera else StillCamera()
    chosen_sizes = tuple(sizes) or SIZES
    with Progress("egate screenshots", len(languages) * len(chosen_sizes) * len(screens)) as bar:
        for rendered in render(languages, chosen_sizes, screens, args.high_contrast, camera):
            written.append(str(save(out, rendered)))
            problems += [f"{rendered.language} {rendered.screen} {rendered.size}: {p}"
                         for p in layout_problems(rendered.window, rendered.size)]
            w, h = rendered.size
            bar.advance(f"{rendered.language} {rendered.screen} {w}x{h}")
    if args.json:
        print_json({"written": written, "layout_problems": problems})
    else:
        mode = " (high contrast)" if args.high_contrast else ""
        print(f"{len(written)} screenshots{mode} in {out} in {bar.elapsed_s:.0f} s, "
              f"{len(problems)} layout problems")
        for p in problems:
            print(f"layout: {p}")
    return 1 if problems else 0
