"""What one GraphQL request and one client may cost. The server builds these from its
settings; the schema reads only this."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QueryLimits:
    max_query_cost: int
    max_page_size: int
    rate_limit_requests: int
    rate_limit_cost: int
