"""Assertion of every fact (present, absent, possible, hypothetical, historical, family) by ConText.

The rules are medSpaCy ConText rules: the shared ``resources/assertion/context_rules.json``
(also read by the criteria parser) plus note-only rules in
``resources/notes/context_rules_notes.json``; every change to them is recorded,
with its reason, in ``resources/assertion/CHANGES.md``. Two engines apply them:

* ``"fast"`` (default) implements medSpaCy's ConText algorithm over the
  lexicon's word tokens: literals match whole lower-cased words as written
  (no plural folding: "rules out" is a negation, "rule out" a possibility);
  overlapping cue matches keep the longest, and a shorter cue survives where it
  overlaps nothing longer (the "no" of "no prior history of"); a cue's scope is
  its sentence, after it (FORWARD), before it (BACKWARD) or both, limited to
  ``max_scope`` tokens when the rule says so; a later cue of the same category
  or a TERMINATE cue cuts a scope short; a cue never modifies a target it
  overlaps. Refinements over medSpaCy, each for a reason written in
  :func:`find_modifiers`: a cue never cuts through a fact's own words ("no acute
  distress"), a cue inside brackets stays inside them unless it comments on the
  phrase before them ("AKI (resolved)"), and a TERMINATE rule with direction
  FORWARD (a spaced dash) ends forward scopes only. Rules with the very same
  literal all apply ("possible" forward, and backward over one word).
* ``"medspacy"`` runs medSpaCy's own ``ConText`` on spans built from the facts,
  with the same rules (see :func:`medspacy_rules` for the two it cannot
  express). It is the reference ConText; ``benchmarks/assertion.py --engine
  medspacy`` shows what the refinements add.

The note-only file may redefine a shared literal: its rules then replace the
shared ones ("resolved" is historical in notes, not a negation).

From categories to the contract's single ``assertion`` field, in this precedence:

    absent (negated) > family > hypothetical > possible > historical > present

so "no history of stroke" (negated + historical) is ``absent``, "no family
history of AML" is ``absent`` (a negated family history), "mother had AML" is
``family``, "if relapse occurs, consider ..." is ``hypothetical``, "possible
relapse" ``possible``, "s/p 7+3" ``historical`` and "not a candidate for
transplant" ``absent``. Note rules on top of the cues (:func:`final_categories`):
a fact in a Family History section is ``family``; "history of" a long-term
condition (``chronic_conditions`` in ``resources/notes/patterns.json``:
hypertension, diabetes, CKD, depression ...) stays ``present``, unless a cue
says it is over ("resolved", "in remission": rules with metadata ``ended``); a
diagnosis in a Hospital Course section (not an ED course) is ``historical``
unless it is a long-term condition or a hematologic malignancy; a cancer
followed in its sentence by a negated recurrence ("no evidence of recurrence")
is ``historical``; a condition dated more than ``past_event_days`` before the
note is made historical later, by ``nlp.notes.dating``. Facts whose text
states their own result keep it: a measured value ("EF 45%") only takes
family, hypothetical or historical; a biomarker, MRD or ECG result is never
negated by nearby cues, since its value says "negative" or "normal" ("CD123
negative" is present with value negative, whatever negation cues stand in the
marker list); a consent fact is present, its value being signed, pending or
declined. Age and sex are never historical. A mention written in a form that
names its concept's absence ("afebrile" for fever, ``absent_forms.csv``) is absent.
"""


import re
from bisect import bisect_right
from functools import lru_cache
from typing import Optional

from spacy.language import Language
from spacy.tokens import Doc

from nlp.data import load_json
from nlp.lexicon import tokenize
from nlp.notes.context import (RULE_FILES, Modifier, Rule, categories_for, find_modifiers,  # noqa: F401 - re-exported
                               load_rules, medspacy_rules)
from nlp.notes.records import FactRecord, register_extensions
from nlp.notes.view import NoteView, view_of

CATEGORY_TO_ASSERTION = {"FAMILY": "family", "HYPOTHETICAL": "hypothetical", "NEGATED_EXISTENCE": "absent",
                         "POSSIBLE_EXISTENCE": "possible", "HISTORICAL": "historical"}
PRECEDENCE = ("absent", "family", "hypothetical", "possible", "historical")
_FAMILY_SECTION_TYPES = {"diagnosis", "psychiatric", "disease_status", "therapy", "biomarker"}
_VALUE_TYPES = {"lab", "vital", "cardiac", "performance_status", "blasts", "life_expectancy", "demographic"}


