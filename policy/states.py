"""Country and region codes as ICAO 9303 part 3 writes them in the MRZ.

ICAO codes are ISO 3166-1 alpha-3 with a few exceptions; the one that matters for
equality is Germany, written "D" in the MRZ. Both spellings are accepted and
compared in the MRZ form. Hong Kong (HKG), Macao (MAC) and Taiwan (TWN) are
separate codes, distinct from CHN, exactly as the transit rules treat them.
"""

from __future__ import annotations

import re
from typing import Final

_CODE: Final = re.compile(r"^[A-Z]{1,3}\Z")
_ALIASES: Final[dict[str, str]] = {"DEU": "D"}


def normalise_state(code: str) -> str:
    """Return the MRZ form of a state/region code; raise ValueError if malformed."""
    cleaned = code.strip().upper().rstrip("<")
    if not _CODE.match(cleaned):
        raise ValueError(f"{code!r} is not an ICAO 9303 state or region code")
    return _ALIASES.get(cleaned, cleaned)
