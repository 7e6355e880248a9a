"""Staff identity: accounts, roles and the principal a request acts as."""
