"""The supervisor station's Qt screens (model: kiosk.supervisor)."""
