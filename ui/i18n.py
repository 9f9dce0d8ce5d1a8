"""Qt translations: the UI's strings are English in code, Chinese in egate_zh_CN.qm."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

TRANSLATIONS = Path(__file__).with_name("translations")

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


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
