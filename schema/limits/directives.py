"""A validation rule against directive overloading: a query may carry at most
``max_directives`` directives in all, and never the same directive twice on one field or
fragment (graphql-core only refuses repeats of directives it knows)."""

from __future__ import annotations

from typing import Any

from graphql import ASTValidationRule, DirectiveNode, GraphQLError, ValidationContext
from graphql.language import Node


def max_directives_rule(max_directives: int) -> type[ASTValidationRule]:
    class MaxDirectivesRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.count = 0
            self.reported = False

        def enter(self, node: Node, *_args: Any) -> Any:
            directives: tuple[DirectiveNode, ...] | None = getattr(node, "directives", None)
            if not directives:
                return None
            self.count += len(directives)
            if self.count > max_directives and not self.reported:
                self.reported = True
                self.report_error(
                    GraphQLError(
                        f"the query uses more than {max_directives} directives",
                        directives[0],
                        extensions={"code": "TOO_MANY_DIRECTIVES"},
                    )
                )
                return self.BREAK
            names = [d.name.value for d in directives]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                self.report_error(
                    GraphQLError(
                        f"directive @{repeated[0]} is repeated at one location",
                        directives[0],
                        extensions={"code": "REPEATED_DIRECTIVE"},
                    )
                )
            return None

    return MaxDirectivesRule
