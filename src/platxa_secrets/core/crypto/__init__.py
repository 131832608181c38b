"""Cryptography: Fernet key parsing, the master key chain, the keyring."""
