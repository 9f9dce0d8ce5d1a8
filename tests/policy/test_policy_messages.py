"""The traveller's referral text: one calm message in five languages, the same for
every reason; nothing for sensitive codes; explanations for the officer."""

from __future__ import annotations

import pytest

from policy.codes import REASON_CODES, SENSITIVE_CODES, ordered_reasons
from policy.engine import evaluate
from policy.messages import (
    LANGUAGES,
    REFERRAL_MESSAGE,
    explanation,
    language_for_nationality,
    traveller_message,
    traveller_messages,
)
from policy.shipped import shipped_packs
from tests.policy.conftest import make_case


@pytest.mark.parametrize("code", [c for c in REASON_CODES if c not in SENSITIVE_CODES])
def test_every_code_reads_the_same_calm_message(code: str) -> None:
    for lang in LANGUAGES:
        assert traveller_message(code, lang) == REFERRAL_MESSAGE[lang]
    assert explanation(code)  # the officer still learns which check it was
    assert code not in str(REFERRAL_MESSAGE)


def test_message_is_native_text_with_full_width_chinese_punctuation() -> None:
    zh = REFERRAL_MESSAGE["zh_CN"]
    assert "," not in zh and "." not in zh and "，" in zh and zh.endswith("。")
    assert any("\u3040" <= ch <= "\u30ff" for ch in REFERRAL_MESSAGE["ja"])  # kana
    assert any("\uac00" <= ch <= "\ud7a3" for ch in REFERRAL_MESSAGE["ko"])  # hangul
    assert any("\u0400" <= ch <= "\u04ff" for ch in REFERRAL_MESSAGE["ru"])  # cyrillic
    for word in ("watchlist", "clone", "fraud", "forged", "police", "face", "passport"):
        assert word not in REFERRAL_MESSAGE["en"].lower()


def test_watchlist_has_no_message() -> None:
    assert traveller_message("watchlist_hit", "en") is None
    assert traveller_message("watchlist_hit", "zh") is None


def test_sensitive_reason_alone_reads_like_any_other_referral() -> None:
    result = evaluate(make_case({"checks.watchlist_hit": True}), shipped_packs()).to_json()
    face = evaluate(make_case({"checks.face_match": False}), shipped_packs()).to_json()
    for lang in LANGUAGES:
        assert result["traveller_messages"][lang] == [REFERRAL_MESSAGE[lang]]
        assert face["traveller_messages"][lang] == result["traveller_messages"][lang]
    assert "watchlist" not in str(result["traveller_messages"]).lower()


def test_admission_has_no_messages() -> None:
    assert traveller_messages((), "en") == []


def test_unknown_code_or_language_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown reason code"):
        traveller_message("made_up", "en")
    with pytest.raises(ValueError, match="no traveller messages"):
        traveller_message("overstay", "fr")
    with pytest.raises(ValueError, match="unknown reason code"):
        traveller_messages(("face_mismatch", "made_up"), "en")


def test_ordered_reasons_rejects_unknown_codes() -> None:
    assert ordered_reasons({"overstay", "case_invalid"}) == ("case_invalid", "overstay")
    with pytest.raises(ValueError):
        ordered_reasons({"nonsense"})


def test_language_offered_from_nationality() -> None:
    assert language_for_nationality("JPN") == "ja"
    assert language_for_nationality("KOR") == "ko"
    assert language_for_nationality("RUS") == "ru"
    assert language_for_nationality("CHN") == "zh_CN"
    assert language_for_nationality("USA") == "en"
    assert language_for_nationality("DEU") is None
    assert language_for_nationality("JPN", ("zh_CN", "en")) is None  # lane lacks it
