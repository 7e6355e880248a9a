"""The hand-written endpoints the read-path benchmark compares against: the same page for
each reader, with the same rules applied by hand (row scope, consent-gated and masked
values, denials with their paths, pseudonyms), in a few SQL statements and a loop."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from tortoise import connections

from compliance.access.masking import Maskers
from compliance.consent.purposes import ANALYTICS, EMAIL_MARKETING, PROFILING
from compliance.consent.state import allowing, consented_ids
from core.bulk import as_sql, marks
from crypto.vault import ERASED, current_vault
from identity.roles import Role
from leads.models import Lead

PAGE = 100
NESTED = 5
DENIED = "you may not see this field"


@dataclass(frozen=True)
class Reader:
    name: str
    role: Role
    query: str
    personal: tuple[str, ...]
    """The personal columns the reader's query selects."""


def _query(extra: str = "") -> str:
    return f"""{{ leads(first: {PAGE}) {{ edges {{ node {{
  id firstName lastName email{extra} companyName stage score createdAt
  owner {{ id displayName }}
  activities(first: {NESTED}) {{ edges {{ node {{ id type occurredAt }} }} }}
}} }} }} }}"""


READERS = (
    Reader("manager", Role.SALES_MANAGER, _query(), ("first_name", "last_name", "email")),
    Reader(
        "marketer", Role.MARKETER, _query(" phone"), ("first_name", "last_name", "email", "phone")
    ),
    Reader("analyst", Role.ANALYST, _query(" phone"), ()),
)
"""A sales manager (their team's leads in full); a marketer (every lead: names as initials,
email only with consent to email marketing and masked otherwise, phone denied); an analyst
(leads with an analytics basis: pseudonymous ids, every personal field denied)."""


def _iso(value: Any) -> str:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.astimezone(UTC).isoformat()


async def _rows(dialect: str, reader: Reader, team_id: int) -> list[dict[str, Any]]:
    db = connections.get("default")
    columns = ", ".join(("id", *reader.personal, "company_name", "stage", "score"))
    where, params = "", list[Any]()
    if reader.role is Role.SALES_MANAGER:
        where = f"WHERE team_id = {int(team_id)}"
    elif reader.role is Role.ANALYST:
        basis, params = as_sql(allowing(ANALYTICS).values("lead_id"))
        where = f"WHERE id IN ({basis})"
    return await db.execute_query_dict(
        f"SELECT {columns}, created_at, owner_id FROM lead {where} "
        f"ORDER BY created_at DESC, id DESC LIMIT {PAGE}",
        params,
    )


async def _owners(dialect: str, rows: list[dict[str, Any]]) -> dict[str, str]:
    owner_ids = sorted({str(row["owner_id"]) for row in rows if row["owner_id"]})
    if not owner_ids:
        return {}
    db = connections.get("default")
    found = await db.execute_query_dict(
        f"SELECT id, display_name FROM staff_user WHERE id IN "
        f"({', '.join(marks(dialect, len(owner_ids)))})",
        owner_ids,
    )
    return {str(row["id"]): row["display_name"] for row in found}


async def _activities(dialect: str, ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    activities: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return activities
    db = connections.get("default")
    rows = await db.execute_query_dict(
        "SELECT id, lead_id, type, occurred_at FROM (SELECT id, lead_id, type, "
        "occurred_at, ROW_NUMBER() OVER (PARTITION BY lead_id ORDER BY occurred_at "
        f"DESC, id DESC) AS n FROM activity WHERE lead_id IN "
        f"({', '.join(marks(dialect, len(ids)))})) ranked WHERE n <= {NESTED} "
        "ORDER BY lead_id, n",
        ids,
    )
    for row in rows:
        activities[str(row["lead_id"])].append(
            {
                "node": {
                    "id": str(row["id"]),
                    "type": str(row["type"]).upper(),
                    "occurredAt": _iso(row["occurred_at"]),
                }
            }
        )
    return activities


def endpoint(
    dialect: str, reader: Reader, team_id: int
) -> Callable[[Request], Awaitable[Response]]:
    vault = current_vault()
    maskers = Maskers.default(vault.keyring.derive("pseudonym"))

    async def respond(_: Request) -> Response:
        rows = await _rows(dialect, reader, team_id)
        ids = [str(row["id"]) for row in rows]
        lead_ids = [uuid.UUID(i) for i in ids]
        keys = await vault.subject_keys(lead_ids) if reader.personal else {}
        profiled = {str(i) for i in await consented_ids(lead_ids, PROFILING)}
        mailable: set[str] = set()
        if reader.role is Role.MARKETER:
            mailable = {str(i) for i in await consented_ids(lead_ids, EMAIL_MARKETING)}
        owners = await _owners(dialect, rows)
        activities = await _activities(dialect, ids)
        errors: list[dict[str, Any]] = []
        masked: list[dict[str, Any]] = []

        def clear(row: dict[str, Any], field: str) -> str | None:
            lead_id = uuid.UUID(str(row["id"]))
            return vault.open_value(Lead, field, lead_id, row[field], keys.get(lead_id))

        def denied(i: int, field: str) -> None:
            errors.append(
                {
                    "message": DENIED,
                    "path": ["leads", "edges", i, "node", field],
                    "extensions": {"code": "FORBIDDEN"},
                }
            )

        def shown(i: int, field: str, value: str | None, mask: str | None) -> str | None:
            if mask is None or value is None or value == ERASED:
                return value
            masked.append({"path": ["leads", "edges", i, "node", field], "mask": mask})
            return maskers.apply(mask, value)

        def node(i: int, row: dict[str, Any]) -> dict[str, Any]:
            lead_id = str(row["id"])
            out: dict[str, Any] = {}
            if reader.role is Role.ANALYST:
                out["id"] = shown(i, "id", lead_id, "pseudonym")
                for field in ("firstName", "lastName", "email", "phone", "companyName"):
                    out[field] = None
                    denied(i, field)
            else:
                initial = "initial" if reader.role is Role.MARKETER else None
                out["id"] = lead_id
                out["firstName"] = shown(i, "firstName", clear(row, "first_name"), initial)
                out["lastName"] = shown(i, "lastName", clear(row, "last_name"), initial)
                email_mask = initial and (None if lead_id in mailable else "email")
                out["email"] = shown(i, "email", clear(row, "email"), email_mask)
                if reader.role is Role.MARKETER:
                    out["phone"] = None
                    denied(i, "phone")
                out["companyName"] = row["company_name"]
            owner = str(row["owner_id"]) if row["owner_id"] else None
            out |= {
                "stage": str(row["stage"]).upper(),
                "score": row["score"] if lead_id in profiled else None,
                "createdAt": _iso(row["created_at"]),
                "owner": {"id": owner, "displayName": owners[owner]} if owner else None,
                "activities": {"edges": activities[lead_id]},
            }
            return out

        edges = [{"node": node(i, row)} for i, row in enumerate(rows)]
        body: dict[str, Any] = {"data": {"leads": {"edges": edges}}}
        if errors:
            body["errors"] = errors
        if masked:
            body["extensions"] = {"access": {"masked": masked}}
        return JSONResponse(body)

    return respond


def comparable(body: dict[str, Any]) -> tuple[Any, Any, Any]:
    """What must be identical between the endpoints: the data, each error's path and code,
    and the masked paths (message text and locations are GraphQL's own)."""
    errors = sorted((tuple(e["path"]), e["extensions"]["code"]) for e in body.get("errors", []))
    masked = sorted(
        (tuple(m["path"]), m["mask"])
        for m in body.get("extensions", {}).get("access", {}).get("masked", [])
    )
    return body.get("data"), errors, masked
