"""`pxs doctor`: does this deployment follow the rules?

Each check looks at one rule (the master key comes from outside in
production, one active data key, nothing overdue, the audit chain is
intact, …) and returns findings: pass, warn or fail, each with the
reason and the fix. The worst finding sets the exit code (0 pass,
1 warn, 2 fail — the Nagios convention monitoring systems read).

Checks never print or return a value, a key or a token: only names,
key ids, counts and dates.
"""

from platxa_secrets.services.doctor._model import (
    FAIL,
    PASS,
    SKIP,
    WARN,
    Check,
    Finding,
    Report,
    run_checks,
)

__all__ = [
    "FAIL",
    "PASS",
    "SKIP",
    "WARN",
    "Check",
    "Finding",
    "Report",
    "run_checks",
]
