"""Device errors. Each is typed so the workflow can take the matching error path."""


class DeviceFault(Exception):
    """A device is unusable (disconnected, not responding, misconfigured)."""


class MrzUnreadable(DeviceFault):
    """No valid machine-readable zone was read in time: the device works, the page was
    not in view (or under glare). The traveller can lay it again; `guidance` says how
    (devices/mrz/frames.py codes), None when the device gives no hint."""

    def __init__(self, message: str, guidance: str | None = None) -> None:
        super().__init__(message)
        self.guidance = guidance


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
