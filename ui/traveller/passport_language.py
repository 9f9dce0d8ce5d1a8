"""The traveller's language once the passport is read (issue 22, item 1).

The lane reads DG1 and offers the language of the holder's nationality
(policy.messages.language_for_nationality, the table of ICAO 9303 nationality codes);
the screen then switches to it unless the traveller has touched a language in this
transaction: a choice the traveller makes always wins. A nationality the table does not
cover, or whose language this lane does not offer, gets English: the one language
every lane offers to visitors (docs/traveller.md)."""

from __future__ import annotations

from kiosk.lane.snapshot import LaneSnapshot
from kiosk.lane.states import LaneState

S = LaneState
FALLBACK = "en"

# States the lane only reaches after DG1 was read and parsed (_process_document sets
# offered_language before VERIFYING_DOCUMENT). REFERRED and ERROR are not here: a chip
# that cannot be read also ends there, with no nationality known.
AFTER_DG1 = frozenset({
    S.VERIFYING_DOCUMENT, S.CAPTURING_FACE, S.DECIDING, S.SCANNING_BOARDING_PASS,
    S.RETURNING_DOCUMENT, S.ADMITTED,
})


def passport_language(snapshot: LaneSnapshot, languages: tuple[str, ...]) -> str | None:
    """The language for this passport's holder, or None while DG1 is not read yet."""
    offered = snapshot.offered_language
    if offered is not None and offered in languages:
        return offered
    if snapshot.state in AFTER_DG1 or offered is not None:
        return FALLBACK if FALLBACK in languages else None
    return None
