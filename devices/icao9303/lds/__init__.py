"""ICAO 9303-10 Logical Data Structure: EF.COM, the data groups and SecurityInfos.

Each file type lives in its own module (`dg1.DataGroup1`, `dg2.DataGroup2`, ...) with a
`parse(raw)` class method and an `encode()` method. Every parsing failure raises
`LdsError`, so a caller needs a single except clause for hostile chip data.
"""

from devices.errors import ChipDataError


class LdsError(ChipDataError):
    """An LDS file is malformed or fails a check (the message says which and why)."""


__all__ = ["LdsError"]
