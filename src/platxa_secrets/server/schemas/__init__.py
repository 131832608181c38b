"""The request and response bodies of the API, as pydantic models.

They are the OpenAPI schema too, so each field says what it holds and
the rule it must follow. Binary values travel as standard base64
(RFC 4648 §4, padded); nothing here ever puts a value in an error.
"""
