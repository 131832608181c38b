"""Adapters that let other tools use Platxa Secrets' checks."""
