"""Device errors. Each is typed so the workflow can take the matching error path."""


class DeviceFault(Exception):
    """A device is unusable (disconnected, not responding, misconfigured)."""


class CardRemovedError(DeviceFault):
    """The document left the reader before the command completed."""


class ChipError(DeviceFault):
    """The chip answered, but not as ICAO 9303 requires (bad status, bad MAC, bad data)."""


class AccessDeniedError(ChipError):
    """BAC or PACE failed: wrong MRZ/CAN, or the chip refused access control."""


class ChipDataError(ValueError):
    """A file read from the chip (or given as a document) is malformed: TLV, LDS, MRZ.

    Not a DeviceFault: the reader and the chip worked, the data is wrong. The lane
    refers such a traveller (chip_read_failed), as it does a chip that answers wrongly.
    """
