"""The consent ledger: purposes and their lawful basis, append-only consent events with
evidence, the current state derived from them, double opt-in, self-service links, and the
suppression list of erased people's contacts."""
