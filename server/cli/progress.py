"""A progress bar on a terminal; occasional plain lines elsewhere (CI logs, pipes)."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self._started = time.monotonic()
        self._last_line = 0.0

    def advance(self, count: int = 1) -> None:
        self.done = min(self.total, self.done + count)
        now = time.monotonic()
        if self.interactive:
            self._draw()
        elif now - self._last_line >= 5 or self.done == self.total:
            self._last_line = now
            self.stream.write(f"{self.label}: {self.done}/{self.total}\n")
            self.stream.flush()

    def _draw(self) -> None:
        width = 30
        fraction = self.done / self.total if self.total else 1.0
        filled = int(width * fraction)
        elapsed = time.monotonic() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\r{self.label} [{bar}] {self.done}/{self.total} {fraction:4.0%} {rate:,.0f}/s"
        )
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()
