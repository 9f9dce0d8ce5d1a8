"""Qt translations: the UI's strings are English in code, Chinese in egate_zh_CN.qm."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

TRANSLATIONS = Path(__file__).with_name("translations")

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


class Translations:
    """Switches the application's language at run time (each screen retranslates
    itself on QEvent.LanguageChange)."""

    def __init__(self) -> None:
        self._translator: QTranslator | None = None
        self.language = "en"

    def use(self, language: str) -> bool:
        app = QCoreApplication.instance()
        if app is None:
            return False
        if self._translator is not None:
            app.removeTranslator(self._translator)
            self._translator = None
        self.language = language
        if language == "en":
            return True
        translator = QTranslator(app)
        if not translator.load(QLocale(language), "egate", "_", str(TRANSLATIONS)):
            return False
        app.installTranslator(translator)
        self._translator = translator
        return True
