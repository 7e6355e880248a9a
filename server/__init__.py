"""Process wiring: settings, database, ASGI app, middleware, CLI and staff authentication."""
