"""Stopping the process's jobs at a safe point.

On shutdown ``serve`` asks its jobs to stop (:func:`request`); a job calls :func:`check`
between batches, which raises :class:`StopRequested` once asked, so it stops with every
committed batch recorded and no transaction cut off halfway (cancelling a task in the middle
of a commit can leave its transaction open on the server).
"""

from __future__ import annotations


class StopRequested(Exception):
    """The process is stopping; the job ends at this safe point."""


_requested = False


def request() -> None:
    global _requested
    _requested = True


def reset() -> None:
    global _requested
    _requested = False


def check() -> None:
    """Raise :class:`StopRequested` if the process is stopping (call between batches)."""
    if _requested:
        raise StopRequested
