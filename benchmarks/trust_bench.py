"""Passive authentication figures (issue 20 item 6: a 600-certificate master list
imports in <= 1 s; verification costs the same with 10 or 1,000+ CSCAs in the store):

* `egate trust import` of a generated 601-certificate list and of each published list
  under ../shared/reference/field-pki (median of 5, certificate count given), into an
  empty store and into one holding the other lists; run in this process as the command
  runs it (configuration, store reload, verification, one bulk write), with the decode
  and signature caches emptied before each sample so each pays what a fresh process
  pays; interpreter start-up (about 0.5 s of imports) is not included;
* passive authentication with 11 versus 1,001 CSCAs in the store;
* without --quick: key generation, EF.SOD build and verification per algorithm.

Run idle: .venv/bin/python benchmarks/trust_bench.py [--quick]
Figures taken while other work runs say little; each line gives the load average.
"""

from __future__ import annotations

import contextlib
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from devices.simulated import pki
from kiosk.cli.main import main as cli_main
from kiosk.store.database import open_local
from kiosk.trust import CscaStore, PassiveAuthenticator, certificates, masterlist
from kiosk.trust.importer import import_file

NOW = datetime.now(UTC)
DGS = {1: b"\x61" * 93, 2: b"\x75" * 20_000, 14: b"\x6e" * 300, 15: b"\x6f" * 170}


FIELD = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "field-pki"


def timed(label: str, fn: Callable[[], object], runs: int) -> float:
    samples = []
    cpu = []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    median = statistics.median(samples)
    print(
        f"{label:<52} median {median:8.2f} ms"
        f"   p95 {sorted(samples)[int(0.95 * (len(samples) - 1))]:8.2f} ms"
        f"   cpu median {statistics.median(cpu):8.2f} ms   n={runs}"
        f"   load {os.getloadavg()[0]:.2f}"
    )
    return median


def _csca_certificates(count: int) -> list[x509.Certificate]:
    """`count` distinct self-signed CSCAs over a few keys (key generation would
    dominate otherwise; import cost is per certificate, not per key)."""
    out = []
    for i in range(count):
        algorithm = ("rsa2048", "ecdsa-p256", "ecdsa-brainpoolP256r1")[i % 3]
        key = pki.cached_key(algorithm, f"bench/csca-{i % 12}")
        name = pki.country_name(f"Q{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}", "CSCA", i)
        out.append(pki.make_csca_certificate("QQQ", key, now=NOW, serial=i + 1, subject=name))
    return out


def forget_caches() -> None:
    """Each sample pays for decoding and signature checks as a fresh process does."""
    certificates.forget_decoded()
    masterlist.forget_verified()


def cli_import(files: Sequence[Path], into: Sequence[Path] = ()) -> Callable[[], object]:
    """`egate trust import --bootstrap-anchor FILE` in this process, as the command
    runs it (configuration, store reload, verification, one bulk write), into a
    fresh database created and migrated beforehand, holding `into` already."""

    def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            database = Path(tmp) / "local.sqlite"
            config = Path(tmp) / "egate.toml"
            config.write_text(f'[storage]\nlocal_url = "sqlite:///{database}"\n')
            open_local(f"sqlite:///{database}").dispose()
            command = ["trust", "import", "--bootstrap-anchor", "--config", str(config)]
            with contextlib.redirect_stdout(io.StringIO()):
                for path in into:
                    assert cli_main([*command, str(path)]) == 0
                forget_caches()
                start, start_cpu = time.perf_counter(), time.process_time()
                assert cli_main([*command, *map(str, files)]) == 0
                SAMPLE.append((time.perf_counter() - start, time.process_time() - start_cpu))

    return run


SAMPLE: list[tuple[float, float]] = []


def timed_import(label: str, run: Callable[[], object], runs: int = 5) -> None:
    SAMPLE.clear()
    for _ in range(runs):
        run()
    wall = statistics.median(s[0] for s in SAMPLE) * 1000
    cpu = statistics.median(s[1] for s in SAMPLE) * 1000
    print(
        f"{label:<60} median {wall:8.1f} ms   cpu median {cpu:8.1f} ms   n={runs}"
        f"   load {os.getloadavg()[0]:.2f}"
    )


def field_imports() -> None:
    """Issue 20 item 6: each published list under field-pki, median of 5."""
    lists = sorted(FIELD.glob("*.ml")) if FIELD.is_dir() else []
    if not lists:
        print(f"no master lists under {FIELD}: field import figures skipped")
    for path in lists:
        count = len(import_file(CscaStore(), path.read_bytes(), path.name, "bench", at=NOW,
                                bootstrap_anchor=True, log_bootstrap=False).entries)  # fmt: skip
        timed_import(f"egate trust import {path.name} ({count} certificates)", cli_import([path]))
        others = [p for p in lists if p != path]
        if others:
            timed_import(
                f"  the same into a store holding {', '.join(p.name for p in others)}",
                cli_import([path], others),
            )


