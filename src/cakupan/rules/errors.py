"""The two exceptions of the rules engine: bad input a user can fix, and a broken rule set file."""

from __future__ import annotations

from cakupan.errors import Bilingual, Refused


class RuleInputError(Refused, ValueError):
    """Input the engine cannot compute with; the user fixes it, so every field is for them.

    `field` is the path of the offending input ("income", "children[2]",
    "disability[0].function_loss_percent"), `code` a stable machine code (the CLI maps any
    RuleInputError to exit code 2, the API to HTTP 422), `message` the Indonesian text shown
    to the officer and `message_en` its English twin. Both messages name the fix.
    """

    def __init__(self, *, field: str, code: str, message: str, message_en: str) -> None:
        super().__init__(code, Bilingual(message, message_en), field)
        self.message_id = message
        self.message_en = message_en

    def to_dict(self) -> dict[str, str]:
        """Plain JSON form, the body of a 422 response."""
        return {
            "field": self.field or "",
            "code": self.code,
            "message": self.message_id,
            "message_en": self.message_en,
        }


class RuleSetError(Exception):
    """A rule set file is malformed, or conflicts with another; raised when the rules load.

    This is for the operator who edits the TOML files, not for the front desk, so the
    message is English and names the file and every rule set id involved.
    """

    def __init__(self, message: str, *, rule_ids: tuple[str, ...] = (), path: str = "") -> None:
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{message}")
        self.rule_ids = rule_ids
        self.path = path
