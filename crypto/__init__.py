"""Encryption of personal data at rest: the AEAD envelope, the versioned keyring and blind
indexes. Nothing here logs or raises with a plaintext or key in its message."""
