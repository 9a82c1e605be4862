"""The rules engine: Jamsostek contributions and benefits computed from dated, cited rule sets.

Pure Python (no Django), every amount in whole Rupiah (int). Terms: BPU = *bukan penerima
upah*, non-wage earner; JKK = *jaminan kecelakaan kerja*, work accident; JKM = *jaminan
kematian*, death not from work; JHT = *jaminan hari tua*, old-age savings; STMB =
*santunan sementara tidak mampu bekerja*, temporary incapacity pay; APBD/APBN = regional /
state budget.

Public API
----------
contribution(*, category, income, month, programmes=None, sector="other", funding="self",
             business_owner=False, rules=None) -> ContributionResult
    One participant's monthly contribution. `month` is a date or "YYYY-MM". Only category
    "bpu" is computed; "pu", "jakon", "pmi" raise RuleInputError(code="category_not_supported").
    Mandatory programmes are always included; pass programmes=["jht"] to opt into JHT
    (a business owner gets JHT as mandatory). Result: bracket (1–33), income_from,
    income_to (None on the top row), base, lines (ContributionLine: programme, label_id,
    label_en, mandatory, gross, discount, net, rule_id, basis, discount_rule_id,
    discount_basis), total_gross, total_discount, total, rule_ids, notes (why no discount).

contributions_for_month(*, month, income, sector, funding, jht=None, business_owner=None,
                        category="bpu", rules=None) -> VectorContributions
    The same for N memberships at once: numpy arrays, lists or polars Series; sector and
    funding as strings or integer codes (`codes(month=...)` gives their order). Result
    columns: bracket, base, gross/discount/net per programme, total; `.to_polars()`.

benefits(event: WorkAccident | Death, *, as_of: date, rules=None) -> BenefitResult
benefits_from_dict(data: dict, *, as_of: date, rules=None) -> BenefitResult
event_from_dict(data: dict) -> WorkAccident | Death
    Itemised benefits as of `as_of` (today: the engine never reads the clock; an event
    after it is refused). BenefitResult: event_type, event_date, as_of, wage,
    months_in_arrears, lines (due now: BenefitLine: code, label_id, label_en, amount
    (None = medical care as incurred), calculation, payable ("now" | "after_arrears" |
    "not_payable"), rule_id, basis, confidence (H/M/L), note, note_en, child and
    school_year for a scholarship instalment of this school year or one already over),
    schedule (scholarship instalments of later school years, payable "later" |
    "not_payable"), scholarships (ScholarshipResult or None: max_children,
    current_school_year, per child eligible (= receives it), chosen, reasons (age_limit,
    married, working, not_heir, min_contribution, not_enrolled, finished,
    no_remaining_years, max_children), schedule of ScholarshipYear(school_year, level,
    year_in_level, amount, when = past | current | later), total), total_now (lines
    payable now), total_after_arrears (lines held until the arrears are paid), total_later
    (the schedule), total = the three summed, as_incurred, rule_ids.

Every result has `.to_dict()` returning plain JSON types. Bad input raises RuleInputError
(field, code, message in Indonesian, message_en; `.to_dict()` for a 422 body). A broken
rule file raises RuleSetError when the rules load. `default_rules()` is the RuleBook of the
packaged rule sets plus any in the directories of the CAKUPAN_RULES_DIR environment
variable (os.pathsep-separated); `load_rules(*dirs, packaged=True)` builds one explicitly.
Every function takes `rules=` to compute with another RuleBook.

Rule sets (TOML in cakupan/rules/data/; format in `cakupan.rules.loader`)
------------------------------------------------------------------------
Kinds: vocabulary, contribution, discount (PP 50/2025), jkk, jkm, scholarship, arrears,
disability_table. Each names its legal basis, confidence and valid_from/valid_to, where
valid_to is INCLUSIVE. Contributions are chosen by the contribution month (its first day),
benefits by the event date: PP 44/2015 for events 2015-07-01..2019-12-01, PP 82/2019 from
2019-12-02. Overlaps and gaps within a kind fail at load time naming both ids. An operator
adds disability rows (or sectors, funders) with a supplement file in CAKUPAN_RULES_DIR:

    [supplement]
    id = "disability-extra-2026"
    extends = "disability-table-lampiran-iii"
    title = "Tambahan tabel cacat"
    source = "Surat BPJS Ketenagakerjaan Malang, 2026-02"
    confidence = "L"

    [[items]]
    code = "thumb_right"
    label_id = "Ibu jari kanan"
    label_en = "Right thumb"
    percent = 15          # a row with an existing code needs replaces = true

JSON event schema (benefits_from_dict; `cakupan rules benefits FILE.json`,
POST /api/v1/calculate/benefits)
-------------------------------------------------------------------------------------
Unknown keys are refused. Dates are "YYYY-MM-DD", amounts integer Rupiah.

    {
      "type": "jkk" | "jkm",                       required
      "event_date": "2026-03-15",                  required; chooses the rule sets
      "months_in_arrears": 0,                      consecutive unpaid months at the event
      "contribution_months": 40,                   months contributed; required for a JKM
                                                   scholarship
      "children": [                                every child registered as an heir; at most 2
        {                                          receive it (1 before 2019-12-02); only for
                                                   jkm, or jkk with death/total_disability
          "name": "Ani",                           optional
          "birth_date": "2014-08-20",              required
          "level": "not_in_school" | "tk_sd" | "smp" | "sma" | "s1" | "not_enrolled"
                   | "finished",                   required
          "year_in_level": 2,                      1-based, required for tk_sd/smp/sma/s1
          "school_start_year": 2027,               optional, only for not_in_school
          "married": false,
          "working": "no" | "pu" | "bpu" | "intern" | "other",
          "pu_consecutive_months": 0,
          "registered_heir": true,
          "chosen": false                          the heirs' choice of recipient
        }
      ],
      -- jkk only --
      "wage": 1000000,          the wage contributions were paid on (BPU: bracket base), or
      "income": 1050000,        the declared income, mapped to its bracket base
      "medical_bills": [2500000, 300000],          omit: medical care "as incurred"
      "stmb": {"months": 14, "days": 0}            or {"from": "2026-01-05", "to": "2026-02-10"}
      "disability": [
        {"item": "eye_one"},
        {"item": "arm_shoulder_right", "function_loss_percent": 50},
        {"item": "scalp", "percent": 20},          range items need the assessed percent
        {"item": "hearing_reduction_both", "units": 3}   per-unit items: units of 10 dB/10%
      ],
      "left_handed": false,     swaps right/left arm percentages
      "total_disability": false,
      "death": false,
      "home_care": 15000000,    claimed, capped
      "transport": [{"mode": "land" | "sea" | "air", "amount": 750000}]
    }
"""

