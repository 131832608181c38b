"""Kubernetes: put the store's secrets into clusters and keep them in step.

Writes are server-side apply with the field manager `platxa-secrets`
(never client-side apply, whose `last-applied-configuration` annotation
would hold the whole Secret in plain base64). Every managed Secret
carries the label `app.kubernetes.io/managed-by: platxa-secrets` and
annotations naming its source and version, plus a keyed hash of its
content — never a plain hash, which would let anyone who can read the
annotation test guesses of the value.

This package is an interface: it reads secrets through the services and
talks to the API server through the official `kubernetes` client.
"""
