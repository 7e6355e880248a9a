"""Staff roles. Each maps to a row scope and field rules in the compliance policy."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    SALES_REP = "sales_rep"
    SALES_MANAGER = "sales_manager"
    MARKETER = "marketer"
    ANALYST = "analyst"
    COMPLIANCE_OFFICER = "compliance_officer"
    AUDITOR = "auditor"
    ADMIN = "admin"
