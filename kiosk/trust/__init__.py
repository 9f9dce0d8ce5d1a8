"""Document authenticity: passive authentication against the CSCA trust store
(ICAO 9303-11 5.1 and 9303-12). See docs/trust.md for the trust model."""

from kiosk.trust.errors import (
    InvalidSignatureError,
    MalformedInputError,
    TrustError,
    UnsupportedAlgorithmError,
)
from kiosk.trust.masterlist import MasterList, MasterListError, verify_master_list
from kiosk.trust.passive import REASON_CODES, PassiveAuthenticator, PassiveVerifier, Verdict
from kiosk.trust.store import CscaStore

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
