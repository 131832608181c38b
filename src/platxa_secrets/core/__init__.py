"""Core: crypto, store and configuration. Knows nothing of HTTP or Click."""
