"""Traveller-safe messages: every code in both languages, none for sensitive codes."""

from __future__ import annotations

import pytest

from policy.codes import REASON_CODES, SENSITIVE_CODES, ordered_reasons
from policy.engine import evaluate
from policy.messages import GENERIC_REFERRAL, traveller_message, traveller_messages
from policy.shipped import shipped_packs
from tests.policy.conftest import make_case


@pytest.mark.parametrize("code", [c for c in REASON_CODES if c not in SENSITIVE_CODES])
def test_every_code_has_english_and_chinese(code: str) -> None:
    en = traveller_message(code, "en")
    zh = traveller_message(code, "zh_CN")
    assert en and zh and en != zh
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh)
    assert code not in en  # no internal codes on the traveller's screen
    for word in ("watchlist", "clone", "fraud", "forged", "police"):
        assert word not in en.lower()


def test_watchlist_has_no_message() -> None:
    assert traveller_message("watchlist_hit", "en") is None
    assert traveller_message("watchlist_hit", "zh_CN") is None
    assert traveller_message("watchlist_hit", "zh") is None


def test_sensitive_reason_alone_shows_only_the_generic_text() -> None:
    result = evaluate(make_case({"checks.watchlist_hit": True}), shipped_packs()).to_json()
    assert result["traveller_messages"]["en"] == [GENERIC_REFERRAL["en"]]
    assert result["traveller_messages"]["zh_CN"] == [GENERIC_REFERRAL["zh_CN"]]
    assert "watchlist" not in str(result["traveller_messages"]).lower()


def test_sensitive_reason_with_others_is_not_revealed() -> None:
    msgs = traveller_messages(("face_mismatch", "watchlist_hit"), "en")
    assert msgs == [traveller_message("face_mismatch", "en")]


def test_admission_has_no_messages() -> None:
    assert traveller_messages((), "en") == []


def test_unknown_code_or_language_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown reason code"):
        traveller_message("made_up", "en")
    with pytest.raises(ValueError, match="no traveller messages"):
        traveller_message("overstay", "fr")


def test_ordered_reasons_rejects_unknown_codes() -> None:
    assert ordered_reasons({"overstay", "case_invalid"}) == ("case_invalid", "overstay")
    with pytest.raises(ValueError):
        ordered_reasons({"nonsense"})


def test_generic_no_entry_basis_gives_way_to_the_specific_message() -> None:
    msgs = traveller_messages(("no_entry_basis", "transit_exceeds_limit"), "en")
    assert msgs == [traveller_message("transit_exceeds_limit", "en")]
    assert traveller_messages(("no_entry_basis",), "en") == [
        traveller_message("no_entry_basis", "en")
    ]
    assert traveller_messages(("no_entry_basis", "watchlist_hit"), "en") == [GENERIC_REFERRAL["en"]]
