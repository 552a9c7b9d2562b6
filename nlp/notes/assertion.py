"""Assertion of every fact (present, absent, possible, hypothetical, historical, family) by ConText.

The rules are medSpaCy ConText rules: the shared ``resources/assertion/context_rules.json``
(also read by the criteria parser) plus note-only rules in
``resources/notes/context_rules_notes.json``. Two engines apply them:

* ``"fast"`` (default) re-implements medSpaCy's ConText algorithm over the
  lexicon's word tokens: literals match whole words case-insensitively (with
  the lexicon's plural/spelling folding); overlapping modifier matches keep
  the longest (a PSEUDO match such as "no increase" thus blocks "no"); a
  modifier's scope is its sentence, after it (FORWARD), before it (BACKWARD)
  or both; a later modifier of the same category or a TERMINATE cue cuts a
  scope short; a modifier never modifies a target it overlaps. One
  difference: rules with the very same literal all apply ("resolved" is both
  NEGATED_EXISTENCE and HISTORICAL), where medSpaCy keeps one.
* ``"medspacy"`` runs medSpaCy's own ``ConText`` on spans built from the facts.
  It gives the same assertions on our notes but is slower (see
  ``benchmarks/note_throughput.py``).

The note-only file may redefine a shared literal: its rules then replace the
shared ones ("resolved" is historical in notes, not a negation).

From categories to the contract's assertion, in this precedence:

    absent (negated) > family > hypothetical > possible > historical > present

so "no history of stroke" (negated + historical) is ``absent``, "no family
history of AML" is ``absent`` (a negated family history), "mother had AML" is
``family`` and "not a candidate for transplant" is ``absent``. A fact in a
Family History section is ``family``. "History of" a long-term condition
(``chronic_conditions`` in ``resources/notes/patterns.json``: hypertension,
diabetes, CKD, depression ...) stays ``present``; a condition mentioned in a
Hospital Course section, or dated more than ``past_event_days`` before the
note (and not a chronic condition or a hematologic malignancy), is
``historical``. Facts whose text states their own result
keep it: a measured value ("EF 45%") only takes family, hypothetical or
historical; a biomarker, MRD or ECG result is never negated by nearby cues,
since its value says "negative" or "normal" ("CD123 negative" is present with
value negative, whatever negation cues stand in the marker list); a consent
fact is present, its value being signed, pending or declined.
"""


from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional

from spacy.language import Language
from spacy.tokens import Doc

from nlp.data import load_json
from nlp.lexicon import tokenize
from nlp.notes.records import FactRecord, register_extensions
from nlp.notes.view import NoteView, view_of

RULE_FILES = ("assertion/context_rules.json", "notes/context_rules_notes.json")
CATEGORY_TO_ASSERTION = {"FAMILY": "family", "HYPOTHETICAL": "hypothetical", "NEGATED_EXISTENCE": "absent",
                         "POSSIBLE_EXISTENCE": "possible", "HISTORICAL": "historical"}
PRECEDENCE = ("absent", "family", "hypothetical", "possible", "historical")
_FAMILY_SECTION_TYPES = {"diagnosis", "psychiatric", "disease_status", "therapy", "biomarker"}
_VALUE_TYPES = {"lab", "vital", "cardiac", "performance_status", "blasts", "life_expectancy", "demographic"}


@dataclass(frozen=True)
class Rule:
    literal: str
    category: str
    direction: str


def _read(path: str) -> list[Rule]:
    return [Rule(r["literal"], r["category"].upper(), r["direction"].upper())
            for r in load_json(path)["context_rules"] if r.get("literal") and not r.get("pattern")]


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    """Shared ConText rules, then the note-only ones; a note rule's literal replaces the shared rules with it."""
    shared, notes = (_read(path) for path in RULE_FILES)
    redefined = {r.literal.lower() for r in notes}
    return tuple([r for r in shared if r.literal.lower() not in redefined] + notes)


