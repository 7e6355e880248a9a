"""The policy as a matrix a person can read: actors × fields → rule, with row scopes,
conditions, the fields declared not sensitive and the operations limited to some roles.
``leadvault policy show`` prints it and the ``accessPolicy`` query returns it."""

from __future__ import annotations

from dataclasses import dataclass

from compliance.access.policy import (
    BREAK_GLASS_MAX_MINUTES,
    BREAK_GLASS_ROLES,
    NOT_SENSITIVE,
    OPERATION_ROLES,
    POLICY,
    ROW_SCOPES,
    WRITE_SCOPES,
)
from compliance.access.rules import Actor, RowScope, Rule


@dataclass(frozen=True, slots=True)
class Cell:
    actor: Actor
    rule: Rule


@dataclass(frozen=True, slots=True)
class FieldRow:
    type_name: str
    field: str
    category: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Matrix:
    actors: tuple[Actor, ...]
    row_scopes: dict[Actor, RowScope]
    write_scopes: dict[Actor, RowScope]
    fields: tuple[FieldRow, ...]
    not_sensitive: dict[str, tuple[str, ...]]
    operations: dict[str, tuple[str, ...]]
    break_glass_roles: tuple[str, ...]
    break_glass_max_minutes: int


def build() -> Matrix:
    actors = tuple(Actor)
    rows = tuple(
        FieldRow(
            type_name,
            name,
            policy.category,
            tuple(Cell(actor, policy.rule_for(actor)) for actor in actors),
        )
        for type_name, fields in POLICY.items()
        for name, policy in fields.items()
    )
    return Matrix(
        actors=actors,
        row_scopes=dict(ROW_SCOPES),
        write_scopes=dict(WRITE_SCOPES),
        fields=rows,
        not_sensitive={t: tuple(sorted(f)) for t, f in NOT_SENSITIVE.items()},
        operations={
            op: tuple(sorted(r.value for r in roles)) for op, roles in OPERATION_ROLES.items()
        },
        break_glass_roles=tuple(sorted(r.value for r in BREAK_GLASS_ROLES)),
        break_glass_max_minutes=BREAK_GLASS_MAX_MINUTES,
    )


def render_text(matrix: Matrix) -> str:
    """A plain-text rendering: one block per field, one line per actor."""
    lines = ["Row scopes (read / write):"]
    for actor in matrix.actors:
        lines.append(
            f"  {actor.value:<20} {matrix.row_scopes[actor].value} / "
            f"{matrix.write_scopes[actor].value}"
        )
    lines.append("")
    lines.append("Fields:")
    for row in matrix.fields:
        lines.append(f"  {row.type_name}.{row.field} ({row.category})")
        for cell in row.cells:
            lines.append(f"    {cell.actor.value:<20} {cell.rule.describe()}")
    lines.append("")
    lines.append("Not sensitive (every actor that can load the row sees them):")
    for type_name, names in matrix.not_sensitive.items():
        lines.append(f"  {type_name}: {', '.join(names)}")
    lines.append("")
    lines.append("Operations limited to roles:")
    for operation, roles in matrix.operations.items():
        lines.append(f"  {operation}: {', '.join(roles)}")
    lines.append("")
    lines.append(
        f"Break-glass: {', '.join(matrix.break_glass_roles)}; at most "
        f"{matrix.break_glass_max_minutes} minutes, a written reason and a fresh TOTP code; "
        "reads every lead in full, every use is recorded."
    )
    return "\n".join(lines)
