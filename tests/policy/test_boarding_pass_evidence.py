"""Issue 19 item 3: a boarding pass is evidence of onward travel only when its
carrier signed it with a key the border distributes. On main a self-made BCBP
(carrier XX, flight 1, no security data) gave `confirmed: true` onward to KOR and
the traveller was admitted under the 240-hour exemption."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk.border.errors import PublishError
from kiosk.border.publish import prepare
from kiosk.decision.journey import JourneyResolver
from kiosk.decision.journey.carrier_keys import KIND_CARRIER_KEY, CarrierKeys
from kiosk.decision.policy_adapter import PackPolicy
from kiosk.store.database import open_local
from kiosk.store.reference import ReferenceStore
from policy.messages import explanation
from tests.policy.bcbp_builder import Leg, build_bcbp
from tests.policy.carrier import OTHER_KEY, keys_for, public_pem, signed
from tests.policy.conftest import make_case

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 3, 1, 10, 30, tzinfo=CST)  # day 60


@dataclass
class Traveller:
    document_number: str = "X1234567"
    surname: str = "SMITH"


def self_made(carrier: str = "XX", flight: str = "1") -> str:
    """The attack: Tokyo -> Changsha today, Changsha -> Seoul in 4 days, seat 12A,
    no security data; anyone with a barcode generator prints this."""
    return build_bcbp("SMITH/JANE", [Leg("NRT", "CSX", carrier, flight, 60),
                                     Leg("CSX", "ICN", carrier, flight, 64, "012A")])


def decide(text: str, resolver: JourneyResolver) -> tuple[str, str | None, tuple[str, ...]]:
    resolver.offer_boarding_pass(text)
    journey = resolver(Traveller(), NOW)
    result = PackPolicy().evaluate(make_case(journey=journey))
    return result.decision, result.basis, result.reasons


def test_a_self_made_pass_is_referred_not_admitted() -> None:
    resolver = JourneyResolver()  # what the lane built on main: no carrier keys at all
    resolver.offer_boarding_pass(self_made())
    resolved = resolver.resolve(Traveller(), NOW)
    assert resolved.journey is not None and resolved.journey.verified is False
    assert any("not verified" in n and "no security data" in n for n in resolved.notes)
    assert decide(self_made(), JourneyResolver()) == (
        "refer", None, ("no_entry_basis", "onward_not_verified"))


def test_a_self_made_pass_is_referred_even_when_the_carrier_has_a_key() -> None:
    assert decide(self_made("KE", "0818"), JourneyResolver(carrier_keys=keys_for("KE")))[0] == (
        "refer")


def test_the_carriers_signature_makes_the_pass_evidence() -> None:
    resolver = JourneyResolver(carrier_keys=keys_for("XX"))
    assert decide(signed(self_made()), resolver) == ("admit", "transit_240h", ())
    resolver.offer_boarding_pass(signed(self_made()))
    assert any("signed by carrier XX" in n for n in resolver.resolve(Traveller(), NOW).notes)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        (signed(self_made(), OTHER_KEY), "is not carrier XX's"),  # a key nobody distributes
        (signed(self_made()).replace("064Y", "069Y"), "is not carrier XX's"),  # altered date
        (self_made() + "^1" + "04" + "AAAA", "type '1'"),  # another security type
        (signed(self_made("YY")), "no key of carrier YY"),  # a carrier the border has no key for
    ],
    ids=["foreign-key", "altered-after-signing", "other-type", "unknown-carrier"],
)
def test_anything_but_the_carriers_signature_refers(text: str, why: str) -> None:
    resolver = JourneyResolver(carrier_keys=keys_for("XX"))
    resolver.offer_boarding_pass(text)
    resolved = resolver.resolve(Traveller(), NOW)
    assert resolved.journey is not None and not resolved.journey.verified
    assert any(why in n for n in resolved.notes), resolved.notes
    assert decide(text, resolver)[2] == ("no_entry_basis", "onward_not_verified")


def test_the_officer_reads_boarding_pass_shown_not_verified() -> None:
    assert explanation("onward_not_verified").startswith("Boarding pass shown, not verified")
    result = PackPolicy().evaluate(make_case(journey=_journey_of(self_made())))
    assert any("boarding pass shown, not verified" in line for line in result.trace)


def _journey_of(text: str) -> dict[str, object]:
    resolver = JourneyResolver()
    resolver.offer_boarding_pass(text)
    journey = resolver(Traveller(), NOW)
    assert journey is not None
    return journey


def test_carrier_keys_are_reference_data(tmp_path: Path) -> None:
    """Published at the border (validated), pulled into the kiosk's reference data."""
    with pytest.raises(PublishError, match="needs --key"):
        prepare(KIND_CARRIER_KEY, public_pem(), None)
    with pytest.raises(PublishError, match="not a PEM public key"):
        prepare(KIND_CARRIER_KEY, b"garbage", "XX")
    with pytest.raises(PublishError, match="not DESIGNATOR"):
        prepare(KIND_CARRIER_KEY, public_pem(), "X-X")
    [item] = prepare(KIND_CARRIER_KEY, public_pem(), "XX:2026")
    store = ReferenceStore(open_local(f"sqlite:///{tmp_path}/local.sqlite"))
    keys = CarrierKeys(store)
    resolver = JourneyResolver(carrier_keys=keys)
    assert decide(signed(self_made()), resolver)[0] == "refer"  # not distributed yet
    store.put(item.kind, item.key, item.payload, f"border at {datetime.now(UTC).isoformat()}")
    assert decide(signed(self_made()), resolver) == ("admit", "transit_240h", ())


def test_the_boarding_pass_command_verifies_with_given_carrier_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from kiosk.cli.main import main

    pem = tmp_path / "xx.pem"
    pem.write_bytes(public_pem())
    base = ["policy", "boarding-pass", "--date", "2026-03-01", "--json"]
    assert main([*base, "--text", self_made()]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["onward"]["onward"]["verified"] is False
    assert "no security data" in out["verification"]
    assert main([*base, "--text", signed(self_made()), "--carrier-key", f"XX={pem}"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["onward"]["onward"]["verified"] is True
    assert out["verification"] == "boarding pass signed by carrier XX"
