"""Random but well-formed MRZs (TD1, TD2, TD3) for the MRZ reader's tests and benchmark.

Document numbers mix letters and digits, including the shapes OCR confuses (O/0, I/1,
B/8, S/5, Z/2), so the check-digit repair is exercised.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from devices.icao9303.mrz import Mrz, MrzFormat

_CONFUSABLE = "O0I1B8S5Z2"
_STATES = ("UTO", "D<<", "FRA", "GBR", "USA", "CAN", "JPN", "KOR", "RUS", "IDN", "AUS")
_NAMES = (
    "ERIKSSON",
    "MUELLER",
    "OBRIEN",
    "NGUYEN",
    "SMITH",
    "IVANOVA",
    "KIM",
    "TANAKA",
    "DE LA CRUZ",
    "BOBO",
    "OZIL",
    "ZZ TOP",
    "SIBOZI",
)
_GIVEN = ("ANNA MARIA", "JOHN", "OLGA", "HIROSHI", "SEO YEON", "BOB", "ISABEL", "ZOE")


def random_mrz(rng: np.random.Generator, fmt: MrzFormat = "TD3") -> Mrz:
    def pick(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))]

    pool = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" + _CONFUSABLE * 3
    number = "".join(pool[int(i)] for i in rng.integers(len(pool), size=9))
    birth = date(1940, 1, 1) + timedelta(days=int(rng.integers(0, 30000)))
    expiry = date(2027, 1, 1) + timedelta(days=int(rng.integers(0, 3650)))
    state = pick(_STATES)
    optional = "".join(pool[int(i)] for i in rng.integers(len(pool), size=int(rng.integers(0, 8))))
    return Mrz.create(
        document_code={"TD3": "P", "TD2": "I", "TD1": "ID"}.get(fmt, "P"),
        issuing_state=state,
        surname=pick(_NAMES),
        given_names=pick(_GIVEN),
        document_number=number,
        nationality=state,
        birth_date=birth,
        sex=pick(("M", "F", "X")),
        expiry_date=expiry,
        optional_data=optional,
        format=fmt,
    )
