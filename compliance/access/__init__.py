"""The access policy: who sees which field of which lead, declared once (``policy``),
decided in one place (``decide``), and printable for auditors (``matrix``)."""
