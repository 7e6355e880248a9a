"""The audit trail: append-only, hash-chained events of every read and change of personal
data."""
