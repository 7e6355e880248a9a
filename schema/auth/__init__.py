"""GraphQL for signing in, sessions, MFA, and staff and API key administration."""
