"""The Kemendagri region tree: province → regency/city → kecamatan → kelurahan/desa."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    PROVINCE = 1, _("Province")
    REGENCY = 2, _("Regency/city")
    KECAMATAN = 3, _("Kecamatan")
    VILLAGE = 4, _("Kelurahan/desa")


class Region(models.Model):
    """One administrative region keyed by its Kemendagri code, e.g. `35.73.05.1011`.

    A code that disappears from a newer official list is kept with `retired_on` set: NIKs
    issued there still carry it.
    """

    code = models.CharField(_("code"), max_length=13, primary_key=True)
    name = models.CharField(_("name"), max_length=120)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        db_constraint=True,
    )
    retired_on = models.DateField(_("retired on"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        permissions = [("import_region", "Can import the official region list")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_retired(self) -> bool:
        return self.retired_on is not None

    @property
    def kind_label(self) -> str:
        """'Kelurahan' or 'Desa' for level 4 (serial starting 1 or 2), else the level name."""
        if self.level == Level.VILLAGE:
            return "Kelurahan" if self.code.rsplit(".", 1)[1].startswith("1") else "Desa"
        return str(Level(self.level).label)
