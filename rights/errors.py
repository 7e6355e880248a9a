"""Refusals of data-subject request operations. Messages name the rule, never a value."""

from __future__ import annotations


class RequestRefused(Exception):
    """The request is not in a state (or not assigned in a way) that allows this; nothing
    was changed. ``code`` is stable for front ends."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class CodeRejected(Exception):
    """The identity code is wrong, expired, or its attempts are used up (``remaining`` 0:
    a new code must be sent)."""

    def __init__(self, reason: str, remaining: int) -> None:
        super().__init__(f"the identity code was not accepted ({reason})")
        self.reason = reason
        self.remaining = remaining
