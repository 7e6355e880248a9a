"""Kept because a landed migration imports ``Role`` from here; migrations are never edited
after they land. Roles live in :mod:`identity.roles`."""

from identity.roles import Role

__all__ = ["Role"]
