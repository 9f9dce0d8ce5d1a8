"""The traveller's window and its screens (the PySide6 work-around is in ui/__init__.py)."""