def process_import(path: Path, runs: int = 5) -> None:
    """The whole command in its own process (interpreter and library start-up
    included), against `egate trust list` on an empty store: the start-up floor."""
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    for label, args in (("egate trust list (empty store: start-up)", ["list"]),
                        (f"egate trust import {path.name} (whole process)",
                         ["import", "--bootstrap-anchor", str(path)])):  # fmt: skip
        SAMPLE.clear()
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as tmp:
                config = Path(tmp) / "egate.toml"
                config.write_text(f'[storage]\nlocal_url = "sqlite:///{tmp}/local.sqlite"\n')
                open_local(f"sqlite:///{tmp}/local.sqlite").dispose()
                command = [sys.executable, "-m", "kiosk.cli.main", "--config", str(config),
                           "trust", *args]  # fmt: skip
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                subprocess.run(command, env=env, check=True, capture_output=True)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                SAMPLE.append((time.perf_counter() - start, cpu))
        wall = statistics.median(s[0] for s in SAMPLE) * 1000
        cpu_ms = statistics.median(s[1] for s in SAMPLE) * 1000
        print(
            f"{label:<60} median {wall:8.1f} ms   cpu median {cpu_ms:8.1f} ms   n={runs}"
            f"   load {os.getloadavg()[0]:.2f}"
        )


def lookup_and_import(quick: bool) -> None:
    state = pki.make_test_pki("MLA", now=NOW)
    key = pki.cached_key("rsa2048", "bench/mls")
    signer = pki.make_master_list_signer(state.csca_cert, state.csca_key, key.public_key(), now=NOW)
    many = _csca_certificates(600)
    ml = pki.make_master_list([state.csca_cert, *many], signer, key)
    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / "generated.ml"
        generated.write_bytes(ml)
        timed_import("egate trust import of a generated list (601 certificates)",
                     cli_import([generated]), 3 if quick else 5)  # fmt: skip
    field_imports()
    lists = sorted(FIELD.glob("*.ml")) if FIELD.is_dir() else []
    if lists:
        process_import(max(lists, key=lambda p: p.stat().st_size), 3 if quick else 5)
    p = pki.make_test_pki("UTO", now=NOW)
    raw = pki.build_sod(DGS, p.ds_cert, p.ds_key)
    files = {"EF.SOD": raw, **{f"DG{n}": b for n, b in DGS.items()}}
    others = [c.public_bytes(serialization.Encoding.DER) for c in _csca_certificates(1000)]
    for extra in (others[:10], others):
        store = CscaStore.from_certificates([p.csca_der(), *extra])
        auth = PassiveAuthenticator(store)
        assert auth.authenticate(files, NOW).valid
        timed(
            f"passive authentication, {len(extra) + 1} CSCAs in the store",
            lambda a=auth: a.authenticate(files, NOW),
            20 if quick else 100,
        )
    # EF.SOD without its DS certificate: the stored one (from the PKD) is looked up.
    bare = pki.build_sod(DGS, p.ds_cert, p.ds_key, include_certificate=False)
    bare_files = {**files, "EF.SOD": bare}
    ds_key = pki.cached_key("ecdsa-p256", "bench/other-ds")
    signers = [
        pki.make_ds_certificate(p.csca_cert, p.csca_key, ds_key.public_key(), now=NOW,
                                serial=0x5000 + i).public_bytes(serialization.Encoding.DER)
        for i in range(1000)
    ]  # fmt: skip
    ds_der = p.ds_cert.public_bytes(serialization.Encoding.DER)
    for extra in (signers[:10], signers):
        store = CscaStore.from_certificates([p.csca_der(), *extra, ds_der])
        auth = PassiveAuthenticator(store)
        assert auth.authenticate(bare_files, NOW).valid
        timed(
            f"passive authentication, DS among {len(extra) + 1} stored DS",
            lambda a=auth: a.authenticate(bare_files, NOW),
            20 if quick else 100,
        )


def main() -> None:
    quick = "--quick" in sys.argv
    lookup_and_import(quick)
    if quick:
        return
    for algorithm in ("rsa2048", "ecdsa-p256", "ecdsa-brainpoolP256r1"):
        timed(f"key generation {algorithm}", lambda a=algorithm: pki.generate_key(a), 10)
    for algorithm in pki.ALGORITHMS:
        p = pki.make_test_pki(algorithm=algorithm, now=NOW)
        timed(f"build EF.SOD {algorithm}", lambda p=p: pki.build_sod(DGS, p.ds_cert, p.ds_key), 30)
        raw = pki.build_sod(DGS, p.ds_cert, p.ds_key)
        files = {"EF.SOD": raw, **{f"DG{n}": b for n, b in DGS.items()}}
        store = CscaStore.from_certificates([p.csca_der()], [p.crl(now=NOW)])
        auth = PassiveAuthenticator(store)
        assert auth.authenticate(files, NOW).valid
        timed(
            f"passive authentication {algorithm}",
            lambda a=auth, f=files: a.authenticate(f, NOW),
            50,
        )
    members = [
        pki.make_test_pki(f"Q{chr(65 + i // 26)}{chr(65 + i % 26)}", now=NOW) for i in range(60)
    ]
    state = pki.make_test_pki("MLA", now=NOW)
    key = pki.cached_key("rsa2048", "bench/mls")
    signer = pki.make_master_list_signer(state.csca_cert, state.csca_key, key.public_key(), now=NOW)
    ml = pki.make_master_list([state.csca_cert, *(m.csca_cert for m in members)], signer, key)
    def import_members() -> None:
        forget_caches()  # as a fresh process
        store = CscaStore.from_certificates([state.csca_der()])
        store.add_master_list(ml, "bench", at=NOW)  # signed under a provisioned anchor

    timed(f"import a master list of {len(members) + 1} CSCAs (in memory)", import_members, 10)


if __name__ == "__main__":
    main()
