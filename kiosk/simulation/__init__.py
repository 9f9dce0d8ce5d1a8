"""kiosk/simulation."""
