"""Start-up and the process around the lane: the composition root (app.py) that picks
implementations from the config, the production kiosk on real devices, logging, systemd,
the doctor's checks and the speech engine."""