@lru_cache(maxsize=1)
def _chronic() -> frozenset[str]:
    return frozenset(load_json("notes/patterns.json")["chronic_conditions"]["ids"])


@lru_cache(maxsize=4096)
def is_chronic(concept_id: str) -> bool:
    """A long-term condition: hypertension, diabetes, CKD, depression ..."""
    # Exact concepts only: a myocardial infarction is_a coronary artery disease in the lexicon,
    # yet "hx MI 2015" is a past event.
    return concept_id in _chronic()


@lru_cache(maxsize=4096)
def is_hematologic_malignancy(concept_id: str) -> bool:
    """A hematologic malignancy: the disease being treated, current through a hospital stay or a remission."""
    from nlp.lexicon import get_index

    return get_index().is_a(concept_id, "hematologic_malignancy")


@lru_cache(maxsize=4096)
def is_solid_cancer(concept_id: str) -> bool:
    """A malignancy other than a hematologic one (breast, prostate cancer ...)."""
    from nlp.lexicon import get_index

    return get_index().is_a(concept_id, "malignancy") and not is_hematologic_malignancy(concept_id)


def final_categories(rec: FactRecord, categories: set[str], section: Optional[str]) -> set[str]:
    """The ConText categories of a record after the note rules (section, chronic conditions, own results).

    May mark a negated biomarker result on ``rec`` ("no del(17p)": value negative).
    """
    if section == "family_history" and rec.type in _FAMILY_SECTION_TYPES:
        categories = categories | {"FAMILY"}
    if rec.type == "consent":
        return set()
    if rec.extra.get("absent_form"):
        categories = categories | {"NEGATED_EXISTENCE"}  # "afebrile" (nlp/resources/lexicon/absent_forms.csv)
    if rec.extra.get("switched"):
        categories = categories | {"HISTORICAL"}
    if rec.polarity is not None:
        if rec.extra.get("negatable") and "NEGATED_EXISTENCE" in categories:
            rec.polarity, rec.value = "negative", "negative"  # "no del(17p)": a negative result
        categories = {c for c in categories if c not in ("NEGATED_EXISTENCE", "HISTORICAL")}
    elif rec.valued and rec.type in _VALUE_TYPES:
        categories = {c for c in categories if c in ("FAMILY", "HYPOTHETICAL", "HISTORICAL")}
        if rec.type == "demographic":  # "66yo with a smoking history": age and sex are not past
            categories.discard("HISTORICAL")
    if rec.type in ("diagnosis", "psychiatric") and "HISTORICAL" in categories and "ENDED" not in categories \
            and is_chronic(rec.concept_id):
        categories = categories - {"HISTORICAL"}  # "history of hypertension": still has it ("resolved" is over)
    if rec.type in ("diagnosis", "psychiatric", "disease_status", "therapy") and section == "resolved_problems":
        categories = categories | {"HISTORICAL"}  # "Resolved / Historical" problem list
    if rec.type in ("diagnosis", "psychiatric") and section == "hospital_course" \
            and not is_chronic(rec.concept_id) and not is_hematologic_malignancy(rec.concept_id):
        categories = categories | {"HISTORICAL"}  # events of the stay, resolved by discharge
    return set(categories)


def resolve(rec: FactRecord, categories: set[str], section: Optional[str]) -> str:
    """The contract assertion of a record from its ConText categories (see the module docstring)."""
    categories = final_categories(rec, categories, section)
    found = {CATEGORY_TO_ASSERTION[c] for c in categories if c in CATEGORY_TO_ASSERTION}
    for assertion in PRECEDENCE:
        if assertion in found:
            return assertion
    return "present"


_ED_HEADER = re.compile(r"\b(?:ED|emergency)\b", re.IGNORECASE)


def _section_category(view: NoteView, section) -> Optional[str]:
    """The section's category; an "ED course" is the start of the current stay, not its (past) course."""
    if section is None:
        return None
    if section.category == "hospital_course" and _ED_HEADER.search(view.text, section.start, section.header_end):
        return "ed_course"
    return section.category


