"""``leadvault policy show`` and ``leadvault schema persist``: print the access policy, and
build the persisted-operation allow-list from a front end's query files."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any


def add_commands(commands: Any) -> None:
    policy = commands.add_parser("policy", help="the access policy")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    show = policy_commands.add_parser("show", help="print roles × fields → reveal/mask/deny")
    show.add_argument("--format", choices=("text", "json"), default="text")


def add_schema_commands(schema_commands: Any) -> None:
    persist = schema_commands.add_parser(
        "persist", help="write the persisted-operation allow-list from .graphql files"
    )
    persist.add_argument("files", nargs="+", type=Path, help="one operation per file")
    persist.add_argument("--output", "-o", type=Path, required=True)


def policy_show(output_format: str) -> None:
    from compliance.access import matrix

    built = matrix.build()
    if output_format == "text":
        sys.stdout.write(matrix.render_text(built) + "\n")
        return
    sys.stdout.write(json.dumps(as_json(built), indent=2) + "\n")


def as_json(built: Any) -> dict[str, Any]:
    """The matrix as plain JSON (enums as their values)."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, dict):
            return {str(plain(k)): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        if hasattr(value, "value"):
            return value.value
        return value

    result: dict[str, Any] = plain(built)
    return result


def schema_persist(files: list[Path], output: Path) -> None:
    from graphql import GraphQLError, parse, validate

    from schema import build_schema
    from server.persisted import build_manifest

    schema = build_schema(production=False)._schema
    documents: list[str] = []
    for path in files:
        document = path.read_text(encoding="utf-8")
        try:
            errors = validate(schema, parse(document))
        except GraphQLError as error:
            errors = [error]
        if errors:
            print(f"leadvault: {path}: {errors[0].message}", file=sys.stderr)
            raise SystemExit(2)
        documents.append(document)
    output.write_text(json.dumps(build_manifest(documents), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(documents)} operations to {output}")


def run(args: argparse.Namespace) -> None:
    if args.command == "policy":
        policy_show(args.format)
    elif args.schema_command == "persist":
        schema_persist(args.files, args.output)