from cakupan.rules.benefits import BenefitLine, BenefitResult, benefits, benefits_from_dict
from cakupan.rules.contribution import (
    ContributionLine,
    ContributionResult,
    Note,
    contribution,
)
from cakupan.rules.errors import RuleInputError, RuleSetError
from cakupan.rules.events import (
    Child,
    Death,
    DisabilityEntry,
    Incapacity,
    TransportClaim,
    WorkAccident,
    event_from_dict,
)
from cakupan.rules.loader import RuleBook, default_rules, load_rules
from cakupan.rules.scholarship import (
    ChildScholarship,
    Reason,
    ScholarshipResult,
    ScholarshipYear,
)
from cakupan.rules.vector import VectorContributions, codes, contributions_for_month

__all__ = [
    "BenefitLine",
    "BenefitResult",
    "Child",
    "ChildScholarship",
    "ContributionLine",
    "ContributionResult",
    "Death",
    "DisabilityEntry",
    "Incapacity",
    "Note",
    "Reason",
    "RuleBook",
    "RuleInputError",
    "RuleSetError",
    "ScholarshipResult",
    "ScholarshipYear",
    "TransportClaim",
    "VectorContributions",
    "WorkAccident",
    "benefits",
    "benefits_from_dict",
    "codes",
    "contribution",
    "contributions_for_month",
    "default_rules",
    "event_from_dict",
    "load_rules",
]