class _Table:
    """Rule literals keyed by their folded word sequence."""

    def __init__(self, rules: Iterable[Rule]):
        self.by_key: dict[tuple[str, ...], list[Rule]] = {}
        self.longest: dict[str, int] = {}
        for rule in rules:
            key = tuple(t.norm for t in tokenize(rule.literal))
            if not key:
                continue
            bucket = self.by_key.setdefault(key, [])
            if all((r.category, r.direction) != (rule.category, rule.direction) for r in bucket):
                bucket.append(rule)
            self.longest[key[0]] = max(self.longest.get(key[0], 0), len(key))


@lru_cache(maxsize=1)
def _table() -> _Table:
    return _Table(load_rules())


class Modifier:
    __slots__ = ("start", "end", "category", "direction", "scope_start", "scope_end")

    def __init__(self, start, end, category, direction, scope_start, scope_end):
        self.start, self.end = start, end
        self.category, self.direction = category, direction
        self.scope_start, self.scope_end = scope_start, scope_end

    def limit_by(self, other: "Modifier") -> None:
        """medSpaCy's ``limit_scope``: same-category modifiers and TERMINATE cues cut a scope."""
        if self.direction == "TERMINATE" or self is other:
            return
        if not (self.scope_start < other.scope_end and other.scope_start < self.scope_end):
            return
        if other.direction != "TERMINATE" and other.category != self.category:
            return
        if self.direction in ("FORWARD", "BIDIRECTIONAL") and other.start > self.start:
            self.scope_end = min(self.scope_end, other.start)
        if self.direction in ("BACKWARD", "BIDIRECTIONAL") and other.end < self.end:
            self.scope_start = max(self.scope_start, other.end)

    def modifies(self, start: int, end: int) -> bool:
        if self.direction in ("TERMINATE", "PSEUDO") or self.category in ("TERMINATE", "PSEUDO"):
            return False
        if self.start < end and start < self.end:
            return False
        return self.scope_start < end and start < self.scope_end


def find_modifiers(tokens, sentences: list[tuple[int, int]]) -> list[Modifier]:
    """ConText modifiers of a note (tokens from ``nlp.lexicon.tokenize``), with their scopes set."""
    table = _table()
    longest, by_key = table.longest, table.by_key
    norms = [t.norm for t in tokens]
    n = len(norms)
    hits = []
    for i, word in enumerate(norms):
        top = longest.get(word)
        if not top:
            continue
        for length in range(min(top, n - i), 0, -1):
            rules = by_key.get(tuple(norms[i:i + length]))
            if rules:
                hits.append((i, i + length, rules))
                break
    if not hits:
        return []
    # Overlapping matches: the longest wins (so PSEUDO "no increase" blocks "no").
    hits.sort(key=lambda h: (-(tokens[h[1] - 1].end - tokens[h[0]].start), h[0]))
    taken = [False] * n
    kept = []
    for i, j, rules in hits:
        if any(taken[i:j]):
            continue
        for k in range(i, j):
            taken[k] = True
        kept.append((i, j, rules))
    kept.sort()
    sent_starts = [s for s, _ in sentences]
    mods: list[Modifier] = []
    for i, j, rules in kept:
        start, end = tokens[i].start, tokens[j - 1].end
        k = bisect_right(sent_starts, start) - 1
        s, e = sentences[k] if k >= 0 else (0, end)
        for rule in rules:
            if rule.direction == "FORWARD":
                scope = (end, e)
            elif rule.direction == "BACKWARD":
                scope = (s, start)
            else:
                scope = (s, e)
            mods.append(Modifier(start, end, rule.category, rule.direction, *scope))
    # Scopes only interact within a sentence.
    by_sentence: dict[int, list[Modifier]] = {}
    for m in mods:
        by_sentence.setdefault(bisect_right(sent_starts, m.start) - 1, []).append(m)
    for group in by_sentence.values():
        if len(group) > 1:
            for a in group:
                for b in group:
                    a.limit_by(b)
    return mods


def categories_for(mods: list[Modifier], starts: list[int], start: int, end: int) -> set[str]:
    """Categories of the modifiers whose scope covers ``[start, end)``."""
    out = set()
    for m in mods:
        if m.modifies(start, end):
            out.add(m.category)
    return out


