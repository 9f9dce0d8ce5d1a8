from __future__ import annotations

import re
from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type

from kiosk.cli.main import main
from kiosk.config import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parents[2]


def test_defaults_run_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EGATE_CONFIG", raising=False)
    cfg = load_config()
    assert cfg.kiosk.port == "CSX" and cfg.storage.border_url == ""


def test_example_config_in_packaging_is_valid() -> None:
    cfg = load_config(REPO / "packaging" / "egate.example.toml")
    assert cfg.kiosk.port == "CSX"


def test_env_var_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "k.toml"
    f.write_text('[kiosk]\nport = "DYG"\nlane = 3\n')
    monkeypatch.setenv("EGATE_CONFIG", str(f))
    cfg = load_config()
    assert (cfg.kiosk.port, cfg.kiosk.lane) == ("DYG", 3)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[kiosk]\nport = "Changsha"', "kiosk.port"),
        ("[kiosk]\nlane = 0", "kiosk.lane"),
        ('[kiosk]\nlane = "two"', "kiosk.lane: expected `int`, got 'two'"),
        ('[devices]\ncamera = "usb"', "devices.camera"),
        ("[face]\nthreshold = 5", "face.threshold"),
        ("[face]\nthreshold = 0.5\nuncertain_threshold = 0.4", "face.uncertain_threshold"),
        ("[face]\ntreshold = 0.4", "face.treshold: unknown key"),
        ('[storage]\nlocal_url = "local.db"', "storage.local_url"),
        ("[timeouts]\nface_s = -1", "timeouts.face_s"),
        ('[kiosk]\nlanguages = ["fr"]', "kiosk.languages"),
        ("[kiosk\nid=1", "not valid TOML"),
        ('kiosk = "x"', "kiosk: expected `object`, got 'x'"),
        ('[trust]\ndeviation_policy = "accept"', "trust.deviation_policy"),
    ],
)
def test_invalid_config_names_key_and_problem(tmp_path: Path, toml: str, message: str) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        load_config(f)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.toml")


def test_cli_refuses_to_start_on_invalid_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("[kiosk]\nport = 'xx'\n")
    with pytest.raises(SystemExit) as exc:
        main(["config", "check", "--config", str(f), "--json"])
    assert exc.value.code == 78
    out = capsys.readouterr().out
    assert '"invalid_config"' in out and "kiosk.port" in out


# What `egate kiosk pin-hash` printed before the PIN moved to argon2id.
OLD_SCRYPT_PIN_HASH = "scrypt$16384$8$1$30313233343536373839616263646566$" + "ab" * 32


ARGON2I_HASH = "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA"  # the wrong variant


@pytest.mark.parametrize("stored", [OLD_SCRYPT_PIN_HASH, "2468", ARGON2I_HASH])
def test_a_pin_hash_not_argon2id_is_refused_naming_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stored: str
) -> None:
    f = tmp_path / "old.toml"
    f.write_text(f"[kiosk]\nmaintenance_pin_hash = '{stored}'\n")
    with pytest.raises(SystemExit) as exc:
        main(["config", "check", "--config", str(f), "--json"])
    assert exc.value.code == 78
    out = capsys.readouterr().out
    assert "kiosk.maintenance_pin_hash" in out and "egate kiosk pin-hash" in out
    assert ("scrypt hash is no longer accepted" in out) == stored.startswith("scrypt$")


def test_an_argon2id_pin_hash_is_accepted() -> None:
    stored = PasswordHasher(type=Type.ID, memory_cost=8, time_cost=1, parallelism=1).hash("2468")
    kiosk = parse_config({"kiosk": {"maintenance_pin_hash": stored}}).kiosk
    assert kiosk.maintenance_pin_hash == stored


def test_unit_of_parse_config() -> None:
    assert parse_config({"face": {"threshold": 0.45}}).face.threshold == 0.45
    with pytest.raises(ConfigError):
        parse_config({"kiosk": {"fullscreen": "yes"}})


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[timeouts]\ngate_passage_s = nan", "timeouts.gate_passage_s: .*got nan"),
        ("[face]\nbudget_s = inf", "face.budget_s: .*got inf"),
        ("[policy]\nreference_max_age_h = -5", "policy.reference_max_age_h"),
        (f'[kiosk]\nid = "{"K" * 65}"', "kiosk.id: expected `str` of length <= 64"),
        # A link judged lost only after minutes would keep a dead controller's gate "closed".
        ("[devices]\ngate_link_lost_s = 120", "devices.gate_link_lost_s"),
        ("[devices]\ngate_ack_timeout_s = 0", "devices.gate_ack_timeout_s"),
    ],
)
def test_values_that_would_disable_a_safeguard_are_refused(
    tmp_path: Path, toml: str, message: str
) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_config(f)


# Issue 24 item 3: the schema (msgspec) reports every kind of mistake with the file,
# the key path and what is wrong.
@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[kiosk]\nlanes = 2", r"kiosk\.lanes: unknown key"),
        ("[kiosk]\n[kiosk.extra]\nx = 1", r"kiosk\.extra: unknown key"),
        ("[printer]\nmodel = 'x'", r"printer: unknown key"),
        ("[face]\nmax_frames = 2.5", r"face\.max_frames: expected `int`, got 2\.5"),
        ("[kiosk]\nfullscreen = 'yes'", r"kiosk\.fullscreen: expected `bool`, got 'yes'"),
        ("[kiosk]\nlanguages = ['en', 3]", r"kiosk\.languages\[1\]: .*got 3"),
        ("[devices]\ngate_baud = 9601", r"devices\.gate_baud: 9601 is not one of 1200, "),
        ("[kiosk]\nport = 'Changsha'", r"kiosk\.port: 'Changsha' is not a three-letter IATA"),
        ("[kiosk]\nscreen = 16", r"kiosk\.screen: expected `int` <= 15, got 16"),
        ("[privacy]\nreferral_image_retention_h = 721",
         r"privacy\.referral_image_retention_h: expected `float` <= 720"),
        ("[kiosk]\nlanguages = []", r"kiosk\.languages: expected `array` of length >= 1"),
    ],
)  # fmt: skip
def test_schema_errors_name_the_file_and_key(tmp_path: Path, toml: str, message: str) -> None:
    f = tmp_path / "lane.toml"
    f.write_text(toml)
    with pytest.raises(ConfigError) as exc:
        load_config(f)
    assert str(exc.value).startswith(f"{f}: ")
    assert re.search(message, str(exc.value)), str(exc.value)


def test_a_config_value_can_not_be_coerced_from_a_string() -> None:
    # strict: "3" is not the lane 3, and "true" is not true
    with pytest.raises(ConfigError, match=r"kiosk\.lane: expected `int`, got '3'"):
        parse_config({"kiosk": {"lane": "3"}})
    assert parse_config({"timeouts": {"face_s": 5}}).timeouts.face_s == 5.0  # int is a number


def test_the_deviation_policy_is_configurable_and_refers_by_default(tmp_path: Path) -> None:
    from kiosk.trust.deviation_list import DEFAULT_DEVIATION_POLICY, DEVIATION_POLICIES

    assert parse_config({}).trust.deviation_policy == DEFAULT_DEVIATION_POLICY == "refer"
    for policy in DEVIATION_POLICIES:  # the config accepts exactly what the verifier knows
        config = parse_config({"trust": {"deviation_policy": policy}})
        assert config.trust.deviation_policy == policy
