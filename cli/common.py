"""What every CLI command does the same way: load the settings (exit 2 with the message that
says what to fix) and fail with a message (exit 1)."""

from __future__ import annotations

import typer
from rich.console import Console

from infomart.logs import use_json_logs
from infomart.settings import Settings, SettingsError, load_settings

console = Console(stderr=True)


def settings_or_exit() -> Settings:
    """The validated settings; a bad setting stops the command with exit code 2. With
    INFOMART_LOG_FORMAT=json the logs become JSON lines on stdout from here on."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if settings.log_format == "json":
        use_json_logs(settings.tenant)
    return settings


def fail(msg: str, code: int = 1) -> typer.Exit:
    """Prints the error; the caller raises the returned Exit."""
    console.print(f"[red]error:[/red] {msg}")
    return typer.Exit(code)
