"""The HTTP side of Platxa Secrets: the API service and request checks.

`bearer`, `middleware` and `flask` verify API tokens; the last two are
also meant for Platxa's other Python services, which check a caller's
token against the same store.
"""
