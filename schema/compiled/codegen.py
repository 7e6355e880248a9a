"""Generating the function that builds one object of a plan.

Walking a plan field by field costs a handful of generic calls per value; a page of 100
leads has thousands of values. So each object of a plan becomes one straight-line Python
function, generated once per plan: attribute reads inlined, strings and integers passed
through when they are already what their scalar would return, everything else completed by
the field's completer. Governed fields go through the same steps as on the interpreted
path: the batch decision, the note in the request's access record, then the denial (null
and a ``FORBIDDEN`` error) or the value, masked if the decision says so.

The generated source names no value from the request: response keys, policies, readers
and completers are passed in as constants (``K0``, ``P0``, ``R0``, ``C0``, …), so an alias
in a query can never become code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLScalarType, get_nullable_type

from compliance.access.rules import Access
from schema.compiled.plan import FieldPlan, Kind, ObjectPlan

Build = Callable[[Any, Any, Any], dict[str, Any]]
"""(builder, source, path) → the object's response."""

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_SUBJECTS = {"Lead": "batch.subjects[src.id]", "Activity": "batch.subjects[src.lead_id]"}
"""Whose data a governed value is: a lead row's own, an activity row's lead's (the batch
holds every subject of the page); any other object says so itself."""


def build_function(plan: ObjectPlan) -> Build:
    """The function that builds ``plan``'s object (made once, kept on the plan)."""
    if plan.build is None:
        plan.build = _generate(plan)
    built: Build = plan.build
    return built


def _generate(plan: ObjectPlan) -> Build:
    constants: dict[str, Any] = {"DENY": Access.DENY, "MASK": Access.MASK}
    lines = [
        "def build(b, src, path):",
        "    batch = b.batch",
        "    subject = None",
        "    out = {}",
    ]
    for i, field in enumerate(plan.fields):
        constants[f"K{i}"] = field.key
        if field.kind == Kind.TYPENAME:
            constants[f"T{i}"] = plan.type_name
            lines.append(f"    out[K{i}] = T{i}")
            continue
        constants[f"C{i}"] = field.complete
        constants[f"R{i}"] = field.read
        read = _read(field, i)
        if field.policy is None:
            lines.append(f"    v = {read}")
            lines.append(f"    out[K{i}] = {_completion(field, i)}")
            continue
        constants[f"P{i}"] = field.policy
        constants[f"F{i}"] = field
        constants[f"N{i}"] = field.name
        subject = _SUBJECTS.get(plan.type_name, "src.access_subject()")
        lines += [
            "    if subject is None:",
            f"        subject = {subject}",
            f"    d = batch.decide(P{i}, subject)",
            f"    b.access.note(subject, N{i}, d)",
            "    if d.access is DENY:",
            f"        b.deny(F{i}, path)",
            f"        out[K{i}] = None",
            "    else:",
            f"        v = {read}",
            "        if d.access is MASK:",
            f"            v = b.mask(d, v, (path, K{i}))",
            f"        out[K{i}] = {_completion(field, i)}",
        ]
    lines.append("    return out")
    namespace = dict(constants)
    exec(compile("\n".join(lines), f"<compiled {plan.type_name}>", "exec"), namespace)  # noqa: S102 - generated from the plan's shape, constants passed in
    function: Build = namespace["build"]
    return function


def _read(field: FieldPlan, i: int) -> str:
    if field.kind == Kind.ATTRIBUTE and field.attribute.isidentifier():
        return f"src.{field.attribute}"
    return f"R{i}(src, batch)"


def _completion(field: FieldPlan, i: int) -> str:
    """The completion of ``v``: inlined for a string or integer already as its scalar
    returns it, the field's completer otherwise (None, lists, objects, other scalars)."""
    general = f"C{i}(b, v, (path, K{i}))"
    named = get_nullable_type(field.type) if field.type is not None else None
    if not isinstance(named, GraphQLScalarType):
        return general
    if named.name in ("String", "ID"):
        return f"v if type(v) is str else {general}"
    if named.name == "Int":
        return f"v if type(v) is int and {_INT_MIN} <= v <= {_INT_MAX} else {general}"
    return general
