"""Domain events and the webhooks that carry them out.

An event is written in the transaction that causes it (:mod:`compliance.events.emit`), with
one delivery row per webhook endpoint that wants it, so a rolled-back change sends nothing
and a committed one is delivered at least once (:mod:`compliance.events.delivery`). Events
carry ids and non-personal fields only: receivers fetch details through the API under their
own permissions.
"""
