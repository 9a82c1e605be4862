"""The worker registry: workers, their heirs, the occupation catalogue and the NIK access log.

NIK: the 16-digit Indonesian national identity number (Nomor Induk Kependudukan).
Kelurahan/desa: the village-level region a worker lives in (level 4 of the region tree).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import NotSupportedError, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cakupan.registry.vocabulary import sector_choices


class Sex(models.TextChoices):
    MALE = "L", _("Male")
    FEMALE = "P", _("Female")


class Disability(models.TextChoices):
    NONE = "", _("None")
    PHYSICAL = "physical", _("Physical")
    SENSORY = "sensory", _("Sensory")
    INTELLECTUAL = "intellectual", _("Intellectual")
    MENTAL = "mental", _("Mental")
    MULTIPLE = "multiple", _("Multiple")


class Occupation(models.Model):
    """An occupation of the catalogue, e.g. `ojol` (online motorbike taxi driver)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    # the sectors of the rules vocabulary (the PP 50/2025 discount depends on them)
    sector = models.CharField(_("sector"), max_length=20, choices=sector_choices)
    vulnerable = models.BooleanField(
        _("vulnerable worker"),
        default=False,
        help_text=_("Pekerja rentan: informal work with low, irregular income"),
    )
    aliases = models.TextField(_("aliases"), blank=True, help_text=_("Other names, separated by |"))
    active = models.BooleanField(_("active"), default=True)
    # An operator's judgement, by analogy with PP 44/2015's five JKK risk groups for wage
    # earners (docs/regulations.md); the budget planner ranks by it. Not a contribution rate.
    accident_risk = models.PositiveSmallIntegerField(
        _("work accident risk"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 (very low) to 5 (very high), by analogy with the JKK risk groups"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("occupation")
        verbose_name_plural = _("occupations")

    def __str__(self) -> str:
        return self.name


# [0-9], not \d: Python's \d also matches full-width and other scripts' digits.
nik_validator = RegexValidator(r"^[0-9]{16}\Z", _("A NIK has exactly 16 digits."))


class AsciiDigits(models.Func):
    """True when a text column holds exactly `length` ASCII digits, as SQL a CHECK constraint
    can use on both supported databases: SQLite `GLOB '[0-9]…'`, PostgreSQL `~ '^[0-9]{n}$'`.
    Both ranges go by code point, so a full-width or Arabic-Indic digit does not match.
    (SQLite's REGEXP is a function Django registers per connection, unusable in a CHECK; a
    portable LENGTH/REPLACE form more than doubled SQLite's insert time of a million rows.)"""

    output_field = models.BooleanField()
    conditional = True

    def __init__(self, expression: str, length: int = 16) -> None:
        super().__init__(models.F(expression))
        self.length = length

    def as_sqlite(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} GLOB %s)", [*params, "[0-9]" * self.length]

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} ~ %s)", [*params, f"^[0-9]{{{self.length}}}$"]

    def as_sql(self, compiler, connection, **extra):
        raise NotSupportedError("cakupan runs on SQLite or PostgreSQL")


class Worker(models.Model):
    """A person in the registry, keyed by NIK."""

    class Source(models.TextChoices):
        MANUAL = "manual", _("Entered by hand")
        API = "api", _("API")
        IMPORT = "import", _("Imported list")
        DEMO = "demo", _("Demo data")

    nik = models.CharField(_("NIK"), max_length=16, unique=True, validators=[nik_validator])
    full_name = models.CharField(_("full name"), max_length=150)
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    kelurahan = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="workers",
        verbose_name=_("kelurahan"),
    )
    occupation = models.ForeignKey(
        Occupation,
        on_delete=models.PROTECT,
        related_name="workers",
        verbose_name=_("occupation"),
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    welfare_decile = models.PositiveSmallIntegerField(
        _("welfare decile"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text=_("Decile 1-10 in the national socio-economic data (DTSEN); 1 is poorest"),
    )
    disability = models.CharField(
        _("disability"),
        max_length=20,
        choices=Disability.choices,
        blank=True,
        default="",
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["full_name", "id"]
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
        permissions = [
            ("view_full_nik", "Can see a whole NIK"),
            ("view_full_phone", "Can see a whole phone number"),
            ("export_worker", "Can export worker lists"),
            ("verify_membership", "Can verify whether a person is protected"),
            ("check_nik", "Can check NIKs"),
        ]
        indexes = [
            models.Index(fields=["full_name"]),
            models.Index(fields=["kelurahan", "occupation"]),
            # the coverage lists' order (a kelurahan, then names): read a page at a time
            # without sorting the region's workers (coverage.selectors.LazyIds)
            models.Index(fields=["kelurahan", "full_name", "id"], name="worker_list_order"),
            models.Index(fields=["occupation"]),
            models.Index(fields=["birth_date"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(AsciiDigits("nik", 16)), name="worker_nik_16_ascii_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def is_vulnerable(self) -> bool:
        from cakupan.registry.vulnerability import is_vulnerable

        return is_vulnerable(
            occupation_vulnerable=self.occupation.vulnerable,
            disability=self.disability,
            welfare_decile=self.welfare_decile,
        )


class Heir(models.Model):
    """A family member registered as heir (ahli waris): children matter for scholarships."""

    class Relation(models.TextChoices):
        CHILD = "child", _("Child")
        SPOUSE = "spouse", _("Spouse")
        PARENT = "parent", _("Parent")
        SIBLING = "sibling", _("Sibling")
        GRANDCHILD = "grandchild", _("Grandchild")
        OTHER = "other", _("Other")

    worker = models.ForeignKey(Worker, on_delete=models.CASCADE, related_name="heirs")
    full_name = models.CharField(_("full name"), max_length=150)
    nik = models.CharField(_("NIK"), max_length=16, blank=True, validators=[nik_validator])
    birth_date = models.DateField(_("birth date"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    relation = models.CharField(_("relation"), max_length=12, choices=Relation.choices)

    class Meta:
        ordering = ["birth_date", "id"]
        verbose_name = _("heir")
        verbose_name_plural = _("heirs")
        constraints = [
            models.CheckConstraint(
                condition=Q(nik="") | Q(AsciiDigits("nik", 16)),
                name="heir_nik_empty_or_16_ascii_digits",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.get_relation_display()})"


class NikAccessLog(models.Model):
    """Who reached whose personal data, when and how (UU 27/2022 on personal data): every
    display or export of a whole NIK or phone, every NIK search that found someone, and every
    protection check at a hospital desk (with no worker when the NIK found nobody), every scan of
    a membership card (with no user: anyone may scan one)."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed in the web app")
        API = "api", _("Read through the API")
        EXPORT = "export", _("Exported")
        SEARCH = "search", _("Found by a NIK search")
        VERIFY = "verify", _("Protection checked")

    # None: someone not signed in, scanning a membership card's QR code (/V/<token>)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    worker = models.ForeignKey(
        Worker, null=True, blank=True, on_delete=models.CASCADE, related_name="access_log"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    fields = models.CharField(
        max_length=20, blank=True, help_text="Whole values shown: nik, phone (comma-separated)"
    )
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("personal data access")
        verbose_name_plural = _("personal data access log")
        indexes = [models.Index(fields=["user", "action", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.worker_id}"


class DemoDataset(models.Model):
    """Marks that the database holds synthetic demo data (a banner shows it on every page)."""

    seed = models.IntegerField()
    workers = models.PositiveIntegerField()
    loaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"demo seed {self.seed}: {self.workers} workers"
