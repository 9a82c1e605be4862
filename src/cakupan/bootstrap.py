"""Set-up of an installation: translations, migrations, built-in data, the first admin."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import transaction

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def compile_translations() -> int:
    """Compile every .po under cakupan/locale into its .mo when the .mo is missing or older.

    Babel does it in pure Python, so no system gettext is needed on a fresh machine.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    compiled = 0
    for po in LOCALE_DIR.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        with mo.open("wb") as f:
            write_mo(f, catalog)
        compiled += 1
    if compiled:
        _forget_loaded_catalogues()
    return compiled


def _forget_loaded_catalogues() -> None:
    """Django caches a language's catalogue the first time it is used (django.setup() already
    does), so one loaded before the .mo existed would stay empty; drop the cache, as Django's
    own test signals do when LOCALE_PATHS changes."""
    from asgiref.local import Local
    from django.utils.translation import trans_real

    trans_real._translations = {}
    trans_real._default = None
    trans_real._active = Local()


def secure_files() -> None:
    """An installation made before files were created owner-only: close up the SQLite database
    (and its -wal, -shm files) and the uploaded lists, which hold personal data."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] == "django.db.backends.sqlite3":
        for path in (Path(db["NAME"]), Path(f"{db['NAME']}-wal"), Path(f"{db['NAME']}-shm")):
            if path.exists():
                path.chmod(0o600)
    media = Path(settings.MEDIA_ROOT)
    if media.exists():
        media.chmod(0o700)
        for path in media.rglob("*"):
            path.chmod(0o700 if path.is_dir() else 0o600)


@dataclass
class SetupResult:
    regions_created: int
    occupations: int
    admin_username: str | None
    admin_password: str | None


def setup(*, verbosity: int = 0) -> SetupResult:
    """Bring the database to the current schema and load the built-in data. Idempotent."""
    from cakupan.accounts.models import User
    from cakupan.accounts.roles import Role
    from cakupan.accounts.services import user_create
    from cakupan.regions.services import regions_load_builtin
    from cakupan.registry.services import occupations_load_builtin

    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
    secure_files()
    compile_translations()
    call_command("migrate", interactive=False, verbosity=verbosity)
    regions = regions_load_builtin()
    occupations = occupations_load_builtin()
    username = password = None
    with transaction.atomic():
        if not User.objects.filter(role=Role.ADMIN).exists():
            user, password = user_create(username="admin", role=Role.ADMIN)
            username = user.username
    return SetupResult(regions.created, occupations, username, password)


if __name__ == "__main__":
    # `python -m cakupan.bootstrap`: compile the translations only (no Django, no database).
    print(f"{compile_translations()} translation catalogue(s) compiled")
