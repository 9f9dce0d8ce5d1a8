"""The ICAO 9303 specimen passport's MRZ (Anna Maria Eriksson, Utopia), shared by the
MRZ tests."""

from __future__ import annotations

from datetime import date

from devices.icao9303.mrz import Mrz

ICAO_SPECIMEN = Mrz.create(
    issuing_state="UTO",
    surname="ERIKSSON",
    given_names="ANNA MARIA",
    document_number="L898902C3",
    nationality="UTO",
    birth_date=date(1974, 8, 12),
    sex="F",
    expiry_date=date(2032, 4, 15),
)
