"""Shared primitives every layer may use: UTC timestamps, time-ordered ids, cursors, contact
normalisation, field validation, base errors, bulk SQL, private files and the request
context. Imports nothing of the project's."""
