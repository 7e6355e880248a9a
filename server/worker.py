"""``leadvault worker``: a process that runs every scheduled job (:mod:`server.jobs`) and
answers no requests. Start one or more beside the API processes; the jobs' leases keep
each job to one process at a time. SIGTERM or Ctrl+C stops it at the running jobs' next
safe point (within LEADVAULT_SHUTDOWN_TIMEOUT)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from audit import chain
from server.app import close_within
from server.db import close_db, init_db, open_vault
from server.jobs import scheduler
from server.settings import Settings

log = logging.getLogger("leadvault.worker")


def serve_metrics(address: str) -> None:
    """This process's job metrics over HTTP at ``host:port`` (a thread of this process)."""
    from prometheus_client import start_http_server

    host, _, port = address.rpartition(":")
    start_http_server(int(port), addr=host or "127.0.0.1")


async def run_worker(settings: Settings) -> None:
    await init_db(settings)
    loop = asyncio.get_running_loop()
    deadline: float | None = None
    try:
        log.info(await open_vault(settings))
        chain.configure(settings.audit_checkpoint_every, settings.audit_checkpoint_minutes)
        jobs = scheduler(settings)
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        running = asyncio.create_task(jobs.run(), name="scheduler")
        stopping = asyncio.create_task(stop.wait())
        log.info(
            "worker started",
            extra={
                "jobs": ", ".join(job.name for job in jobs.jobs),
                "database": settings.database_label,
            },
        )
        await asyncio.wait([running, stopping], return_when=asyncio.FIRST_COMPLETED)
        deadline = loop.time() + settings.shutdown_timeout
        await jobs.stop(settings.shutdown_timeout)
        await asyncio.wait([running], timeout=1)
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await stopping
    finally:
        await close_within(
            close_db, deadline if deadline is not None else loop.time() + settings.shutdown_timeout
        )
    log.info("worker stopped")
