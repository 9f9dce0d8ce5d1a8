# Packaging entry points (development and tests use ./dev).
.PHONY: deb
deb:
	packaging/deb/build.sh
