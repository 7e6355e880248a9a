"""The lead domain: models, validation, repository, lifecycle and services. No GraphQL here."""
