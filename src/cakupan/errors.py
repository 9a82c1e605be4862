"""One error base for what a user asked and cakupan refuses: `Refused(code, message, field)`.

The API answers it with 422 (or the class's own `status`, 429 for a rate limit), a form puts
it on the field it names, and the CLI prints it and exits 2 — each in one place. The message
is read in the user's language when it is shown, not when it is raised:
- Django code passes a lazy gettext string (`gettext_lazy("English text")`), translated
  through the .po catalogue;
- pure code (rules, months, money, linkage), which imports no Django, passes
  `Bilingual(indonesian, english)`.
Pure Python: the Django side tells it the active language at start-up (`language` below).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def _indonesian() -> str:
    return "id"


# The active language's code; the web app replaces it with Django's get_language at start-up.
language: Callable[[], str | None] = _indonesian


@dataclass(frozen=True)
class Bilingual:
    """A message in Indonesian and English, shown in the active language."""

    id: str
    en: str

    def __str__(self) -> str:
        return self.en if (language() or "id").startswith("en") else self.id


class Refused(Exception):
    """A request cakupan refuses and the user can fix: `code` is a stable machine code,
    `message` says what is wrong and the fix, `field` names the input it is about (a form
    field, an API body path such as "children[2].birth_date", a column), or None."""

    status = 422
    where = "body"  # an API body field; "query" for a query parameter

    def __init__(self, code: str, message: object, field: str | None = None) -> None:
        self.code = code
        self.field = field
        self._message = message
        super().__init__(code)

    @property
    def message(self) -> str:
        return str(self._message)

    def __str__(self) -> str:
        return self.message

    def detail(self) -> dict[str, object]:
        """The API's error item, like pydantic's: where, what, which code."""
        loc: list[str] = [self.where, self.field] if self.field else [self.where]
        return {"loc": loc, "msg": self.message, "type": self.code}
