"""A separate process for the job worker test: writes every job run (and whether its
``job.run`` event exists) as JSON to the file named on the command line."""

from __future__ import annotations

import asyncio
import json
import sys

from audit.models import AuditEvent
from compliance.models import JobRun
from server.db import close_db, init_db
from server.settings import Settings


async def runs() -> list[dict[str, object]]:
    await init_db(Settings.from_env())
    try:
        audited = {
            str(event.details.get("run"))
            for event in await AuditEvent.filter(action="job.run").only("details")
        }
        return [
            {
                "job": run.job,
                "started": run.started_at.isoformat(),
                "finished": run.finished_at.isoformat() if run.finished_at else None,
                "outcome": run.outcome,
                "audited": run.id.hex in audited,
            }
            for run in await JobRun.all()
        ]
    finally:
        await close_db()


if __name__ == "__main__":
    with open(sys.argv[1], "w") as output:
        json.dump(asyncio.run(runs()), output)
