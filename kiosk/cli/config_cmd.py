"""`egate config check|show`: validate a configuration before a kiosk starts on it."""

from __future__ import annotations

import argparse
from typing import Any

from msgspec.structs import asdict

from kiosk.cli.common import add_common_options, config_from_args, print_json
from kiosk.config import border_url, expand_url


def register(sub: Any) -> None:
    group = sub.add_parser("config", help="check or show the configuration")
    gsub = group.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    for name, help_text in (
        ("check", "validate the configuration; exit 78 when it is invalid"),
        ("show", "print the effective configuration (defaults filled in)"),
    ):
        p = gsub.add_parser(name, help=help_text)
        add_common_options(p)
        p.set_defaults(func=run, action=name)


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    data: dict[str, Any] = {
        name: asdict(getattr(config, name)) for name in config.__struct_fields__
    }
    data["effective"] = {
        "local_url": expand_url(config.storage.local_url),
        "border_url": border_url(config),
    }
    if args.action == "check":
        if args.json:
            print_json({"valid": True, "kiosk": data["kiosk"]})
        else:
            print(f"configuration valid: kiosk {config.kiosk.id} at {config.kiosk.port}")
        return 0
    if args.json:
        print_json(data)
    else:
        for section, values in data.items():
            print(f"[{section}]")
            for key, value in values.items():
                print(f"{key} = {value!r}")
    return 0
