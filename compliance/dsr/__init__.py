"""Data-subject requests: intake, identity verification, deadlines, subject lookup, access
exports, erasure with signed certificates, and the legal holds that can stop an erasure."""
