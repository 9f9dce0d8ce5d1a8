"""`egate storage migrate|purge`: schema upgrades and the privacy purge, for the package.

The Debian package's postinst runs `migrate` on install and upgrade; the systemd timer
egate-purge.timer runs `purge` hourly, so referral images are gone at their retention
even on a lane no traveller uses.
"""

from __future__ import annotations

import argparse
from typing import Any

from kiosk.cli.common import add_common_options, config_from_args, print_json


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("storage", help="local database maintenance (migrate, purge)")
    sub = p.add_subparsers(dest="storage_command", metavar="SUBCOMMAND", required=True)
    migrate = sub.add_parser("migrate", help="create or upgrade the local database schema")
    add_common_options(migrate)
    migrate.set_defaults(func=run_migrate)
    purge = sub.add_parser("purge", help="delete referral images past their retention")
    add_common_options(purge)
    purge.set_defaults(func=run_purge)


def run_migrate(args: argparse.Namespace) -> int:
    from sqlalchemy import text

    from kiosk.config import expand_url
    from kiosk.store.database import open_local

    config = config_from_args(args)
    engine = open_local(expand_url(config.storage.local_url))  # applies every migration
    with engine.connect() as c:
        revision = c.execute(text("SELECT version_num FROM alembic_version")).scalar()
    result = {"local_url": config.storage.local_url, "revision": revision}
    if args.json:
        print_json(result)
    else:
        print(f"local database at revision {revision}")
    return 0


def run_purge(args: argparse.Namespace) -> int:
    from kiosk.clock import SystemClock
    from kiosk.config import expand_url
    from kiosk.runtime.app import ReferralImages
    from kiosk.store.database import open_local

    config = config_from_args(args)
    engine = open_local(expand_url(config.storage.local_url))
    deleted = ReferralImages(
        engine, config.privacy.referral_image_retention_h, SystemClock()
    ).purge()
    if args.json:
        print_json({"deleted": deleted})
    else:
        print(f"{deleted} referral image(s) past retention deleted")
    return 0
