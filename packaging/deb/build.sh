#!/usr/bin/env bash
# Build dist/egate_VERSION_amd64.deb (`make deb`): the application in its own virtual
# environment under /opt/egate, built with Debian's python3 from the hash-pinned runtime
# lock (requirements/runtime.txt), plus config, systemd units, udev rules and docs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PY=${EGATE_DEB_PYTHON:-/usr/bin/python3}
VERSION=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
NAME="egate_${VERSION}_amd64"
STAGE="$ROOT/build/deb/$NAME"
PREFIX=/opt/egate
OUT=${EGATE_DEB_OUT:-$ROOT/dist}
log() { printf '[deb] %s\n' "$*" >&2; }

rm -rf "$STAGE"
mkdir -p "$STAGE$PREFIX" "$OUT"
log "virtual environment with $("$PY" --version)"
"$PY" -m venv "$STAGE$PREFIX/venv"
pip=("$STAGE$PREFIX/venv/bin/python" -m pip --disable-pip-version-check -q)
# The runtime lock only: no test, lint or typing tools, and no face-recognition (tests only).
"${pip[@]}" install --require-hashes -r requirements/runtime.txt
"${pip[@]}" install --no-deps --no-build-isolation "$ROOT"
"$STAGE$PREFIX/venv/bin/python" -c "import face_recognition_models, dlib, cv2, smartcard, PySide6.QtWidgets, kiosk, ui; print('ok')" \
  | grep -qx ok || { log "import check failed"; exit 1; }
# A venv names its own path in scripts: make it the installed one.
grep -rlI "$STAGE$PREFIX" "$STAGE$PREFIX/venv" | xargs -r sed -i "s#$STAGE$PREFIX#$PREFIX#g"
find "$STAGE$PREFIX" -name '*.pyc' -delete  # compiled again at install (see postinst)
# The kiosk never installs packages at run time; shared objects are not programs.
rm -f "$STAGE$PREFIX"/venv/bin/pip*
find "$STAGE$PREFIX" -name '*.so*' -type f -exec chmod 0644 {} +

install -D -m 0644 packaging/deb/kiosk.toml "$STAGE/etc/egate/kiosk.toml"
install -d "$STAGE/lib/systemd/system" "$STAGE/usr/bin" "$STAGE/usr/share/doc/egate" \
  "$STAGE/usr/share/lintian/overrides" "$STAGE/DEBIAN"
install -m 0644 packaging/systemd/*.service packaging/systemd/*.timer "$STAGE/lib/systemd/system/"
install -D -m 0644 packaging/udev/60-egate.rules "$STAGE/lib/udev/rules.d/60-egate.rules"
ln -s "$PREFIX/venv/bin/egate" "$STAGE/usr/bin/egate"
install -m 0644 docs/deployment.md docs/gate.md docs/metrics.md packaging/egate.example.toml \
  "$STAGE/usr/share/doc/egate/"
# Prometheus alert rules and the Grafana dashboard for the port's monitoring (docs/metrics.md).
install -D -m 0644 -t "$STAGE/usr/share/egate/monitoring" \
  packaging/monitoring/egate-alerts.yml packaging/monitoring/egate-dashboard.json
printf 'egate (%s) stable; urgency=medium\n\n  * Release %s.\n\n -- egate engineers <engineers@egate-kiosk.org>  %s\n' \
  "$VERSION" "$VERSION" "$(date -R)" | gzip -9n > "$STAGE/usr/share/doc/egate/changelog.gz"
printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: egate\n\nFiles: *\nCopyright: egate engineers\nLicense: proprietary\n Bundled Python packages keep their own licences (see /opt/egate/venv).\n' \
  > "$STAGE/usr/share/doc/egate/copyright"
install -m 0644 packaging/deb/lintian-overrides "$STAGE/usr/share/lintian/overrides/egate"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/deb/$script" "$STAGE/DEBIAN/$script"
done
install -m 0644 packaging/deb/conffiles "$STAGE/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@SIZE@/$size/" packaging/deb/control.in > "$STAGE/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip -z6 --build "$STAGE" "$OUT/$NAME.deb" >/dev/null
log "built $OUT/$NAME.deb ($(du -h "$OUT/$NAME.deb" | cut -f1))"
