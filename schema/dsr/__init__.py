"""GraphQL for compliance officers: data-subject requests, legal holds, the record of
processing."""
