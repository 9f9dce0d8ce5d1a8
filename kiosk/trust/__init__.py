"""Document authenticity: passive authentication against the CSCA trust store
(ICAO 9303-11 5.1 and 9303-12). See docs/trust.md for the trust model."""

from typing import TYPE_CHECKING, Any

from kiosk.trust.errors import (
    InvalidSignatureError,
    MalformedInputError,
    TrustError,
    UnsupportedAlgorithmError,
)
from kiosk.trust.masterlist import MasterList, MasterListError, verify_master_list
from kiosk.trust.store import CscaStore

if TYPE_CHECKING:
    from kiosk.trust.passive import REASON_CODES, PassiveAuthenticator, PassiveVerifier, Verdict

# Imported on first use: passive authentication brings DG1/MRZ parsing (and numpy
# with it), which `egate trust import` does not need and paid for at every start.
_PASSIVE = frozenset({"REASON_CODES", "PassiveAuthenticator", "PassiveVerifier", "Verdict"})


def __getattr__(name: str) -> Any:
    if name in _PASSIVE:
        from kiosk.trust import passive

        return getattr(passive, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "REASON_CODES",
    "CscaStore",
    "InvalidSignatureError",
    "MalformedInputError",
    "MasterList",
    "MasterListError",
    "PassiveAuthenticator",
    "PassiveVerifier",
    "TrustError",
    "UnsupportedAlgorithmError",
    "Verdict",
    "verify_master_list",
]
