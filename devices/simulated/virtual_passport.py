"""A virtual ePassport: its elementary files, access keys and chip private keys.

What the chip emulator serves and what `egate passport make` writes. On disk it is a
directory of raw EFs named as a reader writes them (EF.COM, EF.SOD, EF.CardAccess,
DG1.bin ...), the private keys as PEM, the CSCA certificate as `csca.pem` and a
`manifest.json` tying them together.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import load_der_x509_certificate, load_pem_x509_certificate

from devices.protocols import MrzKey

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "egate-virtual-passport"
MANIFEST_VERSION = 1
CSCA_FILE = "csca.pem"
DS_FILE = "document_signer.pem"
CA_KEY_FILE = "chip_authentication_key.pem"
AA_KEY_FILE = "active_authentication_key.pem"
FACE_FILE = "face.jpg"
# File key -> file name on disk (the names `egate passport read --out` uses).
FILE_NAMES: dict[str, str] = {
    "EF.COM": "EF.COM",
    "EF.SOD": "EF.SOD",
    "EF.CardAccess": "EF.CardAccess",
    **{f"DG{n}": f"DG{n}.bin" for n in range(1, 17)},
}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class VirtualPassportError(ValueError):
    """A virtual passport directory or description that cannot be used."""


def _load_private_key(der: bytes | None) -> PrivateKey | None:
    if der is None:
        return None
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise VirtualPassportError("chip private keys must be RSA or EC")
    return key


def private_key_der(key: PrivateKey) -> bytes:
    """PKCS#8 DER of `key`, the form VirtualPassport stores."""
    return key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass
