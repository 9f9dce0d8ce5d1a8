"""Services that follow the reference data synced from the border database.

Trust anchors, CRLs, master lists and policy packs arrive in the local
reference store at any time (BorderSync, `egate trust import`); these wrappers
notice a change (a cheap count/newest-import query per traveller) and rebuild
what depends on it, so a new CSCA or pack applies to the next traveller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kiosk.clock import as_utc
from kiosk.decision.policy_adapter import PackPolicy
from kiosk.ports import AuthenticityResult, PolicyDecision
from kiosk.store.reference import ReferenceStore
from kiosk.trust.deviation_list import DEFAULT_DEVIATION_POLICY, DeviationPolicy
from kiosk.trust.passive import PassiveAuthenticator
from kiosk.trust.store import (
    KIND_ANCHOR,
    KIND_CRL,
    KIND_CSCA,
    KIND_DEVIATION_LIST,
    KIND_DSC,
    KIND_MASTER_LIST,
    CscaStore,
)
from policy.case import Case

log = logging.getLogger(__name__)

# Every kind CscaStore.from_reference_store reads: a deviation list imported on a
# running kiosk applies to the next traveller, not after a restart.
TRUST_KINDS = (KIND_ANCHOR, KIND_CSCA, KIND_DSC, KIND_CRL, KIND_MASTER_LIST, KIND_DEVIATION_LIST)
POLICY_PACK_KIND = "policy_pack"
REFERENCE_ORIGIN = "reference:"
SYNC_HEARTBEAT = ("border_sync", "last_pull")


class TrustFromReference:
    """kiosk.ports.DocumentAuthenticator over the current local trust store."""

    def __init__(
        self, store: ReferenceStore, deviation_policy: DeviationPolicy = DEFAULT_DEVIATION_POLICY
    ) -> None:
        self.store = store
        self.deviation_policy = deviation_policy
        self._lock = threading.Lock()
        self._stamp: tuple[int, datetime | None] | None = None
        self._auth = PassiveAuthenticator(CscaStore(), deviation_policy=deviation_policy)

    def current(self) -> PassiveAuthenticator:
        stamp = self.store.fingerprint(TRUST_KINDS)
        with self._lock:
            if stamp != self._stamp:
                trust = CscaStore.from_reference_store(self.store)
                for problem in trust.load_errors:
                    log.warning("trust store: %s", problem)
                self._auth = PassiveAuthenticator(trust, deviation_policy=self.deviation_policy)
                self._stamp = stamp
            return self._auth

    def authenticate(self, files: Mapping[str, bytes], at: datetime) -> AuthenticityResult:
        return self.current().authenticate(files, at)


class PolicyFromReference:
    """kiosk.ports.EntryPolicy: the shipped packs plus packs synced as reference data.
    A synced pack that fails validation is rejected and the last good one stays."""

    def __init__(self, policy: PackPolicy, store: ReferenceStore) -> None:
        self.policy = policy
        self.store = store
        self._lock = threading.Lock()
        self._stamp: tuple[int, datetime | None] | None = None

    def _refresh(self) -> None:
        stamp = self.store.fingerprint((POLICY_PACK_KIND,))
        with self._lock:
            if stamp == self._stamp:
                return
            current = set()
            for item in self.store.items(POLICY_PACK_KIND):
                origin = f"{REFERENCE_ORIGIN}{item.key}"
                current.add(origin)
                load = self.policy.install(item.payload, origin=origin)
                if not load.accepted:
                    log.warning("policy pack %s rejected: %s", item.key, load.message)
            # A pack withdrawn at the border stops applying at once, not at restart.
            for origin in self.policy.origins():
                if origin.startswith(REFERENCE_ORIGIN) and origin not in current:
                    self.policy.withdraw(origin)
                    log.info("policy pack %s withdrawn", origin)
            self._stamp = stamp

    def evaluate(self, case: Case | Mapping[str, Any]) -> PolicyDecision:
        self._refresh()
        return self.policy.evaluate(case)


def reference_age_h(store: ReferenceStore, now: datetime) -> float | None:
    """Hours since the border database last confirmed the reference data (the
    sync's heartbeat); None when this kiosk has never synced."""
    beat = store.get(*SYNC_HEARTBEAT)
    if beat is None:
        return None
    return max(0.0, (now - as_utc(beat.imported_at)).total_seconds() / 3600.0)
