"""GraphQL subscriptions: lead events pushed to signed-in staff, each payload resolved
through the same field policy, row scope, consent and audit as a query."""
