"""Is a boarding pass the carrier's? BCBP security data against carrier keys the
border distributes.

Anyone can print a BCBP barcode ("carrier XX, flight 1"), so a pass is evidence
of an onward journey only when its security data (IATA Resolution 792: '^',
type, length, data after the last leg) is a signature, by a key the border
vouches for, of the carrier of the leg that takes the traveller abroad.

Profile (IATA leaves the algorithm to the carrier; the kiosk accepts one):
type 'E' = ECDSA P-256 with SHA-256 over the ASCII text before the '^', the DER
signature in base64 (at most 96 characters, within BCBP's 255). Carrier keys are
reference data (kind `carrier_key`, key the airline designator, optionally
`:label` for rotation, payload the PEM public key), published with
`egate border publish carrier_key KEY.pem --key CA` and pulled like the
watchlist. Anything else -- no security data, another type, an unknown carrier,
a bad signature -- leaves the pass "shown, not verified" and the lane refers.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kiosk.store.reference import ReferenceStore
from policy.bcbp import BcbpLeg, BoardingPass

KIND_CARRIER_KEY: Final = "carrier_key"
SECURITY_TYPE: Final = "E"
Keys = dict[str, list[ec.EllipticCurvePublicKey]]  # airline designator -> its keys
_DESIGNATOR: Final = re.compile(r"^[A-Z0-9]{2,3}(:[A-Za-z0-9._-]{1,40})?\Z")


class CarrierKeyError(ValueError):
    """A carrier key (file or reference item) that cannot be used."""


def load_carrier_key(pem: bytes) -> ec.EllipticCurvePublicKey:
    """A carrier's public key: PEM, ECDSA on P-256 only."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise CarrierKeyError(f"not a PEM public key ({exc})") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise CarrierKeyError("a carrier key must be an ECDSA P-256 public key")
    return key


def carrier_of(key: str) -> str:
    """The airline designator a reference key names (CarrierKeyError if malformed)."""
    if not _DESIGNATOR.match(key):
        raise CarrierKeyError(f"carrier key name {key!r} is not DESIGNATOR or DESIGNATOR:LABEL")
    return key.split(":", 1)[0].strip()


def sign_boarding_pass(text: str, private_key: ec.EllipticCurvePrivateKey) -> str:
    """`text` (a BCBP without security data) with the carrier's signature appended:
    what a carrier's departure-control system prints; used by tests and the simulator."""
    signature = private_key.sign(text.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    data = base64.b64encode(signature).decode("ascii")
    return f"{text}^{SECURITY_TYPE}{len(data):02X}{data}"


@dataclass(frozen=True)
class Verification:
    verified: bool
    detail: str  # why, in words the officer reads


def verify_boarding_pass(
    bp: BoardingPass, leg: BcbpLeg, keys: Keys
) -> Verification:
    """Whether `bp`'s security data is a signature by the carrier of `leg`
    (operating or marketing) with a key in `keys` (designator -> keys)."""
    carriers = [c for c in (leg.carrier, leg.marketing_carrier) if c]
    if bp.security_data is None:
        return Verification(False, "boarding pass shown, not verified: it carries no security "
                                   "data (anyone can print such a barcode)")
    if bp.security_type != SECURITY_TYPE:
        return Verification(False, f"boarding pass shown, not verified: security data type "
                                   f"{bp.security_type!r} is not one the kiosk checks")
    candidates = [(c, k) for c in carriers for k in keys.get(c, [])]
    if not candidates:
        return Verification(False, f"boarding pass shown, not verified: no key of carrier "
                                   f"{'/'.join(carriers)} is distributed by the border")
    try:
        signature = base64.b64decode(bp.security_data, validate=True)
    except (binascii.Error, ValueError):
        return Verification(False, "boarding pass shown, not verified: the security data is "
                                   "not a base64 signature")
    message = bp.signed_text.encode("ascii")
    for carrier, key in candidates:
        try:
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            continue
        return Verification(True, f"boarding pass signed by carrier {carrier}")
    return Verification(False, f"boarding pass shown, not verified: the signature is not "
                               f"carrier {'/'.join(carriers)}'s")


class KeySource(Protocol):
    def keys(self) -> Keys: ...


@dataclass(frozen=True)
class StaticCarrierKeys:
    """Fixed keys (designator -> PEM public keys): tests and `egate policy boarding-pass`."""

    pem: dict[str, list[bytes]]

    def keys(self) -> Keys:
        return keys_from_items((c, p) for c, pems in self.pem.items() for p in pems)


class CarrierKeys:
    """The carrier keys in the kiosk's reference data, read afresh for each pass
    (a withdrawn key stops counting at the next pull)."""

    def __init__(self, store: ReferenceStore) -> None:
        self.store = store

    def keys(self) -> dict[str, list[ec.EllipticCurvePublicKey]]:
        return keys_from_items((item.key, item.payload)
                               for item in self.store.items(KIND_CARRIER_KEY))


def keys_from_items(items: Iterable[tuple[str, bytes]]) -> Keys:
    out: Keys = {}
    for name, payload in items:
        try:
            out.setdefault(carrier_of(name), []).append(load_carrier_key(payload))
        except CarrierKeyError:
            continue  # refused at publication; a damaged copy verifies nothing
    return out
