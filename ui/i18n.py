"""Qt translations (English in code, the others in ui/translations/egate_*.qm) and
line breaking that keeps CJK words whole."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

TRANSLATIONS = Path(__file__).with_name("translations")

# Each language by its own name (the traveller finds theirs without reading ours).
LANGUAGE_NAMES = {
    "zh_CN": "中文",
    "en": "English",
    "ja": "日本語",
    "ko": "한국어",
    "ru": "Русский",
}
CJK = frozenset({"zh_CN", "ja", "ko"})

WORD_JOINER = "\u2060"  # no line break here (UAX #14 class WJ)
ZERO_WIDTH_SPACE = "\u200b"  # a line may break here (the .ts files mark phrases with it)
# A line may break after these (full-width punctuation and spaces) and before opening brackets.
_BREAK_AFTER = frozenset(" \n\t\u3000，。、！？；：）」』】,.!?;:)" + ZERO_WIDTH_SPACE)
_RU_SHORT_WORD = re.compile(r"(?<!\S)(\w) ")
_BREAK_BEFORE = frozenset(" \n\t\u3000（「『【(" + ZERO_WIDTH_SPACE)


def keep_words(text: str, language: str) -> str:
    """Text whose lines break only between phrases.

    Qt (like UAX #14) breaks Chinese and Japanese between any two characters, which
    splits words ("工作人/员"). For CJK languages a word joiner goes between every
    two characters except after punctuation, at spaces and at the translators'
    zero-width spaces, so a line breaks only there.
    """
    if language == "ru":
        # Russian typesetting: a one-letter word ("с", "к", "в") stays with the next.
        return _RU_SHORT_WORD.sub("\\1\u00a0", text)
    if language not in CJK or not text:
        return text
    out: list[str] = []
    for ch, nxt in zip(text, text[1:] + "\n", strict=True):
        out.append(ch)
        if nxt != "\n" and ch not in _BREAK_AFTER and nxt not in _BREAK_BEFORE:
            out.append(WORD_JOINER)
    return "".join(out).removesuffix(WORD_JOINER)


def spoken(text: str) -> str:
    """Text for the speech engine: without the invisible line-break marks."""
    return text.replace(WORD_JOINER, "").replace(ZERO_WIDTH_SPACE, "").replace("\u00a0", " ")


def break_allowed(text: str, index: int) -> bool:
    """May a line end before text[index] (the marks of keep_words considered)?"""
    before, after = text[index - 1], text[index]
    return WORD_JOINER not in (before, after)


class Translations:
    """Switches the application's language at run time (each screen retranslates
    itself on QEvent.LanguageChange). The installed translator is application-wide,
    so it is held at class level: a second window must not inherit a stale one."""

    _translator: QTranslator | None = None

    def __init__(self) -> None:
        self.language = "en"
        self.use("en")

    def use(self, language: str) -> bool:
        app = QCoreApplication.instance()
        if app is None:
            return False
        if Translations._translator is not None:
            app.removeTranslator(Translations._translator)
            Translations._translator = None
        self.language = language
        if language == "en":
            return True
        translator = QTranslator(app)
        if not translator.load(QLocale(language), "egate", "_", str(TRANSLATIONS)):
            return False
        app.installTranslator(translator)
        Translations._translator = translator
        return True
