"""The records of data-subject requests: requests, their subjects, exports and legal holds.
The workflows over them live in ``rights``."""
