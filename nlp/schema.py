"""Pydantic models of the public contract (``../shared/CONTRACT.md``).

This module is the one home for every shape that crosses a boundary: the
protocol side (Protocol/Criterion/Constraint), the notes side (Fact,
PatientFacts) and the matcher's output (MatchResult). Field names follow the
contract exactly; fields may be added, never renamed.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

Span = tuple[int, int]
Comparator = Literal[">", ">=", "<", "<=", "==", "between"]
Domain = Literal["condition", "drug", "procedure", "measurement", "observation", "device", "demographic"]
Category = Literal[
    "demographic", "diagnosis", "disease_status", "biomarker", "prior_therapy",
    "performance_status", "life_expectancy", "lab", "vital", "cardiac",
    "organ_function", "comorbidity", "reproductive", "consent", "other",
]
Assertion = Literal["present", "absent", "possible", "hypothetical", "historical", "family"]
CriterionKind = Literal["inclusion", "exclusion"]
ParseStatus = Literal["parsed", "partial", "unsupported"]
Logic = Literal["all", "any"]
MatchStatus = Literal["met", "not_met", "unknown"]
Verdict = Literal["eligible", "ineligible", "needs_review"]
Value = Union[float, str, None]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Code(_Model):
    system: str
    code: str


class Concept(_Model):
    """A normalized concept. ``id`` is the lexicon key (added field)."""

    label: str
    domain: Optional[Domain] = None
    codes: list[Code] = Field(default_factory=list)
    id: Optional[str] = None
    category: Optional[str] = None
    confidence: Optional[float] = None


class Temporal(_Model):
    """A time window, e.g. "within 12 months after CR"."""

    comparator: Optional[Comparator] = None
    value: Optional[float] = None
    value2: Optional[float] = None
    unit: Optional[str] = None
    days: Optional[float] = None
    anchor: Optional[str] = None
    relation: Optional[Literal["before", "after"]] = None
    text: Optional[str] = None
    span: Optional[Span] = None


class ExceptionClause(_Model):
    """An exception to a constraint, e.g. "(Gilbert syndrome <= 3.0 x ULN)"."""

    condition: Concept
    comparator: Optional[Comparator] = None
    value: Value = None
    value2: Optional[float] = None
    unit: Optional[str] = None
    text: Optional[str] = None
    span: Optional[Span] = None
    concept_span: Optional[Span] = None  # (added field)


class Constraint(_Model):
    concept: Concept
    negated: bool = False
    comparator: Optional[Comparator] = None
    value: Value = None
    value2: Optional[float] = None
    unit: Optional[str] = None
    temporal: Optional[Temporal] = None
    exceptions: list[ExceptionClause] = Field(default_factory=list)
    text: str
    span: Span
    concept_span: Optional[Span] = None  # the concept mention alone (added field)
    qualifiers: list[str] = Field(default_factory=list)  # "serious", "uncontrolled", ... (added field)
    method: Optional[str] = None  # how it must be shown: "flow cytometry", "echocardiography" (added field)
    method_span: Optional[Span] = None  # (added field)
    mentions: list[Span] = Field(default_factory=list)  # every mention of this concept in the clause (added field)
    experiencer: Literal["patient", "family"] = "patient"  # "family history of ..." (added field)


class Criterion(_Model):
    id: str
    kind: CriterionKind
    text: str
    span: Span
    category: Category = "other"
    status: ParseStatus = "parsed"
    logic: Logic = "all"
    children: list["Criterion"] = Field(default_factory=list)
    constraints: list[Constraint] = Field(default_factory=list)
    cohort: Optional[str] = None

    def walk(self):
        """Yield this node and every descendant, depth first, in document order."""
        yield self
        for child in self.children:
            yield from child.walk()


class Section(_Model):
    """A section or cohort header line ("Exclusion Criteria:", "Donor:")."""

    kind: Literal["inclusion", "exclusion", "cohort"]
    text: str
    span: Span


class Protocol(_Model):
    trial_id: str
    title: Optional[str] = None
    text: str
    preamble_span: Optional[Span] = None
    criteria: list[Criterion] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)

    def walk(self):
        """Yield every criterion node of the tree, depth first."""
        for node in self.criteria:
            yield from node.walk()


class Fact(_Model):
    concept: Concept
    value: Value = None
    unit: Optional[str] = None
    reference_range: Optional[tuple[Optional[float], Optional[float]]] = None
    uln_multiple: Optional[float] = None
    assertion: Assertion = "present"
    date: Optional[str] = None
    note_id: str
    span: Span
    text: str
    # Added fields (the contract allows additions):
    type: Optional[str] = None
    flag: Optional[str] = None
    specimen: Optional[str] = None
    method: Optional[str] = None
    oxygen: Optional[str] = None
    count: Optional[int] = None
    uln_source: Optional[str] = None
    section: Optional[str] = None
    sentence: Optional[Span] = None
    # Added by the notes extractor: a range or bound as written ("LVEF 55-60%", "CD123 <2%"),
    # the intensity of a marker ("bright", "dim"), and where the date came from
    # ("statement" | "section" | "note").
    value2: Optional[float] = None
    comparator: Optional[Comparator] = None
    qualifier: Optional[str] = None
    date_source: Optional[str] = None


class CurrentValue(_Model):
    """The newest fact of one concept, with the older ones as history."""

    concept_id: str
    fact: Fact
    history: list[Fact] = Field(default_factory=list)


class PatientFacts(_Model):
    patient_id: str
    facts: list[Fact] = Field(default_factory=list)
    current: dict[str, CurrentValue] = Field(default_factory=dict)
    n_notes: int = 0


class Evidence(_Model):
    note_id: str
    start: int
    end: int
    text: str


class CriterionResult(_Model):
    criterion_id: str
    parent_id: Optional[str] = None
    kind: CriterionKind
    text: str
    status: MatchStatus
    evidence: list[Evidence] = Field(default_factory=list)
    reason: str


class MissingItem(_Model):
    criterion_id: str
    what: str


class MatchResult(_Model):
    trial_id: str
    patient_id: str
    verdict: Verdict
    score: float
    missing: list[MissingItem] = Field(default_factory=list)
    criteria: list[CriterionResult] = Field(default_factory=list)


class ErrorRecord(_Model):
    """One input row that could not be used, with where it was and why."""

    source: str
    location: Optional[str] = None
    id: Optional[str] = None
    reason: str


Criterion.model_rebuild()
