"""Evaluate: one constraint against one patient's facts -> status, evidence, reason.

Assertions: present/historical facts count as having the concept, absent facts
as documented absence; family and hypothetical mentions never count; a
possible mention makes the status unknown. Values: the newest value wins, with
unit conversion through the one unit table and ULN multiples taken from the
note's reference range first, then from the default ULN table (and said so).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

from matcher.config import MatchConfig
from matcher.facts import PatientIndex, Related
from matcher.report.describe import describe_threshold
from nlp.grammar.dates import parse_date
from nlp.grammar.numbers import format_number
from nlp.grammar.units import unit_table
from nlp.schema import Constraint, Fact

HAS = ("present", "historical")
POSITIVE_WORDS = {"positive", "pos", "+", "detected", "expressed", "bright", "dim", "partial", "heterogeneous", "present", "yes"}
NEGATIVE_WORDS = {"negative", "neg", "-", "not detected", "not expressed", "absent", "no"}
COUNT_UNITS = {"courses", "cycles", "lines", "doses", "episodes", None}
BIOMARKER_POSITIVE_MIN = 20.0  # % of blasts; flow cytometry's usual positivity cut-off


@dataclass
class Outcome:
    status: str
    reason: str
    evidence: list[Fact] = field(default_factory=list)
    lookup: Optional[str] = None  # what to look up when unknown


def _cmp(value: float, comparator: str, t: float, t2: Optional[float] = None) -> bool:
    def close(a, b):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if comparator == ">":
        return value > t and not close(value, t)
    if comparator == ">=":
        return value > t or close(value, t)
    if comparator == "<":
        return value < t and not close(value, t)
    if comparator == "<=":
        return value < t or close(value, t)
    if comparator == "==":
        return close(value, t)
    if comparator == "between":
        return (value > t or close(value, t)) and (value < t2 or close(value, t2))
    return False


def _where(f: Fact) -> str:
    return f" on {f.date}" if f.date else f" (note {f.note_id})"


def _q(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


class Evaluator:
    """Evaluates constraints for one patient with one configuration."""

    def __init__(self, patient: PatientIndex, config: MatchConfig):
        self.p = patient
        self.config = config
        self.units = unit_table()

    # -- entry ----------------------------------------------------------------------
    def constraint(self, c: Constraint, kind: str) -> Outcome:
        entry = self.p.index.get(c.concept.id) if c.concept.id else None
        if entry is None:
            return self._free_text(c, kind)
        if entry.id == "sex":
            return self._sex(c)
        numeric = isinstance(c.value, (int, float)) and c.comparator is not None
        if numeric and (entry.measured or c.unit not in COUNT_UNITS or entry.category == "biomarker"):
            return self._value(c, entry, kind)
        if numeric:
            return self._count(c, entry, kind)
        return self._presence(c, entry, kind)

    # -- values ---------------------------------------------------------------------
    def _candidates(self, entry) -> list[Related]:
        related = [r for r in self.p.related(entry.id) if r.fact.assertion in HAS and isinstance(r.fact.value, (int, float))]
        if not related and entry.id == "ecog":
            related = self._kps_as_ecog()
        if entry.id == "spo2":
            room = [r for r in related if (r.fact.oxygen or "").lower() in ("room air", "ra")]
            unspecified = [r for r in related if not r.fact.oxygen]
            related = room or unspecified or related
        return related

    def _kps_as_ecog(self) -> list[Related]:
        try:
            from nlp.notes.performance import kps_to_ecog  # the one KPS->ECOG table
        except ImportError:  # notes side not installed
            return []
        out = []
        for r in self.p.related("kps"):
            if r.fact.assertion in HAS and isinstance(r.fact.value, (int, float)):
                ecog = kps_to_ecog(r.fact.value)
                if ecog is not None:
                    out.append(Related(r.fact.model_copy(update={"value": float(ecog), "unit": None,
                                                                   "concept": r.fact.concept.model_copy(update={"label": f"ECOG {ecog} (from KPS {format_number(r.fact.value)})"})}), "KPS mapped to ECOG"))
        return out

    def _value_in(self, fact: Fact, c: Constraint, entry) -> tuple[Optional[float], str]:
        """The fact's value in the constraint's unit, and a note on how it was obtained."""
        if c.unit == "x ULN":
            if fact.uln_multiple is not None:
                src = fact.uln_source or "the report"
                ref = f" (ULN {format_number(fact.reference_range[1])} from {src})" if fact.reference_range and fact.reference_range[1] else f" ({src})"
                return fact.uln_multiple, ref
            if fact.reference_range and fact.reference_range[1]:
                uln = fact.reference_range[1]
                return fact.value / uln, f" (ULN {format_number(uln)} from the report)"
            default = self.config.default_uln(entry.id)
            if default is None:
                return None, ""
            uln, uln_unit, source = default
            uln_here = self.units.convert(uln, uln_unit, fact.unit, entry.molar_mass) if fact.unit and uln_unit else uln
            if uln_here is None:
                return None, ""
            return fact.value / uln_here, f" (no range in the note; {source} ULN {format_number(uln_here)} {fact.unit or ''})".replace(" )", ")")
        if c.unit is None or fact.unit is None or c.unit == fact.unit:
            return float(fact.value), ""
        converted = self.units.convert(float(fact.value), fact.unit, c.unit, entry.molar_mass)
        if converted is None:
            return None, ""
        return converted, f" (= {format_number(round(converted, 3))} {c.unit})"

    def _threshold(self, c: Constraint) -> tuple[str, float, Optional[float], Optional[str]]:
        """The threshold, raised or lowered by an exception whose condition the patient has."""
        for x in c.exceptions:
            if x.comparator and isinstance(x.value, (int, float)):
                hit = self._has_condition(x.condition)
                if hit is not None:
                    return x.comparator, x.value, x.value2, f"{x.condition.label} documented ({_q(hit.text, 30)}{_where(hit)}), so the limit is {describe_threshold(x.comparator, x.value, x.value2, x.unit)}"
        return c.comparator, c.value, c.value2, None

    def _has_condition(self, concept) -> Optional[Fact]:
        cid = concept.id or (self.p.index.lookup(concept.label).id if self.p.index.lookup(concept.label) else None)
        for r in reversed(self.p.related(cid, concept.codes)):
            if r.fact.assertion in HAS:
                return r.fact
        return None

    def _value(self, c: Constraint, entry, kind: str) -> Outcome:
        candidates = self._candidates(entry)
        label = entry.label
        if not candidates:
            return Outcome("unknown", f"No {label} value found in {self.p.n_notes} notes.", lookup=entry.id)
        blocked = self._blocking_exception(c)
        if blocked is not None:
            return blocked
        usable = []
        for r in candidates:
            value, how = self._value_in(r.fact, c, entry)
            if value is not None:
                usable.append((r, value, how))
        if not usable:
            f = candidates[-1].fact
            return Outcome("unknown", f"{label} {format_number(f.value)} {f.unit or ''}{_where(f)} cannot be compared with {describe_threshold(c.comparator, c.value, c.value2, c.unit)} (no ULN or unit conversion).".replace("  ", " "), [f], lookup=entry.id)
        r, value, how = usable[-1]  # newest value wins
        f = r.fact
        comparator, t, t2, exception_note = self._threshold(c)
        ok = _cmp(value, comparator, t, t2)
        shown = f"{format_number(f.value)} {f.unit or ''}".strip()
        if c.unit == "x ULN":
            shown += f"{_where(f)} is {format_number(round(value, 2))} x ULN{how}"
        else:
            shown += f"{_where(f)}{how}"
        rule = describe_threshold(comparator, t, t2, c.unit)
        parts = [f"{_label_of(f, label)} {shown}, {'within' if ok else 'outside'} {rule}."]
        if exception_note:
            parts.append(exception_note[0].upper() + exception_note[1:] + ".")
        if r.route not in ("same concept",):
            parts.append(f"Matched through {r.route}.")
        history = [u for u in usable[:-1] if u[0].fact.date != f.date or u[0].fact.value != f.value][-3:]
        if history:
            parts.append("Earlier: " + ", ".join(f"{format_number(h[0].fact.value)} {h[0].fact.unit or ''}{_where(h[0].fact)}".replace("  ", " ") for h in history) + ".")
        if entry.id == "spo2" and f.oxygen and f.oxygen.lower() not in ("room air", "ra"):
            parts.append(f"Reading on {f.oxygen}; no room-air reading found.")
        return Outcome("met" if ok else "not_met", " ".join(parts), [f])

    def _blocking_exception(self, c: Constraint) -> Optional[Outcome]:
        """An exception without its own threshold ("except ... bone marrow regeneration")."""
        for x in c.exceptions:
            if x.comparator is None:
                hit = self._has_condition(x.condition)
                if hit is not None:
                    return Outcome("not_met", f"{x.condition.label} documented ({_q(hit.text, 30)}{_where(hit)}); the criterion excludes this cause.", [hit])
        return None

    # -- counts ---------------------------------------------------------------------
    def _count(self, c: Constraint, entry, kind: str) -> Outcome:
        related = [r for r in self.p.related(entry.id, []) if r.fact.assertion in HAS]
        if not related:
            return self._absent(c, entry, kind)
        stated = [r.fact.count for r in related if r.fact.count]
        distinct = {(r.fact.concept.id, r.fact.date or r.fact.note_id) for r in related}
        n = max(stated + [len(distinct)])
        ok = _cmp(float(n), c.comparator, c.value, c.value2)
        rule = describe_threshold(c.comparator, c.value, c.value2, c.unit)
        reason = f"{n} {c.unit or 'documented'} of {entry.label} found ({', '.join(_q(r.fact.text, 25) for r in related[:4])}), {'meeting' if ok else 'not meeting'} {rule}."
        return Outcome("met" if ok else "not_met", reason, [r.fact for r in related][:5])

    # -- presence -------------------------------------------------------------------
    def _polarity(self, fact: Fact, entry) -> Optional[str]:
        """'has', 'lacks', 'maybe' or None (family/hypothetical: ignored)."""
        if fact.assertion in ("family", "hypothetical"):
            return None
        if fact.assertion == "possible":
            return "maybe"
        if fact.assertion == "absent":
            return "lacks"
        if entry.category == "biomarker" or fact.type == "biomarker":
            value = fact.value
            if isinstance(value, str):
                v = value.strip().lower()
                if v in NEGATIVE_WORDS or v.startswith("neg"):
                    return "lacks"
                return "has"
            if isinstance(value, (int, float)) and (fact.unit in (None, "%")):
                return "has" if value >= BIOMARKER_POSITIVE_MIN else "lacks"
        return "has"

    def _window_ok(self, c: Constraint, fact: Fact) -> Optional[bool]:
        """Whether a dated fact lies in the constraint's time window (None: cannot tell)."""
        t = c.temporal
        if t is None or t.value is None or t.days is None or t.relation == "after":
            return True
        ref = parse_date(self.p.record.reference_date)
        when = parse_date(fact.date)
        if ref is None or when is None:
            return None
        age_days = (ref - when).days
        return _cmp(float(age_days), t.comparator or "<=", t.days, None if t.value2 is None else t.value2 * t.days / t.value)

    def _presence(self, c: Constraint, entry, kind: str) -> Outcome:
        has, lacks, maybe, undated = [], [], [], []
        for r in self.p.related(entry.id, c.concept.codes):
            pol = self._polarity(r.fact, entry)
            if pol == "has":
                inside = self._window_ok(c, r.fact)
                (has if inside else undated if inside is None else [] ).append(r)
            elif pol == "lacks":
                lacks.append(r)
            elif pol == "maybe":
                maybe.append(r)
        label = entry.label
        window = f" in the window ({c.temporal.text})" if c.temporal is not None and c.temporal.value is not None else ""
        if has:
            r = has[-1]
            route = "" if r.route == "same concept" else f" (matched through {r.route}: {r.fact.concept.label})"
            said = f"{label} documented{window}: \"{_q(r.fact.text)}\"{_where(r.fact)}{route}"
            status = "not_met" if c.negated else "met"
            return Outcome(status, said + ("; the criterion requires its absence." if c.negated else "."), [x.fact for x in has[-3:]])
        if lacks:
            r = lacks[-1]
            said = f"{label} documented as absent: \"{_q(r.fact.text)}\"{_where(r.fact)}"
            return Outcome("met" if c.negated else "not_met", said + ".", [x.fact for x in lacks[-3:]])
        if maybe or undated:
            r = (maybe or undated)[-1]
            why = "only possible" if maybe else "documented, but its date cannot be placed in the window"
            return Outcome(self.config.possible_counts_as if maybe else "unknown", f"{label} {why}: \"{_q(r.fact.text)}\"{_where(r.fact)}.", [r.fact], lookup=entry.id)
        return self._absent(c, entry, kind)

    def _absent(self, c: Constraint, entry, kind: str) -> Outcome:
        """Nothing relevant found: apply the documented absence policy."""
        n = self.p.n_notes
        if entry.measured:  # a lab or score is never assumed normal
            return Outcome("unknown", f"No {entry.label} found in {n} notes.", lookup=entry.id)
        policy = self.config.absence
        if c.negated:
            status = policy.negated_inclusion
        else:
            status = policy.exclusion if kind == "exclusion" else policy.inclusion
        if status == "unknown":
            return Outcome("unknown", f"{entry.label[0].upper() + entry.label[1:]} not documented in {n} notes.", lookup=entry.id)
        return Outcome(status, f"{entry.label[0].upper() + entry.label[1:]} not documented in {n} notes (absence policy).")

    # -- special cases --------------------------------------------------------------
    def _sex(self, c: Constraint) -> Outcome:
        if c.value == "any" or c.value is None:
            return Outcome("met", "Any sex is eligible.")
        facts = [r.fact for r in self.p.related("sex") if r.fact.assertion in HAS and isinstance(r.fact.value, str)]
        if not facts:
            return Outcome("unknown", f"Sex not documented in {self.p.n_notes} notes.", lookup="sex")
        f = facts[-1]
        ok = f.value.lower() == str(c.value).lower()
        return Outcome("met" if ok else "not_met", f"Sex {f.value} (\"{_q(f.text)}\"), criterion requires {c.value}.", [f])

    def _free_text(self, c: Constraint, kind: str) -> Outcome:
        """A requirement with no lexicon concept: look for its words in the notes, never guess."""
        hits = self._search_notes(c.concept.label)
        if hits:
            note_id, start, end, score = hits[0]
            text = self.p.record.notes[note_id].text[start:end]
            ev = Fact(concept=c.concept, note_id=note_id, span=(start, end), text=text, type="free_text")
            return Outcome(self.config.free_text_status, f"\"{_q(c.concept.label)}\" is not a known concept; a similar phrase appears in note {note_id} (\"{_q(text)}\", similarity {score:.0f}); please verify.", [ev], lookup=None)
        return Outcome("unknown", f"\"{_q(c.concept.label)}\" is not a known concept and was not found in {self.p.n_notes} notes; please review.", lookup=None)

    def _search_notes(self, phrase: str) -> list[tuple[str, int, int, float]]:
        from matcher.freetext import search_phrase

        return search_phrase(self.p.record.notes, phrase, self.config.free_text_min_score)


def _label_of(fact: Fact, label: str) -> str:
    return fact.concept.label if fact.concept.label.lower().startswith("ecog") and "kps" in fact.concept.label.lower() else label[0].upper() + label[1:]
