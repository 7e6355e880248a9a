"""The access policy and break-glass grants as GraphQL: reading the policy matrix, and
requesting, using and ending a time-boxed grant."""
