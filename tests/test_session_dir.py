"""The suite's own wiring: a process forked from a test run gets its own database folder."""

from __future__ import annotations

import multiprocessing

from tests.conftest import session_dir


def _child_dir(queue: multiprocessing.Queue[str]) -> None:
    queue.put(str(session_dir()))


def test_a_forked_process_gets_its_own_session_folder() -> None:
    mine = session_dir()
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[str] = context.Queue()
    child = context.Process(target=_child_dir, args=(queue,))
    child.start()
    theirs = queue.get(timeout=30)
    child.join(timeout=30)

    assert child.exitcode == 0
    assert theirs != str(mine)
    assert session_dir() == mine
