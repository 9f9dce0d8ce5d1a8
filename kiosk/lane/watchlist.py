"""Watchlist check against reference data synced from the border database.

Entries are stored as reference items of kind "watchlist", keyed
"ISSUING_STATE:DOCUMENT_NUMBER". A hit refers the traveller; the lane never
tells the traveller why (kiosk.lane.machine.SENSITIVE_REASONS).
"""

from __future__ import annotations

from kiosk.lane.facts import DocumentFacts
from kiosk.store.reference import ReferenceStore

KIND = "watchlist"


def watchlist_key(issuing_state: str, document_number: str) -> str:
    return f"{issuing_state.upper()}:{document_number.upper()}"


class Watchlist:
    def __init__(self, store: ReferenceStore) -> None:
        self.store = store

    def add(self, issuing_state: str, document_number: str, provenance: str) -> None:
        self.store.put(KIND, watchlist_key(issuing_state, document_number), b"", provenance)

    def __call__(self, facts: DocumentFacts) -> bool:
        # Read per transaction: a sync may have changed the list since the last one.
        key = watchlist_key(facts.issuing_state, facts.document_number)
        return self.store.get(KIND, key) is not None
