"""Subject rights: the workflows that act on leads for the people they describe. Requests
(intake, identity verification, deadlines, subject lookup), access exports, rectification,
objection, erasure with signed certificates, legal holds, retention and the record of
processing."""
