"""Follow-up tasks, assignment and funnel analytics over GraphQL."""
