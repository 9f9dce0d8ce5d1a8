"""Machine Readable Zone: TD1, TD2, TD3 (ICAO 9303-3, -4, -5, -6) and MRV-A/B visas (-7).

`Mrz.parse` verifies every check digit and says which one failed; `Mrz.create` builds
the lines from fields, computing the check digits. Two-digit years are resolved against
a reference day: a birth date is never in the future, an expiry date is at most 50
years ahead.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from devices.icao9303.lds import LdsError
from devices.protocols import MrzKey

MrzFormat = Literal["TD1", "TD2", "TD3", "MRVA", "MRVB"]

FILLER = "<"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_VALUES = {ch: i for i, ch in enumerate(_ALPHABET)} | {FILLER: 0}
_WEIGHTS = (7, 3, 1)
_SHAPES: dict[tuple[int, int], MrzFormat] = {(3, 30): "TD1", (2, 36): "TD2", (2, 44): "TD3"}
_LINE_LENGTH: dict[MrzFormat, int] = {"TD1": 30, "TD2": 36, "TD3": 44, "MRVA": 44, "MRVB": 36}
_EXPIRY_HORIZON_YEARS = 50


class MrzError(LdsError):
    """An MRZ that is malformed or fails a check digit; `field` names the culprit."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def check_digit(data: str) -> str:
    """ICAO 9303-3 4.9: weights 7-3-1 over digit/letter values, modulo 10."""
    total = 0
    for i, ch in enumerate(data):
        value = _VALUES.get(ch)
        if value is None:
            raise MrzError(f"character {ch!r} is not allowed in an MRZ")
        total += value * _WEIGHTS[i % 3]
    return str(total % 10)


