"""Printing for people (tables) and for scripts (`-o json`).

Rich is imported only when a table is printed. Nothing here ever prints
a value unless the command's purpose is to print it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

FORMAT_OPTION = click.option(
    "-o",
    "--output",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output for people (table) or scripts (json).",
)


def emit_json(data: Any) -> None:
    import json

    click.echo(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False))


def emit_table(
    title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Print rows as a table on a terminal, or tab-separated when piped."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        click.echo("\t".join(columns))
        for row in rows:
            click.echo("\t".join("" if c is None else str(c) for c in row))
        return

    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column, overflow="fold")  # wrap long paths, never cut
    for row in rows:
        table.add_row(*("" if c is None else str(c) for c in row))
    console.print(table)


def info(message: str) -> None:
    """A status line for people; on stderr so stdout stays data."""
    click.echo(message, err=True)