def assert_records(view: NoteView, tokens=None) -> None:
    """Set ``assertion`` and ``modifiers`` on every record (in place), fast engine."""
    if not view.records:
        return
    tokens = tokens if tokens is not None else (view.tokens or tokenize(view.text))
    # A consent fact's own words ("consent for ...") stay usable as a cue: its assertion is fixed anyway.
    mods = find_modifiers(tokens, view.sentences, [rec.anchor for rec in view.records if rec.type != "consent"])
    sent_starts = [s for s, _ in view.sentences]
    by_sentence: dict[int, list[Modifier]] = {}
    for m in mods:
        by_sentence.setdefault(bisect_right(sent_starts, m.start) - 1, []).append(m)
    for rec in view.records:
        a, b = rec.anchor
        k = bisect_right(sent_starts, a) - 1
        cats = categories_for(by_sentence.get(k, []), sent_starts, a, b)
        section = view.section(a)
        rec.section = _section_category(view, section)
        rec.sentence = view.sentences[k] if k >= 0 else None
        rec.modifiers = tuple(sorted(cats))
        rec.assertion = resolve(rec, cats, rec.section)
    mark_past_cancers(view.records)


# Disease-status concepts whose negation says a cancer is over ("no recurrence", "no evidence of progression").
_RECURRENCE = frozenset({"relapse", "progressive_disease"})


def mark_past_cancers(records: list[FactRecord]) -> None:
    """"Prostate cancer, s/p EBRT 2012 -- no evidence of recurrence": a (non-hematologic) cancer followed
    in its sentence by a negated recurrence is a past cancer (historical). In place."""
    ends = [r for r in records if r.type == "disease_status" and r.concept_id in _RECURRENCE and r.assertion == "absent"]
    for end in ends:
        for rec in records:
            if rec.type == "diagnosis" and rec.assertion == "present" and rec.sentence == end.sentence \
                    and rec.anchor[1] <= end.anchor[0] and is_solid_cancer(rec.concept_id):
                rec.assertion = "historical"
                rec.modifiers = tuple(sorted(set(rec.modifiers) | {"HISTORICAL"}))


def _assert_with_medspacy(doc: Doc, view: NoteView, context) -> None:
    """medSpaCy's ConText on spans made from the records' anchors (needs sentence starts)."""
    if not Doc.has_extension("trialmatch_targets"):
        Doc.set_extension("trialmatch_targets", default=None)
    spans, owners = [], []
    for rec in view.records:
        span = doc.char_span(rec.anchor[0], rec.anchor[1], label=rec.type, alignment_mode="expand")
        if span is not None:
            spans.append(span)
            owners.append(rec)
    doc._.trialmatch_targets = spans
    context(doc, targets="trialmatch_targets")
    sent_starts = [s for s, _ in view.sentences]
    for rec in view.records:
        rec.modifiers = ()
    for span, rec in zip(spans, owners):
        cats = {m.category.upper() for m in span._.modifiers}
        if any((m.rule.metadata or {}).get("ended") for m in span._.modifiers):
            cats.add("ENDED")
        rec.modifiers = tuple(sorted(cats))
    for rec in view.records:
        rec.section = _section_category(view, view.section(rec.anchor[0]))
        k = bisect_right(sent_starts, rec.anchor[0]) - 1
        rec.sentence = view.sentences[k] if k >= 0 else None
        rec.assertion = resolve(rec, set(rec.modifiers), rec.section)
    mark_past_cancers(view.records)


class Assertion:
    """spaCy component: assertion on every record of ``doc._.trialmatch_records``."""

    def __init__(self, nlp: Language, name: str, engine: str = "fast"):
        register_extensions()
        if engine not in ("fast", "medspacy"):
            raise ValueError(f"unknown assertion engine {engine!r} (use 'fast' or 'medspacy')")
        self.name = name
        self.engine = engine
        self._context = None
        if engine == "medspacy":
            from medspacy.context import ConText

            self._context = ConText(nlp, name="trialmatch_medspacy_context", rules=None)
            self._context.add(medspacy_rules(load_rules()))

    def __call__(self, doc: Doc) -> Doc:
        view = view_of(doc)
        if self._context is None:
            assert_records(view)
        else:
            _assert_with_medspacy(doc, view, self._context)
        return doc


@Language.factory("trialmatch_assertion", default_config={"engine": "fast"})
def make_assertion(nlp: Language, name: str, engine: str) -> Assertion:
    """ConText assertion over the shared rules file ("fast" or "medspacy" engine)."""
    return Assertion(nlp, name, engine)
