"""Rule set files: packaged data, overlap and gap checks, operator supplements, no Django."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import pytest

from cakupan.rules import RuleSetError, benefits_from_dict, default_rules, load_rules
from cakupan.rules.loader import ContributionRules, DisabilityTable


def jkm_set(
    rule_id: str, valid_from: str, valid_to: str | None = None, lump_sum: int = 20_000_000
) -> str:
    until = f"valid_to = {valid_to}\n" if valid_to else ""
    return textwrap.dedent(f"""\
        [rule_set]
        id = "{rule_id}"
        kind = "jkm"
        title = "uji"
        title_en = "test"
        valid_from = {valid_from}
        {until}confidence = "H"
        source = "test"
        legal_basis = [{{ regulation = "PP 82/2019" }}]

        [jkm]
        lump_sum = {lump_sum}
        periodic_months = 24
        periodic_monthly = 500_000
        funeral = 10_000_000
        """)


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_rule_sets_load_with_basis_and_confidence() -> None:
    book = load_rules()
    ids = {rules.meta.id for rules in book.rule_sets()}
    assert {
        "jkm-pp44-2015",
        "jkm-pp82-2019",
        "jkk-pp44-2015",
        "jkk-pp82-2019",
        "discount-pp50-2025",
        "bpu-contribution-pp44-2015",
        "arrears-pp44-2015",
        "scholarship-pp44-2015",
        "scholarship-pp82-2019",
        "disability-table-lampiran-iii",
        "vocabulary-2015",
    } <= ids
    for rules in book.rule_sets():
        assert rules.meta.legal_basis and rules.meta.confidence in ("H", "M", "L")


def test_packaged_bracket_table_is_33_rows_to_20_7_million() -> None:
    """docs/regulations.md §3: 33 rows, top row base 20,700,000 with no upper limit."""
    rules = load_rules().contribution(date(2026, 1, 1))
    assert isinstance(rules, ContributionRules)
    assert len(rules.brackets) == 33
    assert (rules.brackets[-1].base, rules.brackets[-1].income_to) == (20_700_000, None)


def test_generations_meet_on_2019_12_02() -> None:
    """docs/regulations.md §5: PP 44/2015 from 2015-07-01 for events before 2019-12-02."""
    book = load_rules()
    assert book.jkm(date(2019, 12, 1)).meta.id == "jkm-pp44-2015"
    assert book.jkm(date(2019, 12, 2)).meta.id == "jkm-pp82-2019"
    assert book.jkm(date(2015, 7, 1)).meta.valid_from == date(2015, 7, 1)


def test_disability_table_has_the_domain_rows_with_sources() -> None:
    """docs/regulations.md §4: the rows seen in a source citing PP 82/2019 Lampiran III."""
    table = load_rules().disability_table(date(2026, 1, 1))
    assert isinstance(table, DisabilityTable)
    percents = {code: item.percent for code, item in table.items.items()}
    assert percents["eyes_both"] == 70 and percents["eye_one"] == 35
    assert percents["arm_shoulder_right"] == 40 and percents["arm_shoulder_left"] == 35
    assert (table.items["scalp"].percent_min, table.items["scalp"].percent_max) == (10, 30)
    assert all(item.source for item in table.items.values())


def test_overlapping_rule_sets_fail_naming_both(tmp_path: Path) -> None:
    write(tmp_path, "jkm_2026.toml", jkm_set("jkm-operator-2026", "2026-01-01"))
    with pytest.raises(RuleSetError) as caught:
        load_rules(tmp_path)
    assert set(caught.value.rule_ids) == {"jkm-pp82-2019", "jkm-operator-2026"}
    assert "overlap" in str(caught.value)
    assert "jkm-pp82-2019" in str(caught.value) and "jkm-operator-2026" in str(caught.value)


def test_a_gap_between_generations_fails_naming_both(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", jkm_set("jkm-old", "2015-07-01", "2019-11-30"))
    write(tmp_path, "b.toml", jkm_set("jkm-new", "2019-12-02"))
    with pytest.raises(RuleSetError) as caught:
        load_rules(tmp_path, packaged=False)
    assert caught.value.rule_ids == ("jkm-old", "jkm-new")
    assert "gap" in str(caught.value)


def test_adjacent_generations_load(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", jkm_set("jkm-old", "2015-07-01", "2019-12-01", 1))
    write(tmp_path, "b.toml", jkm_set("jkm-new", "2019-12-02", None, 2))
    book = load_rules(tmp_path, packaged=False)
    assert book.jkm(date(2019, 12, 1)).lump_sum == 1
    assert book.jkm(date(2019, 12, 2)).lump_sum == 2


def test_duplicate_ids_fail(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", jkm_set("jkm-pp82-2019", "2030-01-01"))
    with pytest.raises(RuleSetError, match="used by both"):
        load_rules(tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("lump_sum = 20000000", "lump_sum = 20000000\nbonus = 1", "unknown key"),
        ("lump_sum = 20000000", "lump_sum = -5", "must not be negative"),
        ('kind = "jkm"', 'kind = "jkx"', "unknown kind"),
        ('confidence = "H"', 'confidence = "X"', "confidence"),
        ("valid_from = 2019-12-02", "valid_from = 2019-12-02\nvalid_to = 2019-01-01", "before"),
    ],
)
def test_malformed_files_fail_with_the_file_named(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    text = jkm_set("jkm-x", "2019-12-02").replace(old, new)
    assert text != jkm_set("jkm-x", "2019-12-02")
    path = write(tmp_path, "x.toml", text)
    with pytest.raises(RuleSetError, match=message) as caught:
        load_rules(tmp_path, packaged=False)
    assert str(path) in str(caught.value)


def test_bracket_table_with_a_hole_fails(tmp_path: Path) -> None:
    data = Path(__file__).parents[1] / "data" / "contribution_bpu_pp44_2015.toml"
    text = data.read_text(encoding="utf-8").replace("from =  1_100_000", "from =  1_100_001")
    write(tmp_path, "c.toml", text.replace('id = "bpu-contribution-pp44-2015"', 'id = "c2"'))
    with pytest.raises(RuleSetError, match="bracket 2 must start"):
        load_rules(tmp_path, packaged=False)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('selection = ["chosen", "eldest"]', 'selection = ["youngest"]', "selection must list"),
        ('selection = ["chosen", "eldest"]', "selection = []", "selection must list"),
        ("days = 300", "days = -1", "must not be negative"),
        ('confidence = "L"', 'confidence = "low"', "confidence must be H, M or L"),
        ("max_children = 2", "max_children = 0", "max_children must be at least 1"),
    ],
)
def test_malformed_scholarship_selection_or_window_fails(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    """The selection rule and the posthumous window are data, checked when the rules load."""
    data = Path(__file__).parents[1] / "data" / "scholarship_pp82_2019.toml"
    text = data.read_text(encoding="utf-8")
    assert old in text
    write(tmp_path, "s.toml", text.replace(old, new).replace("scholarship-pp82-2019", "s2"))
    with pytest.raises(RuleSetError, match=message):
        load_rules(tmp_path, packaged=False)


SUPPLEMENT = """\
[supplement]
id = "disability-extra"
extends = "disability-table-lampiran-iii"
title = "Operator rows"
source = "branch letter"
confidence = "L"

