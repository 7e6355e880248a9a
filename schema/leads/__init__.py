"""GraphQL for the lead domain."""
