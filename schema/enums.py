"""GraphQL enums, registered from the domain's own enums (one vocabulary everywhere)."""

from __future__ import annotations

import strawberry

from leads import enums
from leads.pagination import SortDirection
from leads.repository import LeadOrderField
from server.auth.roles import Role

Stage = strawberry.enum(enums.Stage, name="Stage")
Status = strawberry.enum(enums.Status, name="LeadStatus")
Seniority = strawberry.enum(enums.Seniority, name="Seniority")
CompanySize = strawberry.enum(enums.CompanySize, name="CompanySize")
Source = strawberry.enum(enums.Source, name="LeadSource")
Channel = strawberry.enum(enums.Channel, name="Channel")
Budget = strawberry.enum(enums.Budget, name="Budget")
Authority = strawberry.enum(enums.Authority, name="Authority")
Need = strawberry.enum(enums.Need, name="Need")
Timeline = strawberry.enum(enums.Timeline, name="Timeline")
ActivityType = strawberry.enum(enums.ActivityType, name="ActivityType")
StaffRole = strawberry.enum(Role, name="StaffRole")
LeadOrderFieldEnum = strawberry.enum(LeadOrderField, name="LeadOrderField")
SortDirectionEnum = strawberry.enum(SortDirection, name="SortDirection")
