"""One named logger per module, which costs nothing until it logs.

Importing `logging` (and the `traceback` it pulls in) is a sixth of a
`pxs secret get`. A `LazyLogger` drops records below the level the CLI
asked for without importing anything, and hands the rest to the
standard `logging` logger of the same name. Library and server callers
configure `logging` as usual: by default every record is passed on.

Records name objects, versions and key ids; never a value.
"""

from __future__ import annotations

from typing import Any

DEBUG, INFO, WARNING, ERROR = 10, 20, 30, 40
_threshold = 0
_stderr_prefix: str | None = None


class LazyLogger:
    """The subset of `logging.Logger` the project uses."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._logger: Any = None

    def debug(self, message: str, *args: object) -> None:
        self._log(DEBUG, message, args)

    def info(self, message: str, *args: object) -> None:
        self._log(INFO, message, args)

    def warning(self, message: str, *args: object) -> None:
        self._log(WARNING, message, args)

    def error(self, message: str, *args: object) -> None:
        self._log(ERROR, message, args)

    def _log(self, level: int, message: str, args: tuple[object, ...]) -> None:
        if level < _threshold:
            return
        if self._logger is None:
            import logging

            if _stderr_prefix is not None:
                _install_stderr_handler(logging, _stderr_prefix)
            self._logger = logging.getLogger(self.name)
        self._logger.log(level, message, *args)


def get_logger(name: str) -> LazyLogger:
    return LazyLogger(name)


def log_to_stderr(level: int, prefix: str) -> None:
    """Send records at `level` and above to stderr as `prefix: LEVEL: text`.

    Records below `level` are dropped before `logging` is imported; the
    handler is installed by the first record that passes.
    """
    global _threshold, _stderr_prefix
    _threshold, _stderr_prefix = level, prefix


def _install_stderr_handler(logging: Any, prefix: str) -> None:
    import sys

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{prefix}: %(levelname)s: %(message)s"))
    from platxa_secrets.masking import MaskingFilter, install

    handler.addFilter(MaskingFilter())
    install()
    package = logging.getLogger("platxa_secrets")
    package.handlers[:] = [handler]
    package.setLevel(_threshold)
    package.propagate = False
