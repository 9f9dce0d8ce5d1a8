"""The ICAO PKD's distribution format: LDIF (RFC 2849) files of DS certificates with
CRLs (icaopkd-001), master lists (icaopkd-002) and the like, one object per entry.

Parsing is the `ldif` package's (a maintained RFC 2849 parser, docs/dependencies.md);
this module only picks the PKD attributes out of each entry. Values given by URL
(`attr:< file:///...`) are never fetched: such an entry is reported, not read.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import ldif

from kiosk.trust.errors import MalformedInputError

PkdKind = Literal["certificate", "crl", "masterlist", "deviationlist"]

# PKD attribute (lower case, ";binary" option dropped) -> what it holds.
_ATTRIBUTES: dict[str, PkdKind] = {
    "usercertificate": "certificate",  # DS certificates (o=dsc)
    "cacertificate": "certificate",  # CSCA certificates where a PKD entry carries them
    "certificaterevocationlist": "crl",  # o=crl
    "pkdmasterlistcontent": "masterlist",  # o=ml
    "pkddeviationlistcontent": "deviationlist",  # o=dl
}


@dataclass(frozen=True)
class PkdObject:
    dn: str
    kind: PkdKind
    der: bytes


@dataclass(frozen=True)
class PkdSkip:
    dn: str
    reason: str


def looks_like_ldif(data: bytes) -> bool:
    """An LDIF file starts with `version:`, `dn:` or a comment (RFC 2849)."""
    head = data.lstrip()[:64].lower()
    return head.startswith((b"version:", b"dn:", b"#"))


def read_pkd_ldif(data: bytes) -> tuple[list[PkdObject], list[PkdSkip]]:
    """Every PKD object of an LDIF file, and every entry that holds none, with why.
    MalformedInputError when the file is not LDIF at all."""
    parser = ldif.LDIFParser(io.BytesIO(data), encoding=None, strict=True)
    objects: list[PkdObject] = []
    skipped: list[PkdSkip] = []
    try:
        for dn, entry in parser.parse():
            name = (dn or "").strip() if isinstance(dn, str) else str(dn)
            found = False
            for attribute, values in entry.items():
                kind = _ATTRIBUTES.get(attribute.split(";")[0].lower())
                if kind is None:
                    continue
                for value in values:
                    if not isinstance(value, bytes) or not value:
                        skipped.append(PkdSkip(name, f"{attribute}: empty or given by URL"))
                        continue
                    objects.append(PkdObject(name, kind, value))
                    found = True
            if not found and not any(s.dn == name for s in skipped):
                skipped.append(PkdSkip(name, "no certificate, CRL, master or deviation list"))
    except (ValueError, UnicodeError, IndexError) as exc:
        raise MalformedInputError(f"not readable LDIF (line {parser.line_counter}): {exc}") from exc
    if not objects:
        raise MalformedInputError(
            f"an LDIF file with no certificate, CRL, master or deviation list "
            f"({len(skipped)} entries)"
        )
    return objects, skipped
