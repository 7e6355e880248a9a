"""``leadvault policy show``: print the access policy (roles × fields → reveal, mask or
deny)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from typing import Any


def add_commands(commands: Any) -> None:
    policy = commands.add_parser("policy", help="the access policy")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    show = policy_commands.add_parser("show", help="print roles × fields → reveal/mask/deny")
    show.add_argument("--format", choices=("text", "json"), default="text")


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


def run(args: argparse.Namespace) -> None:
    policy_show(args.format)
