"""GraphQL side of the access policy: the one field extension that enforces it, the
response report of what was masked, and the policy and break-glass API."""
