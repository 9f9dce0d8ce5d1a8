"""espeak-ng as the kiosk's speech engine: its voice for each kiosk language and the
voices this machine has (Qt-free: `egate doctor` and ui/traveller/speech.py share it)."""

from __future__ import annotations

import shutil
import subprocess

# espeak-ng voices per kiosk language, best first. Mandarin: "cmn" reads the pinyin of
# each character as English words (Debian's espeak-ng 1.51); the pinyin voice does not.
ESPEAK_VOICES: dict[str, tuple[str, ...]] = {
    "zh_CN": ("cmn-latn-pinyin", "cmn"),
    "en": ("en-gb", "en-us", "en"),
    "ja": ("ja",),
    "ko": ("ko",),
    "ru": ("ru",),
}
ESPEAK_WORDS_PER_MINUTE = 160  # a little slower than espeak-ng's 175: a hall, strangers


def espeak_voices(program: str = "espeak-ng") -> set[str] | None:
    """The voice names espeak-ng has, or None when the program is missing or broken.
    Runs once at start-up (before the window shows), bounded by a timeout."""
    path = shutil.which(program)
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--voices"], capture_output=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    names: set[str] = set()
    for line in out.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 4:
            names.add(cols[1].lower())  # "Pty Language Age/Gender VoiceName File ..."
    return names


def voice_for(language: str, voices: set[str]) -> str | None:
    """The best voice of `voices` for a kiosk language, or None."""
    wanted = ESPEAK_VOICES.get(language) or ESPEAK_VOICES.get(language.split("_")[0], ())
    return next((v for v in wanted if v in voices), None)
