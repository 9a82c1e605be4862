"""URL converters shared by every app's urls (registered once, in cakupan.urls)."""

from django.urls import register_converter


class IdConverter:
    """A database id: at most 18 digits, so a huge number is a 404, not a database overflow."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