def to_mrz_text(text: str) -> str:
    """Upper-case and transliterate to the MRZ character set (ICAO 9303-3 6.A, simplified).

    Accents are dropped (É -> E), spaces and hyphens become '<', apostrophes vanish.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    out: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        up = ch.upper()
        if up in ("'", "’"):
            continue
        if up in (" ", "-", ",", "."):
            out.append(FILLER)
        elif up in _VALUES:
            out.append(up)
        else:
            raise MrzError(f"character {ch!r} cannot be written in an MRZ")
    return "".join(out)


def _pad(text: str, width: int, what: str) -> str:
    if len(text) > width:
        raise MrzError(f"{what} {text!r} is longer than {width} characters", what)
    return text + FILLER * (width - len(text))


def _strip(text: str) -> str:
    return text.replace(FILLER, " ").strip()


def _encode_name(surname: str, given_names: str, width: int) -> str:
    # Runs of separators collapse: '<<' may only separate primary and secondary names.
    primary = "<".join(p for p in to_mrz_text(surname).split(FILLER) if p)
    secondary = "<".join(p for p in to_mrz_text(given_names).split(FILLER) if p)
    name = primary + (FILLER * 2 + secondary if secondary else "")
    # ICAO 9303-3 4.6.4: names longer than the field are truncated.
    return (name + FILLER * width)[:width]


def _decode_name(field_text: str) -> tuple[str, str]:
    primary, sep, secondary = field_text.partition(FILLER * 2)
    if not sep:
        return _strip(primary), ""
    return _strip(primary), " ".join(part for part in secondary.split(FILLER) if part)


def _yymmdd(value: date) -> str:
    return value.strftime("%y%m%d")


def _resolve_date(raw: str, kind: str, today: date) -> date | None:
    """A date from YYMMDD; None when the MRZ says unknown ('<' in the field)."""
    if FILLER in raw:
        if raw.strip(FILLER + "0123456789"):
            raise MrzError(f"{kind} {raw!r} is not YYMMDD", kind)
        return None  # ICAO 9303-3 4.6.5: unknown parts of a date are filled with '<'
    if not raw.isdigit():
        raise MrzError(f"{kind} {raw!r} is not YYMMDD", kind)
    yy, mm, dd = int(raw[:2]), int(raw[2:4]), int(raw[4:6])
    if mm == 0 or dd == 0:
        # Unknown month or day printed as 00 rather than '<' (Croatian documents, and
        # states that do not know a holder's birth day): unknown, as '<' would be. The
        # digits still make the BAC/PACE key; the lane refers a document without dates.
        return None
    try:
        candidate = date(2000 + yy, mm, dd)
        if kind == "birth_date":
            if candidate > today:
                candidate = date(1900 + yy, mm, dd)
        elif candidate.year > today.year + _EXPIRY_HORIZON_YEARS:
            candidate = date(1900 + yy, mm, dd)
    except ValueError as exc:
        raise MrzError(f"{kind} {raw!r} is not a calendar date", kind) from exc
    return candidate


def _verify(data: str, digit: str, what: str, *, filler_ok: bool = False) -> None:
    if filler_ok and not data.strip(FILLER) and digit in (FILLER, "0"):
        return
    expected = check_digit(data)
    if digit != expected:
        raise MrzError(
            f"check digit of {what} is wrong: {digit!r} given, {expected!r} computed over {data!r}",
            what,
        )


@dataclass(frozen=True)
class Mrz:
    """The fields of an MRZ; `lines()` gives its text, check digits included."""

    format: MrzFormat
    document_code: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date_yymmdd: str
    sex: str
    expiry_date_yymmdd: str
    optional_data: str = ""
    optional_data_2: str = ""  # TD1 only: line 2, positions 19-29
    birth_date: date | None = field(default=None, compare=False)
    expiry_date: date | None = field(default=None, compare=False)
    name_field: str = field(default="", compare=False, repr=False)

    # -- building -----------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        *,
        document_code: str = "P",
        issuing_state: str,
        surname: str,
        given_names: str,
        document_number: str,
        nationality: str,
        birth_date: date,
        sex: str,
        expiry_date: date,
        optional_data: str = "",
        optional_data_2: str = "",
        format: MrzFormat | None = None,
    ) -> Mrz:
        """Fields to an MRZ, transliterated and checked for length and characters."""
        code = to_mrz_text(document_code)
        if not 1 <= len(code) <= 2:
            raise MrzError(f"document code {document_code!r} must be 1 or 2 characters")
        if format is None:
            format = "MRVA" if code.startswith("V") else ("TD3" if code.startswith("P") else "TD1")
        sex_code = sex.strip().upper() or "X"
        if sex_code not in ("M", "F", "X", FILLER):
            raise MrzError(f"sex {sex!r} must be M, F or X", "sex")
        number = to_mrz_text(document_number).rstrip(FILLER)
        if not number:
            raise MrzError("document number is empty", "document_number")
        limit = 9 if format in ("TD3", "MRVA", "MRVB") else 9 + 13
        if len(number) > limit:
            raise MrzError(
                f"document number {number!r} is too long for {format}", "document_number"
            )
        width = _LINE_LENGTH[format]
        name_field = _encode_name(surname, given_names, width if format == "TD1" else width - 5)
        printed_surname, printed_given = _decode_name(name_field)  # as a reader will see it
        mrz = cls(
            format=format,
            document_code=code,
            issuing_state=_pad(to_mrz_text(issuing_state), 3, "issuing_state"),
            surname=printed_surname,
            given_names=printed_given,
            document_number=number,
            nationality=_pad(to_mrz_text(nationality), 3, "nationality"),
            birth_date_yymmdd=_yymmdd(birth_date),
            sex="X" if sex_code == FILLER else sex_code,
            expiry_date_yymmdd=_yymmdd(expiry_date),
            optional_data=to_mrz_text(optional_data),
            optional_data_2=to_mrz_text(optional_data_2),
            birth_date=birth_date,
            expiry_date=expiry_date,
            name_field=name_field,
        )
        mrz.lines()  # validates every field width now, not at first use
        return mrz

    def lines(self) -> tuple[str, ...]:
        code = _pad(self.document_code, 2, "document_code")
        state = _pad(self.issuing_state, 3, "issuing_state")
        nat = _pad(self.nationality, 3, "nationality")
        birth = self.birth_date_yymmdd
        expiry = self.expiry_date_yymmdd
        sex = FILLER if self.sex == "X" else self.sex
        width = _LINE_LENGTH[self.format]
        name = self.name_field or _encode_name(
            self.surname, self.given_names, width if self.format == "TD1" else width - 5
        )
        number = self.document_number
        if self.format in ("TD1", "TD2") and len(number) > 9:
            # ICAO 9303-5 4.2.2 note j: overflow into the optional data, '<' as check digit.
            number_field = number[:9] + FILLER
            overflow = number[9:] + check_digit(number) + FILLER
        else:
            number_field = _pad(number, 9, "document_number") + check_digit(_pad(number, 9, "x"))
            overflow = ""
        if self.format == "TD1":
            opt1 = _pad(overflow + self.optional_data, 15, "optional_data")
            line1 = code + state + number_field + opt1
            line2_head = birth + check_digit(birth) + sex + expiry + check_digit(expiry) + nat
            line2_head += _pad(self.optional_data_2, 11, "optional_data_2")
            composite = line1[5:30] + line2_head[0:7] + line2_head[8:15] + line2_head[18:29]
            return line1, line2_head + check_digit(composite), name
        head = number_field + nat + birth + check_digit(birth) + sex + expiry + check_digit(expiry)
        line1 = code + state + name
        if self.format == "TD3":
            personal = _pad(self.optional_data, 14, "optional_data")
            personal_cd = FILLER if not self.optional_data else check_digit(personal)
            body = head + personal + personal_cd
            return line1, body + check_digit(body[0:10] + body[13:20] + body[21:43])
        if self.format == "TD2":
            body = head + _pad(overflow + self.optional_data, 7, "optional_data")
            return line1, body + check_digit(body[0:10] + body[13:20] + body[21:35])
        # Visas carry no composite check digit (ICAO 9303-7).
        return line1, head + _pad(self.optional_data, width - 28, "optional_data")

    @property
    def text(self) -> str:
        return "\n".join(self.lines())

    # -- parsing ------------------------------------------------------------------------
    @classmethod
    def parse(cls, lines: str | Sequence[str], *, today: date | None = None) -> Mrz:
        """Parse MRZ text (lines separated by newlines, or a list, or the bare characters)."""
        reference = today or date.today()
        rows = _split_lines(lines)
        for i, row in enumerate(rows):
            bad = sorted({ch for ch in row if ch not in _VALUES})
            if bad:
                raise MrzError(f"line {i + 1} contains characters not allowed in an MRZ: {bad}")
        shape = (len(rows), len(rows[0]))
        if shape not in _SHAPES or any(len(r) != shape[1] for r in rows):
            raise MrzError(
                f"MRZ of {len(rows)} line(s) of {[len(r) for r in rows]} characters is not "
                "TD1 (3x30), TD2 (2x36) or TD3 (2x44)"
            )
        fmt = _SHAPES[shape]
        if fmt != "TD1" and rows[0].startswith("V"):
            fmt = "MRVA" if fmt == "TD3" else "MRVB"
        if fmt == "TD1":
            return cls._parse_td1(rows, reference)
        return cls._parse_two_line(rows, fmt, reference)

    @classmethod
    def _parse_td1(cls, rows: Sequence[str], today: date) -> Mrz:
        line1, line2, line3 = rows
        number = line1[5:14]
        opt1 = line1[15:30]
        if line1[14] == FILLER and opt1.strip(FILLER):
            number, opt1 = _overflow_number(number, opt1)
        else:
            _verify(number, line1[14], "document_number")
            number = number.rstrip(FILLER)
        birth, expiry = line2[0:6], line2[8:14]
        _verify(birth, line2[6], "birth_date")
        _verify(expiry, line2[14], "expiry_date")
        composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
        _verify(composite, line2[29], "composite")
        surname, given = _decode_name(line3)
        return cls(
            format="TD1",
            document_code=line1[0:2].rstrip(FILLER),
            issuing_state=line1[2:5],
            surname=surname,
            given_names=given,
            document_number=number,
            nationality=line2[15:18],
            birth_date_yymmdd=birth,
            sex=_sex(line2[7]),
            expiry_date_yymmdd=expiry,
            optional_data=opt1.strip(FILLER),
            optional_data_2=line2[18:29].strip(FILLER),
            birth_date=_resolve_date(birth, "birth_date", today),
            expiry_date=_resolve_date(expiry, "expiry_date", today),
            name_field=line3,
        )

    @classmethod
    def _parse_two_line(cls, rows: Sequence[str], fmt: MrzFormat, today: date) -> Mrz:
        line1, line2 = rows
        number = line2[0:9]
        birth, expiry = line2[13:19], line2[21:27]
        optional = {"TD3": line2[28:42], "TD2": line2[28:35]}.get(fmt, line2[28:])
        if fmt == "TD2" and line2[9] == FILLER and optional.strip(FILLER):
            number, optional = _overflow_number(number, optional)
        else:
            _verify(number, line2[9], "document_number")
            number = number.rstrip(FILLER)
        _verify(birth, line2[19], "birth_date")
        _verify(expiry, line2[27], "expiry_date")
        if fmt == "TD3":
            _verify(line2[28:42], line2[42], "optional_data", filler_ok=True)
            _verify(line2[0:10] + line2[13:20] + line2[21:43], line2[43], "composite")
        elif fmt == "TD2":
            _verify(line2[0:10] + line2[13:20] + line2[21:35], line2[35], "composite")
        surname, given = _decode_name(line1[5:])
        return cls(
            format=fmt,
            document_code=line1[0:2].rstrip(FILLER),
            issuing_state=line1[2:5],
            surname=surname,
            given_names=given,
            document_number=number,
            nationality=line2[10:13],
            birth_date_yymmdd=birth,
            sex=_sex(line2[20]),
            expiry_date_yymmdd=expiry,
            optional_data=optional.strip(FILLER),
            birth_date=_resolve_date(birth, "birth_date", today),
            expiry_date=_resolve_date(expiry, "expiry_date", today),
            name_field=line1[5:],
        )

    # -- views --------------------------------------------------------------------------
    def mrz_key(self) -> MrzKey:
        """The BAC/PACE password fields (ICAO 9303-11 4.3.1)."""
        return MrzKey(
            document_number=self.document_number,
            birth_date=self.birth_date_yymmdd,
            expiry_date=self.expiry_date_yymmdd,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "document_code": self.document_code,
            "issuing_state": _strip(self.issuing_state),
            "surname": self.surname,
            "given_names": self.given_names,
            "document_number": self.document_number,
            "nationality": _strip(self.nationality),
            "birth_date": self.birth_date.isoformat() if self.birth_date else None,
            "sex": self.sex,
            "expiry_date": self.expiry_date.isoformat() if self.expiry_date else None,
            "optional_data": self.optional_data,
            "optional_data_2": self.optional_data_2,
            "lines": list(self.lines()),
        }


def _split_lines(lines: str | Sequence[str]) -> list[str]:
    if isinstance(lines, str):
        rows = [row.strip().upper() for row in lines.strip().splitlines() if row.strip()]
        if len(rows) == 1 and len(rows[0]) in (90, 72, 88):
            flat = rows[0]
            width = {90: 30, 72: 36, 88: 44}[len(flat)]
            rows = [flat[i : i + width] for i in range(0, len(flat), width)]
    else:
        rows = [row.strip().upper() for row in lines]
    if not rows or not rows[0]:
        raise MrzError("MRZ is empty")
    return rows


def _overflow_number(principal: str, optional: str) -> tuple[str, str]:
    """A document number longer than 9 characters continues in the optional data.

    Returns the full number (its check digit verified) and the remaining optional data.
    """
    extension, _, rest = optional.partition(FILLER)
    if len(extension) < 2:
        raise MrzError("document number overflow has no check digit", "document_number")
    full = principal + extension[:-1]
    _verify(full, extension[-1], "document_number")
    return full, rest


def _sex(code: str) -> str:
    if code not in ("M", "F", "X", FILLER):
        raise MrzError(f"sex {code!r} must be M, F, X or <", "sex")
    return "X" if code == FILLER else code
