"""The one error base of the kiosk's refusals: a stable machine `code` (documented,
matched by callers and tests) and a human `message`."""

from __future__ import annotations


class CodedError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
