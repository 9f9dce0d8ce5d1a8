"""kiosk/decision."""
