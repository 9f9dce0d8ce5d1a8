"""Qt's own messages: passed on unchanged, except a documented few that come from the
machine's audio set-up, not from egate, and that nobody at a lane can act on.

Filtered (docs/traveller.md, "Quiet stderr"), each printed by Qt Multimedia when the
speech output loads it:

- `qt.multimedia.ffmpeg`: "Using Qt multimedia with FFmpeg version ..." - a version
  banner at every start, informational;
- `qt.multimedia.symbolsresolver`: "Couldn't load/resolve pipewire-0.3 ..." - the
  optional PipeWire library is not installed; Qt uses PulseAudio instead;
- "PulseAudioService: pa_context_connect() failed" - no sound server (a container, a
  headless test machine). egate itself then says "no audio output device: prompts are
  synthesised but not heard", once, when it has something to say.

Everything else, Qt warnings included, still reaches stderr (or pytest-qt's capture).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# (category, start of the message)
KNOWN: tuple[tuple[str, str], ...] = (
    ("qt.multimedia.ffmpeg", "Using Qt multimedia with FFmpeg version"),
    ("qt.multimedia.symbolsresolver", "Couldn't load pipewire"),
    ("qt.multimedia.symbolsresolver", "Couldn't resolve pipewire"),
    ("default", "PulseAudioService: pa_context_connect() failed"),
)

_installed: list[Callable[..., Any] | None] = []


def is_known(category: str | None, message: str) -> bool:
    return any((category or "default") == c and message.startswith(m) for c, m in KNOWN)


def quiet_known_qt_messages() -> None:
    """Install the filter once, in front of whatever handler is in place."""
    if _installed:
        return
    from PySide6.QtCore import QtMsgType, qFormatLogMessage, qInstallMessageHandler

    def handler(mode: QtMsgType, context: Any, message: str) -> None:
        if is_known(context.category, message):
            return
        previous = _installed[0] if _installed else None
        if previous is not None:
            previous(mode, context, message)
            return
        import sys

        print(qFormatLogMessage(mode, context, message), file=sys.stderr, flush=True)

    _installed.append(None)
    _installed[0] = qInstallMessageHandler(handler)
