"""A last line of defence: mask key and token shapes in every log record.

The project never logs a value, but third-party loggers (the `kubernetes`
client, `urllib3`) might, in debug mode or in an exception. The filter
rewrites any record whose text contains something shaped like a Fernet
key, a Fernet token, a `pxs1:` ciphertext, a `pxs_` API token or a PEM
private key, before a handler writes it.
"""

from __future__ import annotations

import logging
import sys

from platxa_secrets.core.shapes import MASK, mask

__all__ = ["MASK", "MaskingFilter", "install", "mask"]


class MaskingFilter(logging.Filter):
    """Rewrites a record's message (and exception text) with shapes masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def install() -> None:
    """Mask every handler of the root logger; give it one if it has none.

    Without a root handler, Python's last-resort handler would print a
    third-party warning unfiltered.
    """
    root = logging.getLogger()
    if not root.handlers:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setLevel(logging.WARNING)
        root.addHandler(stderr)
    for handler in root.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
