"""The auditor API: the audit log, its verification, and per-subject access reports."""
