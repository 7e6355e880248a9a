"""Count the SQL statements the ORM sends, without printing them (they carry values)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        if message.startswith(("Created connection", "Closed connection")):
            return
        statement = str(record.args[0]) if record.args else message
        self.statements.append(statement.split(None, 1)[0].upper())


@contextmanager
def count_queries() -> Iterator[list[str]]:
    """Yields the list of statement verbs (SELECT, INSERT …) sent inside the block."""
    logger = logging.getLogger("tortoise.db_client")
    counter = _Counter()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(counter)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield counter.statements
    finally:
        logger.removeHandler(counter)
        logger.setLevel(level)
        logger.propagate = propagate
