"""Spoken prompts: QtTextToSpeech (speech-dispatcher / espeak-ng) where the machine
can speak, silence (reported once, not raised) where it cannot; a mute switch."""

from __future__ import annotations

import logging
from typing import Protocol

from PySide6.QtCore import QLocale

from ui.i18n import spoken

log = logging.getLogger(__name__)


class Speaker(Protocol):
    muted: bool

    def say(self, text: str, language: str) -> None: ...

    def stop(self) -> None: ...


class SilentSpeaker:
    """No engine: nothing is spoken; `reason` says why (for the kiosk's status)."""

    def __init__(self, reason: str = "muted") -> None:
        self.reason = reason
        self.muted = True

    def say(self, text: str, language: str) -> None:
        pass

    def stop(self) -> None:
        pass


class RecordingSpeaker:
    """For tests and scenarios: remembers what would have been spoken."""

    def __init__(self) -> None:
        self.muted = False
        self.spoken: list[tuple[str, str]] = []  # (language, text)

    def say(self, text: str, language: str) -> None:
        if not self.muted:
            self.spoken.append((language, spoken(text)))

    def stop(self) -> None:
        pass


class QtSpeaker:
    """QTextToSpeech with a voice per language; a language without a voice stays silent."""

    def __init__(self, engine: str) -> None:
        from PySide6.QtTextToSpeech import QTextToSpeech

        self.muted = False
        self._tts = QTextToSpeech(engine)
        self.engine = engine
        self._available = {loc.name() for loc in self._tts.availableLocales()}
        self.unavailable: set[str] = set()

    def _locale(self, language: str) -> QLocale | None:
        wanted = QLocale(language)
        if wanted.name() in self._available:
            return wanted
        for name in self._available:  # any voice of the language ("ru" for "ru_UA")
            if name.split("_")[0] == wanted.name().split("_")[0]:
                return QLocale(name)
        return None

    def say(self, text: str, language: str) -> None:
        if self.muted:
            return
        locale = self._locale(language)
        if locale is None:
            if language not in self.unavailable:
                self.unavailable.add(language)
                log.warning("no speech voice for %s: prompts in it are not spoken", language)
            return
        self._tts.stop()
        self._tts.setLocale(locale)
        self._tts.say(spoken(text))

    def stop(self) -> None:
        self._tts.stop()


def make_speaker(enabled: bool) -> Speaker:
    """The machine's speech engine, or a SilentSpeaker saying why there is none."""
    if not enabled:
        return SilentSpeaker("speech is off in the configuration")
    try:
        from PySide6.QtTextToSpeech import QTextToSpeech

        # Qt's "mock" engine is for Qt's own tests: it would speak into the void.
        engines = [e for e in QTextToSpeech.availableEngines() if e != "mock"]
        if not engines:
            return SilentSpeaker("no text-to-speech engine is installed")
        speaker = QtSpeaker("speechd" if "speechd" in engines else engines[0])
    except Exception as exc:  # missing pyside6-addons, no speech-dispatcher ...
        log.warning("speech unavailable: %s", exc)
        return SilentSpeaker(f"speech unavailable: {exc}")
    if not speaker._available:
        return SilentSpeaker(f"the {speaker.engine} engine has no voices (is its service running?)")
    return speaker