@lru_cache(maxsize=1)
def _chronic() -> frozenset[str]:
    return frozenset(load_json("notes/patterns.json")["chronic_conditions"]["ids"])


@lru_cache(maxsize=4096)
def is_chronic(concept_id: str) -> bool:
    """A long-term condition: hypertension, diabetes, CKD, depression ..."""
    # Exact concepts only: a myocardial infarction is_a coronary artery disease in the lexicon,
    # yet "hx MI 2015" is a past event.
    return concept_id in _chronic()


def resolve(rec: FactRecord, categories: set[str], section: Optional[str]) -> str:
    """The contract assertion of a record from its ConText categories (see the module docstring)."""
    if section == "family_history" and rec.type in _FAMILY_SECTION_TYPES:
        categories = categories | {"FAMILY"}
    if rec.type == "consent":
        return "present"
    if rec.extra.get("switched"):
        categories = categories | {"HISTORICAL"}
    if rec.polarity is not None:
        if rec.extra.get("negatable") and "NEGATED_EXISTENCE" in categories:
            rec.polarity, rec.value = "negative", "negative"  # "no del(17p)": a negative result
        categories = {c for c in categories if c not in ("NEGATED_EXISTENCE", "HISTORICAL")}
    elif rec.valued and rec.type in _VALUE_TYPES:
        categories = {c for c in categories if c in ("FAMILY", "HYPOTHETICAL", "HISTORICAL")}
    if rec.type in ("diagnosis", "psychiatric") and "HISTORICAL" in categories and is_chronic(rec.concept_id):
        categories = categories - {"HISTORICAL"}  # "history of hypertension": still has it
    if rec.type in ("diagnosis", "psychiatric", "disease_status", "therapy") and section == "resolved_problems":
        categories = categories | {"HISTORICAL"}  # "Resolved / Historical" problem list
    if rec.type in ("diagnosis", "psychiatric", "disease_status") and section == "hospital_course" \
            and not is_chronic(rec.concept_id):
        categories = categories | {"HISTORICAL"}  # events of the stay, resolved by discharge
    found = {CATEGORY_TO_ASSERTION[c] for c in categories if c in CATEGORY_TO_ASSERTION}
    for assertion in PRECEDENCE:
        if assertion in found:
            return assertion
    return "present"


def assert_records(view: NoteView, tokens=None) -> None:
    """Set ``assertion`` and ``modifiers`` on every record (in place), fast engine."""
    if not view.records:
        return
    tokens = tokens if tokens is not None else (view.tokens or tokenize(view.text))
    mods = find_modifiers(tokens, view.sentences)
    sent_starts = [s for s, _ in view.sentences]
    by_sentence: dict[int, list[Modifier]] = {}
    for m in mods:
        by_sentence.setdefault(bisect_right(sent_starts, m.start) - 1, []).append(m)
    for rec in view.records:
        a, b = rec.anchor
        k = bisect_right(sent_starts, a) - 1
        cats = categories_for(by_sentence.get(k, []), sent_starts, a, b)
        section = view.section(a)
        rec.section = section.category if section else None
        rec.sentence = view.sentences[k] if k >= 0 else None
        rec.modifiers = tuple(sorted(cats))
        rec.assertion = resolve(rec, cats, rec.section)


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
        rec.modifiers = tuple(sorted({m.category.upper() for m in span._.modifiers}))
    for rec in view.records:
        section = view.section(rec.anchor[0])
        rec.section = section.category if section else None
        k = bisect_right(sent_starts, rec.anchor[0]) - 1
        rec.sentence = view.sentences[k] if k >= 0 else None
        rec.assertion = resolve(rec, set(rec.modifiers), rec.section)


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
            from medspacy.context import ConText, ConTextRule

            self._context = ConText(nlp, name="trialmatch_medspacy_context", rules=None)
            self._context.add([ConTextRule(r.literal, r.category, direction=r.direction) for r in load_rules()])

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
