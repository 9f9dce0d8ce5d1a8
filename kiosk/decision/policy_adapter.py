"""PackPolicy: the kiosk's EntryPolicy over the pure policy engine.

Holds the shipped packs plus any extra packs (config policy.pack_dir, or text
synced from the border database). A pack that fails validation is rejected with
a message and never replaces the last good pack from the same origin, so a bad
update cannot leave a lane without rules.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.ports import PolicyDecision
from policy.case import Case, parse_case
from policy.engine import Decision, decide
from policy.errors import CaseError, NoPackInForce, PackError
from policy.messages import LANGUAGES, traveller_messages
from policy.pack import PolicyPack, parse_pack, select_pack
from policy.shipped import shipped_packs

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackLoad:
    """The outcome of offering one pack text to the policy."""

    origin: str
    accepted: bool
    message: str
    pack: PolicyPack | None = None


class PackPolicy:
    """kiosk.ports.EntryPolicy implemented with dated policy packs."""

    def __init__(
        self,
        pack_dir: str | Path | None = None,
        *,
        reference_max_age_h: float | None = None,
        include_shipped: bool = True,
        extra_packs: Iterable[PolicyPack] = (),
    ) -> None:
        self._reference_max_age_h = reference_max_age_h
        self._shipped: dict[str, PolicyPack] = (
            {p.origin: p for p in shipped_packs()} if include_shipped else {}
        )
        self._extra: dict[str, PolicyPack] = {p.origin: p for p in extra_packs}
        self._pack_dir = Path(pack_dir) if pack_dir else None
        self._problems: dict[str, str] = {}
        # The sync worker installs packs while the lane thread evaluates.
        self._lock = threading.RLock()
        if self._pack_dir is not None:
            self.reload()

    @classmethod
    def from_config(cls, config: Config) -> PackPolicy:
        return cls(
            config.policy.pack_dir or None,
            reference_max_age_h=config.policy.reference_max_age_h,
        )

    @property
    def packs(self) -> tuple[PolicyPack, ...]:
        """Every pack currently usable, shipped first."""
        with self._lock:
            return (*self._shipped.values(), *self._extra.values())

    @property
    def problems(self) -> tuple[str, ...]:
        """Why offered packs were rejected (current state, one line per origin)."""
        with self._lock:
            return tuple(self._problems.values())

    def install(self, text: str | bytes, origin: str) -> PackLoad:
        """Validate a pack and use it; on failure keep whatever `origin` had before."""
        with self._lock:
            return self._install(text, origin)

    def withdraw(self, origin: str) -> bool:
        """Stop using the pack from `origin` (e.g. withdrawn at the border); True if
        one was in use."""
        with self._lock:
            self._problems.pop(origin, None)
            return self._extra.pop(origin, None) is not None

    def origins(self) -> tuple[str, ...]:
        """Origins of the packs installed besides the shipped ones."""
        with self._lock:
            return tuple(self._extra)

    def _install(self, text: str | bytes, origin: str) -> PackLoad:
        try:
            pack = parse_pack(text, origin=origin)
            self._check_conflict(pack)
        except PackError as exc:
            kept = self._extra.get(origin)
            keeping = (
                f"; keeping the last good pack {kept.id} {kept.version}"
                if kept
                else "; no pack from this origin is in use"
            )
            message = f"rejected: {exc}{keeping}"
            self._problems[origin] = message
            log.warning("policy pack %s", message)
            return PackLoad(origin, False, message, kept)
        self._extra[origin] = pack
        self._problems.pop(origin, None)
        message = f"accepted {pack.id} {pack.version} (sha256 {pack.sha256[:12]})"
        log.info("policy pack %s: %s", origin, message)
        return PackLoad(origin, True, message, pack)

    def _check_conflict(self, pack: PolicyPack) -> None:
        for other in self.packs:
            if other.origin == pack.origin:
                continue
            if (other.id, other.version) == (pack.id, pack.version) and (
                other.sha256 != pack.sha256
            ):
                raise PackError(
                    pack.origin,
                    "pack.version",
                    f"{pack.id} {pack.version} differs from the one already loaded from "
                    f"{other.origin}; publish it under a new version",
                )

    def reload(self) -> list[PackLoad]:
        """Re-read every *.toml in pack_dir; unreadable or invalid files keep their last good
        pack, files that disappeared are dropped."""
        with self._lock:
            return self._reload()

    def _reload(self) -> list[PackLoad]:
        if self._pack_dir is None:
            return []
        results: list[PackLoad] = []
        where = str(self._pack_dir)
        try:
            if not self._pack_dir.is_dir():
                raise NotADirectoryError(f"{where} is not a directory")
            files = sorted(self._pack_dir.glob("*.toml"))
        except OSError as exc:
            message = f"rejected: cannot list policy.pack_dir ({exc}); keeping loaded packs"
            self._problems[where] = message
            log.warning("policy %s", message)
            return [PackLoad(where, False, message)]
        self._problems.pop(where, None)
        present = {str(f) for f in files}
        for origin in [o for o in self._extra if Path(o).parent == self._pack_dir]:
            if origin not in present:
                del self._extra[origin]
                self._problems.pop(origin, None)
        for f in files:
            try:
                raw = f.read_bytes()
            except OSError as exc:
                kept = self._extra.get(str(f))
                message = f"rejected: {f}: cannot read ({exc.strerror}); keeping last good pack"
                self._problems[str(f)] = message
                results.append(PackLoad(str(f), False, message, kept))
                continue
            results.append(self._install(raw, str(f)))
        return results

    def decide(self, case: Case | Mapping[str, Any]) -> Decision:
        """The engine's full decision; raises CaseError or NoPackInForce. A case in
        its JSON form (CLI, tests) is parsed first; the lane hands a typed Case."""
        parsed = case if isinstance(case, Case) else parse_case(case)
        pack = select_pack(self.packs, parsed.port, parsed.now)
        if pack is None:
            raise NoPackInForce(
                f"no valid policy pack covers port {parsed.port} on {parsed.now.isoformat()}"
            )
        return decide(parsed, pack, max_reference_age_hours=self._reference_max_age_h)

    def evaluate(self, case: Case | Mapping[str, Any]) -> PolicyDecision:
        """EntryPolicy.evaluate: never raises on bad facts; refers with a reason instead."""
        try:
            parsed = case if isinstance(case, Case) else parse_case(case)
        except CaseError as exc:
            return case_invalid(exc)
        pack = select_pack(self.packs, parsed.port, parsed.now)
        if pack is None:
            return _referral(
                "no_policy_in_force",
                f"No valid policy pack covers {parsed.port} on {parsed.now.isoformat()}.",
            )
        decision = decide(parsed, pack, max_reference_age_hours=self._reference_max_age_h)
        return to_policy_decision(decision)


def to_policy_decision(decision: Decision) -> PolicyDecision:
    raw = decision.to_json()
    return PolicyDecision(
        decision=decision.decision,
        basis=decision.basis,
        reasons=decision.reasons,
        permitted_until=raw["permitted_until"],
        pack_id=decision.pack_id,
        pack_version=decision.pack_version,
        trace=decision.trace,
        raw=raw,
    )


def case_invalid(exc: CaseError) -> PolicyDecision:
    """The referral for facts that cannot be put in a case (the engine never sees them)."""
    return _referral("case_invalid", f"The case could not be read: {exc}.")


def _referral(code: str, text: str) -> PolicyDecision:
    trace = (text, f"Decision: refer to an officer ({code}).")
    raw: dict[str, Any] = {
        "decision": "refer",
        "basis": None,
        "reasons": [code],
        "permitted_until": None,
        "pack": {"id": "", "version": ""},
        "trace": list(trace),
        "traveller_messages": {lang: traveller_messages((code,), lang) for lang in LANGUAGES},
        "case_id": None,
    }
    return PolicyDecision("refer", None, (code,), None, "", "", trace, raw)
