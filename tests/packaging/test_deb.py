"""`make deb`: the package builds, carries what a kiosk PC needs, and runs from its tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    # The first test builds (the session's `deb` fixture, tests/packaging/conftest.py,
    # within its own 1200 s) and the install test installs the whole package (a virtual
    # environment with dlib and Qt): minutes, more on a loaded machine, so these tests
    # get their own bound instead of the suite's 300 s.
    pytest.mark.timeout(1500),
    pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed"),
    pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="no Debian python3"),
]


def dpkg(*args: str) -> str:
    return subprocess.run(["dpkg-deb", *args], capture_output=True, text=True, check=True).stdout


def test_control_declares_the_runtime_dependencies(deb: Path) -> None:
    control = dpkg("-f", str(deb))
    assert "Package: egate" in control and "Architecture: amd64" in control
    depends = dpkg("-f", str(deb), "Depends")
    for needed in (
        "python3",
        "pcscd",
        "libpcsclite1",
        "fonts-noto-cjk",
        "fonts-ocr-b",
        "cage",
        "libegl1",
        "adduser",
    ):
        assert needed in depends
    assert int(dpkg("-f", str(deb), "Installed-Size")) > 100_000  # KiB: the whole venv


def test_payload_has_the_application_units_and_config(deb: Path) -> None:
    listing = dpkg("-c", str(deb))
    for path in (
        "./opt/egate/venv/bin/egate",
        "./etc/egate/kiosk.toml",
        "./lib/systemd/system/egate-kiosk.service",
        "./lib/systemd/system/egate-purge.timer",
        "./lib/systemd/system/egate-purge.service",
        "./lib/systemd/system/egate-border-purge.timer",
        "./lib/systemd/system/egate-border-purge.service",
        "./lib/systemd/system/egate-border-maintain.timer",
        "./lib/systemd/system/egate-border-maintain.service",
        "./lib/udev/rules.d/60-egate.rules",
        "./usr/share/doc/egate/deployment.md",
        "./usr/share/doc/egate/copyright",
        "./usr/share/doc/egate/metrics.md",
        "./usr/share/egate/monitoring/egate-alerts.yml",
        "./usr/share/egate/monitoring/egate-dashboard.json",
    ):
        assert path in listing, path
    assert "./usr/bin/egate -> /opt/egate/venv/bin/egate" in listing
    # Development tools stay out of the kiosk.
    assert "site-packages/ruff" not in listing and "site-packages/mypy/" not in listing
    assert "site-packages/prometheus_client/" in listing  # the metrics endpoint's library
    assert "/build/deb/" not in listing


def test_maintainer_scripts(deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "-e", str(deb), str(tmp_path)], check=True)
    assert (tmp_path / "conffiles").read_text().split() == ["/etc/egate/kiosk.toml"]
    for script in ("postinst", "prerm", "postrm"):
        path = tmp_path / script
        assert os.access(path, os.X_OK)
        subprocess.run(["sh", "-n", str(path)], check=True)
    postinst = (tmp_path / "postinst").read_text()
    assert "adduser --system" in postinst and "storage migrate" in postinst
    # The log key is made by root in a root-owned directory and enrolled (issue 19).
    assert "install -d -o root -g egate -m 0750 /etc/egate/log" in postinst
    assert "log enrol --existing-key" in postinst
    assert "purge)" in (tmp_path / "postrm").read_text()


# Every unit that runs egate code is hardened alike (issue 19 item 9).
HARDENING = {
    "NoNewPrivileges": "true",
    "PrivateTmp": "true",
    "UMask": "0077",
    "ProtectSystem": "strict",
    "ProtectHome": "true",
    "ReadWritePaths": "/var/lib/egate",
}


def test_every_service_unit_is_hardened_alike() -> None:
    units = sorted((REPO / "packaging" / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {
        "egate-kiosk.service", "egate-purge.service", "egate-border-purge.service",
        "egate-border-maintain.service",
    }  # fmt: skip
    for unit in units:
        settings: dict[str, str] = {}
        for line in unit.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.startswith("#"):
                settings[key.strip()] = value.strip()
        for key, value in HARDENING.items():
            assert settings.get(key) == value, (unit.name, key, settings.get(key))
        assert settings.get("User") == "egate", unit.name


def test_unpacked_tree_runs_config_check_and_doctor(deb: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    python = root / "opt/egate/venv/bin/python"
    egate = root / "opt/egate/venv/bin/egate"
    assert egate.read_text().startswith("#!/opt/egate/venv/bin/python")  # relocated
    shipped = root / "etc/egate/kiosk.toml"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the package's own code
    check = subprocess.run(
        [str(python), str(egate), "config", "check", "--config", str(shipped)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
    )
    assert check.returncode == 0, check.stderr
    local = shipped.read_text().replace("/var/lib/egate/", f"{tmp_path}/")
    config = tmp_path / "kiosk.toml"
    config.write_text(local)
    doctor = subprocess.run(
        [str(python), str(egate), "doctor", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=tmp_path,
    )
    results = {r["check"]: r for r in json.loads(doctor.stdout)}
    # No reader, gate or trust store on a build machine: reported, not crashed.
    assert doctor.returncode == 1
    assert results["face_models"]["status"] == "ok"
    assert results["policy_pack"]["status"] == "ok"
    assert results["gate_controller"]["status"] == "fail"
    import_path = subprocess.run(
        [str(python), "-c", "import kiosk; print(kiosk.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=tmp_path,
    ).stdout
    assert str(root) in import_path


def _installed() -> bool:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "egate"],
                         capture_output=True, text=True)
    return "install ok installed" in out.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="installing a package needs root")
def test_install_upgrade_and_purge(deb: Path) -> None:
    """On this machine for real: dpkg runs the maintainer scripts. Dependencies the
    build machine lacks (cage, the Qt runtime) are forced past: the venv carries the
    application, and nothing here starts the kiosk service."""
    if _installed():
        pytest.skip("an egate package is already installed on this machine: left alone")
    install = ["dpkg", "--force-depends", "-i", str(deb)]
    try:
        subprocess.run(install, check=True, capture_output=True, timeout=900)
        assert subprocess.run(["id", "egate"], capture_output=True).returncode == 0
        state = Path("/var/lib/egate")
        assert (state / "local.sqlite").exists()  # postinst migrated as the service user
        assert state.stat().st_uid == int(subprocess.run(
            ["id", "-u", "egate"], capture_output=True, text=True).stdout)
        migrate = subprocess.run(["runuser", "-u", "egate", "--", "/usr/bin/egate", "storage",
                                  "migrate", "--json", "--config", "/etc/egate/kiosk.toml"],
                                 capture_output=True, text=True, timeout=120, cwd="/")
        assert migrate.returncode == 0, migrate.stderr
        assert json.loads(migrate.stdout)["revision"]
        # The log key: root's, readable by the service group, not replaceable by it.
        key = Path("/etc/egate/log/log-seal.key")
        assert (key.stat().st_uid, key.stat().st_mode & 0o777) == (0, 0o640)
        assert (key.parent.stat().st_uid, key.parent.stat().st_mode & 0o777) == (0, 0o750)
        swap = subprocess.run(["runuser", "-u", "egate", "--", "sh", "-c",
                               f"rm -f {key} || exit 1; echo x > {key}"],
                              capture_output=True, timeout=60, cwd="/")
        assert swap.returncode != 0 and key.exists()
        verify = subprocess.run(["runuser", "-u", "egate", "--", "/usr/bin/egate", "log",
                                 "verify", "--json", "--config", "/etc/egate/kiosk.toml"],
                                capture_output=True, text=True, timeout=120, cwd="/")
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert json.loads(verify.stdout)["sealed"] is True
        # Upgrade in place: the operator's edit of the conffile survives.
        conf = Path("/etc/egate/kiosk.toml")
        conf.write_text(conf.read_text() + "# edited by the operator\n")
        subprocess.run(["dpkg", "--force-depends", "--force-confold", "-i", str(deb)],
                       check=True, capture_output=True, timeout=900)
        assert conf.read_text().endswith("# edited by the operator\n")
        assert (state / "local.sqlite").exists()
    finally:
        subprocess.run(["dpkg", "--force-depends", "--purge", "egate"], capture_output=True,
                       timeout=600)
    assert not _installed()
    assert not Path("/var/lib/egate").exists() and not Path("/etc/egate").exists()
    assert not Path("/opt/egate").exists()
    assert subprocess.run(["id", "egate"], capture_output=True).returncode != 0
