"""Findings, reports and the loop that runs the checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from platxa_secrets.errors import PlatxaSecretsError
from platxa_secrets.logs import get_logger

log = get_logger(__name__)

PASS, WARN, FAIL, SKIP = "pass", "warn", "fail", "skip"
_SEVERITY = {SKIP: 0, PASS: 0, WARN: 1, FAIL: 2}


@dataclass(frozen=True)
class Finding:
    """One rule checked on one object: the status, why, and what to do."""

    check: str
    status: str
    reason: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Check = Callable[[], Iterable[Finding]]


@dataclass(frozen=True)
class Report:
    """Every finding of one doctor run, in the order checks ran."""

    findings: tuple[Finding, ...]

    @property
    def exit_code(self) -> int:
        """0 when all pass, 1 for a warning, 2 for a failure."""
        return max((_SEVERITY[f.status] for f in self.findings), default=0)

    @property
    def worst(self) -> str:
        return {0: PASS, 1: WARN, 2: FAIL}[self.exit_code]

    def counts(self) -> dict[str, int]:
        counts = {PASS: 0, WARN: 0, FAIL: 0, SKIP: 0}
        for finding in self.findings:
            counts[finding.status] += 1
        return counts


def run_checks(checks: Sequence[tuple[str, Check]]) -> Report:
    """Run each check; one that raises becomes a failed finding.

    A broken check must not hide the others, and its message (a
    PlatxaSecretsError, so value-free by contract) says what broke.
    """
    findings: list[Finding] = []
    for name, check in checks:
        try:
            findings.extend(check())
        except PlatxaSecretsError as exc:
            findings.append(Finding(name, FAIL, exc.message, _fix_for(exc)))
        except Exception as exc:  # a bug in a check: report, do not crash
            log.warning("doctor check %s raised %s", name, type(exc).__name__)
            findings.append(
                Finding(
                    name,
                    FAIL,
                    f"the check could not run ({type(exc).__name__})",
                    "rerun with -vv and report it",
                )
            )
    return Report(tuple(findings))


def _fix_for(exc: PlatxaSecretsError) -> str:
    fix = exc.context.get("fix")
    return str(fix) if fix else "see the reason"
