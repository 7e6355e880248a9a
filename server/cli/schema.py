"""``leadvault schema export`` and ``schema persist``: write the schema as SDL, and build
the persisted-operation allow-list from a front end's query files."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def add_commands(commands: Any) -> None:
    schema = commands.add_parser("schema", help="GraphQL schema tools")
    schema_commands = schema.add_subparsers(dest="schema_command", required=True)
    export = schema_commands.add_parser("export", help="write the schema as SDL")
    export.add_argument("--output", "-o", type=Path, default=None)
    persist = schema_commands.add_parser(
        "persist", help="write the persisted-operation allow-list from .graphql files"
    )
    persist.add_argument("files", nargs="+", type=Path, help="one operation per file")
    persist.add_argument("--output", "-o", type=Path, required=True)


def export(path: Path | None) -> None:
    from schema import build_schema

    sdl = build_schema(production=False).as_str() + "\n"
    if path is None:
        sys.stdout.write(sdl)
    else:
        path.write_text(sdl, encoding="utf-8")
        print(f"wrote {path}")


def persist(files: list[Path], output: Path) -> None:
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
    if args.schema_command == "export":
        export(args.output)
    else:
        persist(args.files, args.output)
