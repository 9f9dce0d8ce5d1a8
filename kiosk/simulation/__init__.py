"""Everything that imitates the world around a lane for the demo, QA and tests: the
simulated kiosk (its own composition root), YAML scenarios, the lane driver, the demo fleet
of kiosks and synthetic face sequences. Production modules never import this package."""
