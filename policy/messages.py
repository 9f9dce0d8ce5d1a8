"""Traveller-safe messages for reason codes, in English and Simplified Chinese.

A message tells the traveller what to do next without disclosing why a
sensitive check failed; sensitive codes (watchlist) have no message at all, and
the screen shows only the generic referral text.
"""

from __future__ import annotations

from typing import Final

from policy.codes import REASON_CODES, SENSITIVE_CODES

LANGUAGES: Final[tuple[str, ...]] = ("en", "zh_CN")
_LANG_ALIASES: Final[dict[str, str]] = {
    "en": "en",
    "en_US": "en",
    "en_GB": "en",
    "zh": "zh_CN",
    "zh_CN": "zh_CN",
    "zh-CN": "zh_CN",
    "zh_Hans": "zh_CN",
}

GENERIC_REFERRAL: Final[dict[str, str]] = {
    "en": "Please wait. An officer will assist you.",
    "zh_CN": "请稍候,工作人员将为您办理。",
}

_MESSAGES: Final[dict[str, tuple[str, str]]] = {
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
        raise ValueError(f"no traveller messages in language {lang!r} (have en, zh_CN)") from None


def traveller_message(code: str, lang: str) -> str | None:
    """The message to show the traveller for `code`, or None for a sensitive code.

    Raises ValueError for an unknown code or language: a missing translation is a
    defect to catch in tests, not something to paper over at the lane.
    """
    index = 0 if _lang(lang) == "en" else 1
    if code in SENSITIVE_CODES:
        return None
    if code not in _MESSAGES:
        raise ValueError(f"unknown reason code {code!r}")
    return _MESSAGES[code][index]


def traveller_messages(codes: tuple[str, ...], lang: str) -> list[str]:
    """Distinct messages for the codes in order, the generic text if none may be shown."""
    out: list[str] = []
    # "No entry basis" adds nothing when a more specific reason explains it.
    if "no_entry_basis" in codes and len(codes) > 1:
        codes = tuple(c for c in codes if c != "no_entry_basis")
    for code in codes:
        msg = traveller_message(code, lang)
        if msg is not None and msg not in out:
            out.append(msg)
    if codes and not out:
        out.append(GENERIC_REFERRAL[_lang(lang)])
    return out


def _self_check() -> None:
    missing = [c for c in REASON_CODES if c not in _MESSAGES and c not in SENSITIVE_CODES]
    if missing:
        raise RuntimeError(f"reason codes without traveller messages: {missing}")


_self_check()
