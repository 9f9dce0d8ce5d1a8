"""Where each MRZ character sits and what it may be (ICAO 9303-4, -5, -6).

The reader uses the character class of every position to rule out impossible readings
(an 'O' where only digits may stand is a '0'), and the check-digit table to repair the
alphanumeric fields the class cannot settle (document number, optional data).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from devices.icao9303.mrz import FILLER, MrzError, check_digit

MrzLayout = Literal["TD1", "TD2", "TD3", "MRVA", "MRVB"]

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALPHABET = DIGITS + LETTERS + FILLER

_A = LETTERS + FILLER  # names, state codes
_N = DIGITS  # check digits
_D = DIGITS + FILLER  # dates (unknown parts are '<')
_X = DIGITS + LETTERS + FILLER  # document numbers, optional data
_S = "MFX" + FILLER  # sex

SHAPES: dict[MrzLayout, tuple[int, int]] = {
    "TD1": (3, 30),
    "TD2": (2, 36),
    "TD3": (2, 44),
    "MRVA": (2, 44),  # visas (ICAO 9303-7): the TD3 and TD2 shapes, no composite digit
    "MRVB": (2, 36),
}
_NOT_V = _A.replace("V", "")  # the first character tells a visa from a passport or card


def _classes(*runs: tuple[int, str]) -> tuple[str, ...]:
    out: list[str] = []
    for count, allowed in runs:
        out.extend([allowed] * count)
    return tuple(out)


# Allowed characters per position, line by line.
CLASSES: dict[MrzLayout, tuple[tuple[str, ...], ...]] = {
    "TD3": (
        _classes((1, _NOT_V), (43, _A)),
        _classes(
            (9, _X),
            (1, _N),
            (3, _A),
            (6, _D),
            (1, _N),
            (1, _S),
            (6, _D),
            (1, _N),
            (14, _X),
            (1, _N + FILLER),
            (1, _N),
        ),
    ),
    "TD2": (
        _classes((1, _NOT_V), (35, _A)),
        _classes(
            (9, _X), (1, _N), (3, _A), (6, _D), (1, _N), (1, _S), (6, _D), (1, _N), (7, _X), (1, _N)
        ),
    ),
    "TD1": (
        _classes((5, _A), (9, _X), (1, _N + FILLER), (15, _X)),
        _classes((6, _D), (1, _N), (1, _S), (6, _D), (1, _N), (3, _A), (11, _X), (1, _N)),
        _classes((30, _A)),
    ),
    "MRVA": (
        _classes((1, "V"), (43, _A)),
        _classes((9, _X), (1, _N), (3, _A), (6, _D), (1, _N), (1, _S), (6, _D), (1, _N), (16, _X)),
    ),
    "MRVB": (
        _classes((1, "V"), (35, _A)),
        _classes((9, _X), (1, _N), (3, _A), (6, _D), (1, _N), (1, _S), (6, _D), (1, _N), (8, _X)),
    ),
}

Span = tuple[int, int, int]  # line, start, end (exclusive)


@dataclass(frozen=True)
class CheckedField:
    name: str
    spans: tuple[Span, ...]
    digit: tuple[int, int]  # line, position
    filler_ok: bool = False  # an all-filler field may carry '<' or '0' as its digit

    def data(self, lines: list[str]) -> str:
        return "".join(lines[line][start:end] for line, start, end in self.spans)

    def passes(self, lines: list[str]) -> bool:
        data, digit = self.data(lines), lines[self.digit[0]][self.digit[1]]
        if self.filler_ok and not data.strip(FILLER) and digit in (FILLER, "0"):
            return True
        try:
            return check_digit(data) == digit
        except MrzError:
            return False

    def positions(self) -> list[tuple[int, int]]:
        cells = [(line, i) for line, start, end in self.spans for i in range(start, end)]
        return [*cells, self.digit]


_VISA = (  # no optional-data and no composite digit on a visa
    CheckedField("document_number", ((1, 0, 9),), (1, 9)),
    CheckedField("birth_date", ((1, 13, 19),), (1, 19)),
    CheckedField("expiry_date", ((1, 21, 27),), (1, 27)),
)

CHECKED: dict[MrzLayout, tuple[CheckedField, ...]] = {
    "TD3": (
        CheckedField("document_number", ((1, 0, 9),), (1, 9)),
        CheckedField("birth_date", ((1, 13, 19),), (1, 19)),
        CheckedField("expiry_date", ((1, 21, 27),), (1, 27)),
        CheckedField("optional_data", ((1, 28, 42),), (1, 42), filler_ok=True),
        CheckedField("composite", ((1, 0, 10), (1, 13, 20), (1, 21, 43)), (1, 43)),
    ),
    "TD2": (
        CheckedField("document_number", ((1, 0, 9),), (1, 9)),
        CheckedField("birth_date", ((1, 13, 19),), (1, 19)),
        CheckedField("expiry_date", ((1, 21, 27),), (1, 27)),
        CheckedField("composite", ((1, 0, 10), (1, 13, 20), (1, 21, 35)), (1, 35)),
    ),
    "TD1": (
        CheckedField("document_number", ((0, 5, 14),), (0, 14)),
        CheckedField("birth_date", ((1, 0, 6),), (1, 6)),
        CheckedField("expiry_date", ((1, 8, 14),), (1, 14)),
        CheckedField("composite", ((0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)), (1, 29)),
    ),
    "MRVA": _VISA,
    "MRVB": _VISA,
}


# Where the name field lies: (line, start) to the end of that line.
NAME_FIELD: dict[MrzLayout, tuple[int, int]] = {
    "TD1": (2, 0),
    "TD2": (0, 5),
    "TD3": (0, 5),
    "MRVA": (0, 5),
    "MRVB": (0, 5),
}


def name_well_formed(layout: MrzLayout, lines: list[str] | tuple[str, ...]) -> bool:
    """ICAO 9303-3 4.6: name components are joined by one '<', the primary and secondary
    identifiers by '<<', and only filler follows the name: three fillers followed by a
    letter (a stray mark read in the filler run) is not a name. No check digit covers
    the name, so this is the only test a misread there can fail."""
    line, start = NAME_FIELD[layout]
    field = lines[line][start:]
    end = field.find(FILLER * 3)
    return end < 0 or not field[end:].strip(FILLER)
