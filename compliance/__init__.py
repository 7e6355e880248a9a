"""Compliance: personal-data fields, row scopes and (as they land) crypto, policy, consent,
retention and data-subject requests."""
