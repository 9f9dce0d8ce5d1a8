"""What the traveller is told about a referral: one calm message, whatever the reason.

Every referral reads the same, so the screen never tells an impostor which check
failed and a sensitive reason (watchlist) looks like any other; the specific
reasons are for the officer, who gets the codes and the English explanations
below. Five languages; `language_for_nationality` picks the one a passport's
holder most likely reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from policy.codes import REASON_CODES, SENSITIVE_CODES

LANGUAGES: Final[tuple[str, ...]] = ("en", "zh_CN", "ja", "ko", "ru")
_LANG_ALIASES: Final[dict[str, str]] = {
    "en": "en",
    "en_US": "en",
    "en_GB": "en",
    "zh": "zh_CN",
    "zh_CN": "zh_CN",
    "zh-CN": "zh_CN",
    "zh_Hans": "zh_CN",
    "ja": "ja",
    "ja_JP": "ja",
    "ko": "ko",
    "ko_KR": "ko",
    "ru": "ru",
    "ru_RU": "ru",
}

# The one referral message (Chinese punctuation full-width).
REFERRAL_MESSAGE: Final[dict[str, str]] = {
    "en": "An officer will help you. Please go to the staffed counter nearby.",
    "zh_CN": "工作人员将为您办理，请前往附近的人工通道。",
    "ja": "係員がご案内します。お近くの有人カウンターへお進みください。",
    "ko": "담당 직원이 도와드리겠습니다. 가까운 유인 심사대로 가 주십시오.",
    "ru": "Вам поможет сотрудник. Пройдите, пожалуйста, к ближайшей стойке с инспектором.",
}
# Kept under its old name: the policy's output and older callers use it.
GENERIC_REFERRAL: Final[dict[str, str]] = REFERRAL_MESSAGE

# ISO 3166 alpha-3 nationality (ICAO 9303 codes) -> the language offered first.
_NATIONALITY_LANGUAGE: Final[dict[str, str]] = {
    **dict.fromkeys(("CHN", "HKG", "MAC", "TWN"), "zh_CN"),
    "JPN": "ja",
    **dict.fromkeys(("KOR", "PRK"), "ko"),
    **dict.fromkeys(("RUS", "BLR", "KAZ", "KGZ", "TJK", "UZB"), "ru"),
    **dict.fromkeys(
        ("USA", "GBR", "GBD", "GBN", "GBO", "GBS", "GBP", "AUS", "CAN", "NZL", "IRL",
         "SGP", "IND", "PHL", "ZAF", "MLT"),
        "en",
    ),
}


def language_for_nationality(nationality: str, offered: Iterable[str] = LANGUAGES) -> str | None:
    """The language to offer first to a holder of `nationality`, if the lane has it."""
    lang = _NATIONALITY_LANGUAGE.get(nationality.upper())
    return lang if lang is not None and lang in tuple(offered) else None


# Officer-facing explanations of each reason (English; never on the traveller's screen).
EXPLANATIONS: Final[dict[str, tuple[str, str]]] = {
    "case_invalid": (
        "We could not complete the automatic check. An officer will assist you.",
        "自助查验未能完成,工作人员将为您办理。",
    ),
    "no_policy_in_force": (
        "This lane cannot process your entry automatically today. An officer will assist you.",
        "本通道今日无法为您自助办理,工作人员将为您办理。",
    ),
    "reference_data_stale": (
        "This lane cannot complete the automatic check right now. An officer will assist you.",
        "本通道暂时无法完成自助查验,工作人员将为您办理。",
    ),
    "chip_read_failed": (
        "The chip in your passport could not be read. An officer will assist you.",
        "无法读取您护照中的芯片,工作人员将为您办理。",
    ),
    "document_not_authentic": (
        "Your passport needs to be checked by an officer.",
        "您的护照需要由工作人员查验。",
    ),
    "chip_not_genuine": (
        "Your passport needs to be checked by an officer.",
        "您的护照需要由工作人员查验。",
    ),
    "document_not_accepted": (
        "This lane accepts passports only. Please go to a staffed counter.",
        "本通道仅受理护照,请前往人工通道办理。",
    ),
    "document_expired": (
        "Your passport is not valid today. Please see an officer.",
        "您的护照今日不在有效期内,请联系工作人员。",
    ),
    "face_mismatch": (
        "We could not match your face to your passport photo. An officer will assist you.",
        "未能将您的面部与护照照片比对一致,工作人员将为您办理。",
    ),
    "liveness_failed": (
        "We could not complete the face check. An officer will assist you.",
        "面部查验未能完成,工作人员将为您办理。",
    ),
    "under_minimum_age": (
        "Children must use a staffed counter. Please follow the signs.",
        "儿童须经人工通道办理,请按指示前往。",
    ),
    "no_entry_basis": (
        "We could not confirm your permission to enter. An officer will assist you.",
        "未能确认您的入境许可,工作人员将为您办理。",
    ),
    "nationality_not_eligible": (
        "Visa-free transit is not available for your nationality at this lane. "
        "An officer will assist you.",
        "您的国籍不适用本通道的过境免签政策,工作人员将为您办理。",
    ),
    "port_not_designated": (
        "Visa-free transit requires a designated airport for entry and departure. "
        "An officer will assist you.",
        "过境免签须经指定口岸入境和出境,工作人员将为您办理。",
    ),
    "transit_not_third_country": (
        "Visa-free transit requires onward travel to a third country or region. "
        "An officer will assist you.",
        "过境免签须前往第三国或地区,工作人员将为您办理。",
    ),
    "no_onward_journey": (
        "We could not find your onward ticket. Please have your boarding pass ready "
        "for an officer.",
        "未能查到您的联程客票,请准备好登机牌交工作人员查验。",
    ),
    "onward_not_confirmed": (
        "Your onward ticket needs a confirmed date and seat. An officer will assist you.",
        "您的联程客票须有确定日期和座位,工作人员将为您办理。",
    ),
    "onward_not_verified": (
        "Boarding pass shown, not verified: it carries no signature of its carrier that "
        "the border distributes, and there is no advance passenger information. Check "
        "the onward booking with the airline.",
        "已出示登机牌,但未经验证:登机牌无边检下发的承运人签名,且无预报旅客信息。请向航空公司核实联程订座。",
    ),
    "transit_exceeds_limit": (
        "Your onward departure is later than visa-free transit allows. An officer will assist you.",
        "您的离境时间超出过境免签允许的停留期限,工作人员将为您办理。",
    ),
    "document_expires_before_departure": (
        "Your passport expires before your onward departure. An officer will assist you.",
        "您的护照在离境前到期,工作人员将为您办理。",
    ),
    "no_entry_record": (
        "We could not find your entry record. An officer will assist you.",
        "未能查到您的入境记录,工作人员将为您办理。",
    ),
    "overstay": (
        "Your permitted stay has ended. Please see an officer.",
        "您的许可停留期限已过,请联系工作人员。",
    ),
}


def _lang(lang: str) -> str:
    try:
        return _LANG_ALIASES[lang]
    except KeyError:
        have = ", ".join(LANGUAGES)
        raise ValueError(f"no traveller messages in language {lang!r} (have {have})") from None


def explanation(code: str) -> str:
    """The officer's explanation of `code` (English)."""
    if code in SENSITIVE_CODES:
        return "A sensitive check needs an officer (see the officer view)."
    try:
        return EXPLANATIONS[code][0]
    except KeyError:
        raise ValueError(f"unknown reason code {code!r}") from None


