"""Compliance mechanisms: the access policy (roles × fields, row scopes, purposes, break-glass
grants), the consent ledger, the outbox and the records of data-subject requests. Built on
crypto, audit and identity; never imports leads (the subject-rights workflows that act on
leads live in ``rights``)."""
