"""The kiosk's sync with the border database (docs/border.md, "The sync protocol").

mapping: a local event as the border row. local_chain: the local log read and
verified link by link for the push. push: the outbox up. pull: reference data
down. loop: BorderSync, the cycle composing them.
Import other names from their module; only the two every caller needs are here.
"""

from kiosk.border.sync.common import SyncResult
from kiosk.border.sync.loop import BorderSync

__all__ = ["BorderSync", "SyncResult"]