def referral_message(lang: str) -> str:
    """The traveller's referral text in `lang` (the same for every reason)."""
    return REFERRAL_MESSAGE[_lang(lang)]


def traveller_message(code: str, lang: str) -> str | None:
    """What the traveller reads for `code`: the one referral message; None for a
    sensitive code (it adds nothing to what the screen shows).

    Raises ValueError for an unknown code or language: a missing translation is a
    defect to catch in tests, not something to paper over at the lane.
    """
    language = _lang(lang)
    if code in SENSITIVE_CODES:
        return None
    if code not in EXPLANATIONS:
        raise ValueError(f"unknown reason code {code!r}")
    return REFERRAL_MESSAGE[language]


def traveller_messages(codes: tuple[str, ...], lang: str) -> list[str]:
    """The traveller's lines for a referral: the one message, or none for an admission."""
    for code in codes:
        traveller_message(code, lang)  # unknown codes and languages are errors
    return [REFERRAL_MESSAGE[_lang(lang)]] if codes else []


def _self_check() -> None:
    missing = [c for c in REASON_CODES if c not in EXPLANATIONS and c not in SENSITIVE_CODES]
    if missing:
        raise RuntimeError(f"reason codes without explanations: {missing}")
    if set(REFERRAL_MESSAGE) != set(LANGUAGES):
        raise RuntimeError("the referral message is missing a language")


_self_check()
