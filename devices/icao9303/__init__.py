"""ICAO Doc 9303 eMRTD support: LDS files, MRZ, chip protocols and a document factory."""
