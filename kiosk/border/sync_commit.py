"""A commit the synchronous standby never confirmed is not an acknowledgement.

With synchronous replication a COMMIT waits until the standby holds its WAL,
for as long as the standby is away (statement_timeout does not end that wait;
the watchdog's deadline does, with an error). If the wait is cancelled
(pg_cancel_backend, a client's cancel request), PostgreSQL keeps the commit on
the primary alone and answers *success* with only a WARNING ("canceling wait
for synchronous replication ... the transaction has already committed locally,
but might not have been replicated"). A kiosk that
took that for an acknowledgement would mark its events sent, and a failover
right after would lose them from the border. So the notice turns the commit
into an error: the caller treats it as an outage, keeps its events queued and
re-delivers them, which the border confirms by chain hash (no duplicate) or,
after a failover to a standby that lacks them, inserts again (no loss).
"""

from __future__ import annotations

import weakref
from typing import Any

from sqlalchemy import Engine, event

# PostgreSQL's message (src/backend/replication/syncrep.c), SQLSTATE 01000.
_CANCELLED_WAIT = "canceling wait for synchronous replication"
# Per DBAPI connection: [True] once the notice came during the current commit.
_FLAGS: weakref.WeakKeyDictionary[Any, list[bool]] = weakref.WeakKeyDictionary()


def guard_commits(engine: Engine) -> None:
    """Make every commit on `engine` fail when the synchronous standby's
    confirmation was cancelled (see the module docstring)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        flag = [False]  # the handler holds the list, not the connection (no cycle)

        def notice(diag: Any) -> None:
            if (diag.message_primary or "").startswith(_CANCELLED_WAIT):
                flag[0] = True

        dbapi_connection.add_notice_handler(notice)
        _FLAGS[dbapi_connection] = flag

    dialect = engine.dialect
    commit = dialect.do_commit

    def checked_commit(dbapi_connection: Any) -> None:
        # SQLAlchemy passes the pool's proxy here; the flag is the raw connection's.
        raw = getattr(dbapi_connection, "dbapi_connection", dbapi_connection)
        flag = _FLAGS.get(raw, [False])
        flag[0] = False
        commit(dbapi_connection)  # the notice handler runs inside this call
        if flag[0]:
            flag[0] = False
            raise dialect.loaded_dbapi.OperationalError(
                "the commit was not confirmed by the synchronous standby (its wait was "
                "cancelled): it may exist on the primary only, so it is not acknowledged"
            )

    setattr(dialect, "do_commit", checked_commit)  # noqa: B010 (an instance override)
