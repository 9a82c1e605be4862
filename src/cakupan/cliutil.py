"""What every part of the `cakupan` command shares: consoles, errors, Django set-up, numbers."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from cakupan.money import format_number

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cakupan.settings")
    import django

    from cakupan.bootstrap import compile_translations

    # Before Django loads a catalogue: a fresh checkout has only the .po files.
    compile_translations()

    django.setup()
    from django.utils import translation

    translation.activate(os.environ.get("CAKUPAN_LANG", "id"))


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print an Indonesian error on stderr and return the Exit to raise (2: bad input)."""
    err.print(f"[red]Galat:[/red] {escape(message)}", highlight=False)
    return typer.Exit(code)


def writable(output: Path) -> None:
    """Refuse before anything is saved: a missing folder or a file already there."""
    if not output.parent.is_dir():
        raise fail(f"Folder {output.parent} tidak ada; buat dulu atau pilih folder lain.")
    if output.exists():
        raise fail(f"Berkas {output} sudah ada; beri nama lain agar berkas itu tidak tertimpa.")


def id_number(n: int) -> str:
    """12345 → '12.345', the Indonesian way."""
    return format_number(n)


def id_seconds(seconds: float) -> str:
    """2.46 → '2,5 detik', the Indonesian way."""
    return f"{seconds:.1f}".replace(".", ",") + " detik"
