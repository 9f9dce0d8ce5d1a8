"""What push, pull and the sync loop share: the result of a cycle, the short
error text it carries, and chunking of long id lists."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

ERROR_MAX = 500


@dataclass
class SyncResult:
    """One cycle: `pushed` events confirmed in the border database (new plus
    confirmed re-deliveries), `pending` still in the outbox, `pulled` reference
    items changed locally, `error` the first failure (None when all went well)."""

    pushed: int = 0
    duplicates: int = 0
    rejected: int = 0
    pending: int = 0
    pulled: int = 0
    withdrawn: int = 0
    error: str | None = None
    finished_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_json(self) -> dict[str, Any]:
        return {
            "pushed": self.pushed,
            "pending": self.pending,
            "pulled": self.pulled,
            "error": self.error,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "withdrawn": self.withdrawn,
        }


def short(exc: BaseException) -> str:
    """One line naming the error, the driver's message rather than SQLAlchemy's
    wrapper when there is one, at most ERROR_MAX characters."""
    text = " ".join(str(exc).split())
    if isinstance(exc, SQLAlchemyError) and getattr(exc, "orig", None) is not None:
        text = " ".join(str(exc.orig).split()) or text  # type: ignore[attr-defined]
    return f"{type(exc).__name__}: {text}"[:ERROR_MAX]


def chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
