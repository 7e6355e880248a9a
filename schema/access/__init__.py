"""GraphQL side of the access policy's enforcement: the one field extension that decides every
governed field, the request's record of those decisions, and the report of what was masked.
The policy and break-glass API is in ``schema.policy``."""
