"""Journey facts for the policy: the onward journey from advance passenger
information or the traveller's boarding pass (IATA BCBP read from camera frames),
and on exit the entry record."""

from kiosk.decision.journey.api import ApiSource, InMemoryApiSource
from kiosk.decision.journey.barcode import BCBP_FORMATS, BoardingPassScanner, decode_barcodes
from kiosk.decision.journey.boarding_pass import journey_from_boarding_pass, names_agree
from kiosk.decision.journey.entry_record import EntryRecord, EntryRecordSource, InMemoryEntryRecords
from kiosk.decision.journey.model import OnwardJourney
from kiosk.decision.journey.resolver import JourneyResolver, ResolvedJourney

__all__ = [
    "BCBP_FORMATS",
    "ApiSource",
    "BoardingPassScanner",
    "EntryRecord",
    "EntryRecordSource",
    "InMemoryApiSource",
    "InMemoryEntryRecords",
    "JourneyResolver",
    "OnwardJourney",
    "ResolvedJourney",
    "decode_barcodes",
    "journey_from_boarding_pass",
    "names_agree",
]