class VirtualPassport:
    """Everything a chip emulator needs, plus the trust anchor to verify it."""

    files: dict[str, bytes]
    mrz: tuple[str, ...]
    document_number: str
    birth_date: str  # YYMMDD, as used in the BAC/PACE key
    expiry_date: str  # YYMMDD
    can: str
    pace: bool = True
    bac: bool = True
    extended_length: bool = True
    pace_parameter_id: int | None = 12
    pace_mapping: str = "GM"  # GM, IM or CAM: what EF.CardAccess offers
    ca_private_key: bytes | None = None  # PKCS#8 DER; public part in DG14
    aa_private_key: bytes | None = None  # PKCS#8 DER; public part in DG15
    csca_cert_der: bytes = b""
    ds_cert_der: bytes | None = None
    face_image: bytes | None = None  # the portrait as encoded into DG2
    defects: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)  # free-form facts for the manifest

    def mrz_key(self) -> MrzKey:
        """The MRZ-derived BAC/PACE password."""
        return MrzKey(self.document_number, self.birth_date, self.expiry_date)

    def can_key(self) -> MrzKey:
        """The CAN as PACE password."""
        return MrzKey(can=self.can)

    def ca_key(self) -> PrivateKey | None:
        return _load_private_key(self.ca_private_key)

    def aa_key(self) -> PrivateKey | None:
        return _load_private_key(self.aa_private_key)

    def data_groups(self) -> list[int]:
        return sorted(int(k[2:]) for k in self.files if k.startswith("DG"))

    # -- on disk ---------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        keys = {
            "chip_authentication": CA_KEY_FILE if self.ca_private_key else None,
            "active_authentication": AA_KEY_FILE if self.aa_private_key else None,
        }
        from devices.icao9303.lds import LdsError
        from devices.icao9303.lds.dg1 import DataGroup1

        dg1: dict[str, Any] | None = None
        dg1_error: str | None = None
        try:
            dg1 = DataGroup1.parse(self.files.get("DG1", b"")).to_json()
        except LdsError as exc:  # deliberate defects such as bad_check_digit
            dg1_error = str(exc)
        order = {name: i for i, name in enumerate(FILE_NAMES)}
        return {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "mrz": list(self.mrz),
            "mrz_key": {
                "document_number": self.document_number,
                "birth_date": self.birth_date,
                "expiry_date": self.expiry_date,
            },
            "can": self.can,
            "access": {
                "pace": self.pace,
                "bac": self.bac,
                "pace_parameter_id": self.pace_parameter_id if self.pace else None,
                "pace_mapping": self.pace_mapping if self.pace else None,
                "extended_length": self.extended_length,
            },
            "data_groups": self.data_groups(),
            "files": {
                name: FILE_NAMES[name] for name in sorted(self.files, key=lambda n: order[n])
            },
            "dg1": dg1,
            **({"dg1_error": dg1_error} if dg1_error else {}),
            "keys": keys,
            "csca": CSCA_FILE,
            "document_signer": DS_FILE if self.ds_cert_der else None,
            "face_image": FACE_FILE if self.face_image else None,
            "defects": list(self.defects),
            **({"details": self.details} if self.details else {}),
        }

    def save(self, directory: str | Path) -> dict[str, Any]:
        """Write the passport into `directory` (created if needed); returns the manifest."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        for name, data in self.files.items():
            if name not in FILE_NAMES:
                raise VirtualPassportError(f"unknown elementary file {name!r}")
            (out / FILE_NAMES[name]).write_bytes(data)
        for der, filename in (
            (self.ca_private_key, CA_KEY_FILE),
            (self.aa_private_key, AA_KEY_FILE),
        ):
            key = _load_private_key(der)
            target = out / filename
            if key is None:
                target.unlink(missing_ok=True)
                continue
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            target.write_bytes(pem)
            target.chmod(0o600)
        csca = load_der_x509_certificate(self.csca_cert_der)
        (out / CSCA_FILE).write_bytes(csca.public_bytes(serialization.Encoding.PEM))
        if self.ds_cert_der:
            ds = load_der_x509_certificate(self.ds_cert_der)
            (out / DS_FILE).write_bytes(ds.public_bytes(serialization.Encoding.PEM))
        if self.face_image:
            (out / FACE_FILE).write_bytes(self.face_image)
        manifest = self.manifest()
        (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return manifest

    @classmethod
    def load(cls, directory: str | Path) -> VirtualPassport:
        """Read a directory written by `save` (or by `egate passport make`)."""
        root = Path(directory)
        try:
            manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise VirtualPassportError(f"{root} has no {MANIFEST}") from exc
        except (OSError, ValueError) as exc:
            raise VirtualPassportError(f"{root / MANIFEST} is unreadable: {exc}") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
            raise VirtualPassportError(f"{root / MANIFEST} is not a virtual passport manifest")
        try:
            return cls._from_manifest(root, manifest)
        except (KeyError, TypeError, ValueError, AttributeError, OSError) as exc:
            if isinstance(exc, VirtualPassportError):
                raise
            raise VirtualPassportError(f"{root}: incomplete virtual passport ({exc})") from exc

    @classmethod
    def _from_manifest(cls, root: Path, manifest: dict[str, Any]) -> VirtualPassport:
        files: dict[str, bytes] = {}
        for name, filename in manifest["files"].items():
            if FILE_NAMES.get(name) != filename:
                raise VirtualPassportError(f"manifest maps {name!r} to unexpected {filename!r}")
            files[name] = (root / filename).read_bytes()
        keys = manifest.get("keys", {})

        def key_der(entry: str) -> bytes | None:
            filename = keys.get(entry)
            if not filename:
                return None
            key = serialization.load_pem_private_key((root / filename).read_bytes(), None)
            if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
                raise VirtualPassportError(f"{filename} is neither an RSA nor an EC key")
            return private_key_der(key)

        csca = load_pem_x509_certificate((root / manifest.get("csca", CSCA_FILE)).read_bytes())
        ds_der = None
        if manifest.get("document_signer"):
            ds = load_pem_x509_certificate((root / manifest["document_signer"]).read_bytes())
            ds_der = ds.public_bytes(serialization.Encoding.DER)
        face = (root / manifest["face_image"]).read_bytes() if manifest.get("face_image") else None
        access = manifest["access"]
        mrz_key = manifest["mrz_key"]
        return cls(
            files=files,
            mrz=tuple(manifest["mrz"]),
            document_number=mrz_key["document_number"],
            birth_date=mrz_key["birth_date"],
            expiry_date=mrz_key["expiry_date"],
            can=str(manifest["can"]),
            pace=bool(access["pace"]),
            bac=bool(access["bac"]),
            extended_length=bool(access.get("extended_length", True)),
            pace_parameter_id=access.get("pace_parameter_id"),
            pace_mapping=str(access.get("pace_mapping") or "GM"),
            ca_private_key=key_der("chip_authentication"),
            aa_private_key=key_der("active_authentication"),
            csca_cert_der=csca.public_bytes(serialization.Encoding.DER),
            ds_cert_der=ds_der,
            face_image=face,
            defects=tuple(manifest.get("defects", ())),
            details=dict(manifest.get("details", {})),
        )
