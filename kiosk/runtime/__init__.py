"""kiosk/runtime."""