[[items]]
code = "thumb_right"
label_id = "Ibu jari kanan"
label_en = "Right thumb"
percent = 15
"""


def test_operator_supplement_adds_a_disability_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "extra.toml", SUPPLEMENT)
    monkeypatch.setenv("CAKUPAN_RULES_DIR", str(tmp_path))
    book = default_rules()
    item = book.disability_table(date(2026, 1, 1)).items["thumb_right"]
    assert (item.percent, item.confidence) == (15, "L")
    assert "disability-extra" in item.source
    result = benefits_from_dict(
        {
            "type": "jkk",
            "event_date": "2026-03-10",
            "wage": 1_000_000,
            "disability": [{"item": "thumb_right"}],
        },
        as_of=date(2026, 12, 1),
        rules=book,
    )
    assert result.line("disability_0_thumb_right").amount == 12_000_000
    assert result.line("disability_0_thumb_right").confidence == "L"


def test_supplement_correcting_a_row_needs_replaces(tmp_path: Path) -> None:
    conflict = SUPPLEMENT.replace('"thumb_right"', '"eye_one"')
    write(tmp_path, "extra.toml", conflict)
    with pytest.raises(RuleSetError, match="replaces = true") as caught:
        load_rules(tmp_path)
    assert set(caught.value.rule_ids) == {"disability-extra", "disability-table-lampiran-iii"}
    write(tmp_path, "extra.toml", conflict.replace("percent = 15", "percent = 36\nreplaces = true"))
    table = load_rules(tmp_path).disability_table(date(2026, 1, 1))
    assert table.items["eye_one"].percent == 36
    assert table.meta.supplements == ("disability-extra",)


def test_supplement_cannot_touch_other_tables(tmp_path: Path) -> None:
    text = SUPPLEMENT.replace(
        'extends = "disability-table-lampiran-iii"', 'extends = "jkm-pp82-2019"'
    )
    write(tmp_path, "extra.toml", text)
    with pytest.raises(RuleSetError, match="may only add"):
        load_rules(tmp_path)


def test_missing_rules_directory_fails(tmp_path: Path) -> None:
    with pytest.raises(RuleSetError, match="does not exist"):
        load_rules(tmp_path / "nope")


def test_engine_imports_no_django() -> None:
    """STYLE.md: cakupan.rules is plain Python; computing must not pull in Django."""
    code = (
        "import sys, cakupan.rules as r; "
        "r.contribution(category='bpu', income=1, month='2026-01'); "
        "import datetime; r.benefits_from_dict({'type': 'jkm', 'event_date': '2026-01-01'}, "
        "as_of=datetime.date(2026, 12, 1)); "
        "assert 'django' not in sys.modules, 'django imported'"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
