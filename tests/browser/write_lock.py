"""Make a live server's database refuse its writes for a while, for real.

The test takes the database's write lock from outside the server, as another
client holding a long transaction would: reads (sign-in, pages, loading a
document) go on, but the server cannot commit an edit until the lock is let go.

- SQLite: `BEGIN IMMEDIATE` holds the one write lock. The server waits out its
  busy timeout, fails the write, logs it, and retries.
- PostgreSQL: `LOCK TABLE ... IN EXCLUSIVE MODE` on the update log lets the
  server's INSERT wait, visibly, in pg_locks.
"""

import asyncio
import re
import sqlite3
import time
from contextlib import contextmanager
from urllib.parse import urlparse


class WriteLock:
    def __init__(self, server):
        self.server = server
        self.url = server.database.url
        self._connection = None

    def acquire(self) -> None:
        if self.url.startswith("sqlite"):
            self._connection = sqlite3.connect(urlparse(self.url).path, timeout=30, isolation_level=None)
            self._connection.execute("BEGIN IMMEDIATE")
        else:
            import psycopg

            self._connection = psycopg.connect(self.url)
            self._connection.execute("LOCK TABLE documents_updatelog IN EXCLUSIVE MODE")

    def release(self) -> None:
        if self._connection is not None:
            self._connection.rollback() if not self.url.startswith("sqlite") else self._connection.execute("ROLLBACK")
            self._connection.close()
            self._connection = None

    def server_is_blocked(self, document_id) -> bool:
        """True once the server has tried to write the document and could not."""
        if self.url.startswith("sqlite"):
            # Nothing in SQLite shows a waiting writer: wait for the server to say its write failed.
            return re.search(rf"document {document_id}: write failed", self.server.log()) is not None
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as probe:
            waiting = probe.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'documents_updatelog' AND NOT l.granted"
            ).fetchone()[0]
        return waiting > 0

    async def wait_until_server_is_blocked(self, document_id, timeout: float = 60.0) -> None:
        """Polls (the database or the server's log, off the event loop) until the server's write is held up."""
        deadline = time.monotonic() + timeout
        while not await asyncio.to_thread(self.server_is_blocked, document_id):
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not try to write within {timeout}s:\n{self.server.log()[-3000:]}")
            await asyncio.sleep(0.1)


@contextmanager
def write_lock(server):
    lock = WriteLock(server)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
