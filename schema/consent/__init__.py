"""GraphQL of consent: state and history on a lead, staff and self-service changes,
lead capture with consent, and the consent report."""
