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
from matcher.facts import PatientIndex, Related, knowledge
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


def _interval_verdict(fact_cmp, v, v2, comparator, t, t2) -> Optional[bool]:
    """Does what the fact says (a value, a range, or a bound like "> 12 weeks") satisfy the
    threshold? True, False, or None when it cannot tell."""
    inf = float("inf")
    if v2 is not None:
        lo, hi = (v, v2) if v <= v2 else (v2, v)
        lo_open = hi_open = False
    elif fact_cmp in (">", ">="):
        lo, hi, lo_open, hi_open = v, inf, fact_cmp == ">", True
    elif fact_cmp in ("<", "<="):
        lo, hi, lo_open, hi_open = -inf, v, True, fact_cmp == "<"
    else:
        return _cmp(v, comparator, t, t2)
    if comparator == "between":
        c_lo, c_hi, c_lo_open, c_hi_open = t, t2, False, False
    elif comparator in (">", ">="):
        c_lo, c_hi, c_lo_open, c_hi_open = t, inf, comparator == ">", True
    elif comparator in ("<", "<="):
        c_lo, c_hi, c_lo_open, c_hi_open = -inf, t, True, comparator == "<"
    else:
        c_lo = c_hi = t
        c_lo_open = c_hi_open = False

    def above(a, a_open, b, b_open):  # lower bound a (open?) is at least lower bound b
        return a > b or (math.isclose(a, b, abs_tol=1e-9) and (a_open or not b_open))

    def below(a, a_open, b, b_open):  # upper bound a is at most upper bound b
        return a < b or (math.isclose(a, b, abs_tol=1e-9) and (a_open or not b_open))
    inside = above(lo, lo_open, c_lo, c_lo_open) and below(hi, hi_open, c_hi, c_hi_open)
    if inside:
        return True
    disjoint = hi < c_lo or lo > c_hi or (math.isclose(hi, c_lo, abs_tol=1e-9) and (hi_open or c_lo_open)) \
        or (math.isclose(lo, c_hi, abs_tol=1e-9) and (lo_open or c_hi_open))
    return False if disjoint else None


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

    def _value_in(self, fact: Fact, c: Constraint, entry, raw: Optional[float] = None) -> tuple[Optional[float], str]:
        """The fact's value (or ``raw``) in the constraint's unit, and a note on how it was obtained."""
        raw = float(fact.value) if raw is None else float(raw)
        if c.unit == "x ULN":
            if fact.uln_multiple is not None and raw == fact.value:
                src = fact.uln_source or "the report"
                ref = f" (ULN {format_number(fact.reference_range[1])} from {src})" if fact.reference_range and fact.reference_range[1] else f" ({src})"
                return fact.uln_multiple, ref
            if fact.reference_range and fact.reference_range[1]:
                uln = fact.reference_range[1]
                return raw / uln, f" (ULN {format_number(uln)} from the report)"
            default = self.config.default_uln(entry.id)
            if default is None:
                return None, ""
            uln, uln_unit, source = default
            uln_here = self.units.convert(uln, uln_unit, fact.unit, entry.molar_mass) if fact.unit and uln_unit else uln
            if uln_here is None:
                return None, ""
            return raw / uln_here, f" (no range in the note; {source} ULN {format_number(uln_here)} {fact.unit or ''})".replace(" )", ")")
        if c.unit is None or fact.unit is None or c.unit == fact.unit:
            return raw, ""
        converted = self.units.convert(raw, fact.unit, c.unit, entry.molar_mass)
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
            return self._absent(c, entry, kind)
        blocked = self._blocking_exception(c)
        if blocked is not None:
            return blocked
        usable, other_method = [], []
        for r in candidates:
            if not self._method_ok(c, r.fact):
                other_method.append(r)
                continue
            value, how = self._value_in(r.fact, c, entry)
            value2 = self._value_in(r.fact, c, entry, r.fact.value2)[0] if r.fact.value2 is not None else None
            if value is not None:
                usable.append((r, value, how, value2))
        if not usable and other_method:
            f = other_method[-1].fact
            return Outcome("unknown", f"{label} {format_number(f.value)} {f.unit or ''} was measured by {f.method}{_where(f)}, not by {c.method}.".replace("  ", " "), [f], lookup=entry.id)
        if not usable:
            f = candidates[-1].fact
            return Outcome("unknown", f"{label} {format_number(f.value)} {f.unit or ''}{_where(f)} cannot be compared with {describe_threshold(c.comparator, c.value, c.value2, c.unit)} (no ULN or unit conversion).".replace("  ", " "), [f], lookup=entry.id)
        r, value, how, value2 = usable[-1]  # newest value wins
        f = r.fact
        comparator, t, t2, exception_note = self._threshold(c)
        ok = _interval_verdict(f.comparator, value, value2, comparator, t, t2)
        if ok is None:
            return Outcome("unknown", f"{_label_of(f, label)} \"{_q(f.text)}\"{_where(f)} does not settle {describe_threshold(comparator, t, t2, c.unit)}.", [f], lookup=entry.id)
        missing_anchor = self._anchor_missing(c, entry)
        if ok and missing_anchor:
            return Outcome("unknown", f"{_label_of(f, label)} {format_number(f.value)} {f.unit or ''}{_where(f)} meets {describe_threshold(comparator, t, t2, c.unit)}, but no {missing_anchor} before it is documented.".replace("  ", " "), [f], lookup=entry.id)
        shown = (f"{f.comparator} " if f.comparator else "") + f"{format_number(f.value)}" + (f"-{format_number(f.value2)}" if f.value2 is not None else "") + f" {f.unit or ''}"
        shown = shown.strip()
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
    def _polarity(self, r: Related, entry) -> Optional[str]:
        """'has', 'lacks', 'maybe' or None (family/hypothetical: ignored)."""
        fact = r.fact
        if fact.assertion == "hypothetical" and entry.id in knowledge()["willingness"]:
            return "has"  # "will comply with the protocol" states the willingness asked for
        if fact.assertion in ("family", "hypothetical"):
            return None
        if fact.assertion == "possible":
            return "maybe"
        if r.polarity is not None:  # a test result standing for a finding
            return r.polarity if fact.assertion in HAS else None
        if fact.assertion == "absent":
            return "lacks"
        if entry.category in ("biomarker", "consent") or fact.type in ("biomarker", "consent"):
            value = fact.value
            if isinstance(value, str):
                return knowledge()["value_polarity"].get(value.strip().lower(), "has")
            if isinstance(value, (int, float)) and fact.unit in (None, "%"):
                if fact.comparator in ("<", "<="):
                    return "lacks"
                return "has" if value >= BIOMARKER_POSITIVE_MIN else "lacks"
        return "has"

    def _method_ok(self, c: Constraint, fact: Fact) -> bool:
        """A fact shown by another method than the criterion requires does not count."""
        if not c.method or not fact.method:
            return True
        want = self.p.index.lookup(c.method)
        got = self.p.index.lookup(fact.method)
        if want is not None and got is not None:
            return want.id == got.id
        return c.method.lower() == fact.method.lower()

    def _anchor_missing(self, c: Constraint, entry) -> Optional[str]:
        """'After CR': the anchor event must be documented, unless the concept implies it."""
        t = c.temporal
        if t is None or t.value is not None or t.relation != "after" or not t.anchor:
            return None
        anchor = self.p.index.lookup(t.anchor)
        if anchor is None or anchor.id in knowledge()["implies"].get(entry.id, []):
            return None
        if any(r.fact.assertion in HAS for r in self.p.related(anchor.id)):
            return None
        return anchor.label

    def _qualifier_unconfirmed(self, c: Constraint, fact: Fact) -> Optional[str]:
        """'No serious mental disorders': a bare mention does not say it is serious."""
        if not c.qualifiers:
            return None
        inherent = knowledge()["inherently_qualified"]
        if any(fact.concept.id in inherent.get(q, []) or any(self.p.index.is_a(fact.concept.id, x) for x in inherent.get(q, []))
               for q in c.qualifiers):
            return None
        note = self.p.record.notes.get(fact.note_id)
        if note is None:
            return None
        s, e = fact.sentence or (max(0, fact.span[0] - 80), fact.span[1] + 80)
        window = note.text[s:e].lower()
        if any(q in window for q in c.qualifiers):
            return None
        return c.qualifiers[0]

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
        has, lacks, maybe, undated, other_method = [], [], [], [], []
        for r in self.p.related(entry.id, c.concept.codes):
            if c.experiencer == "family":  # "family history of ...": only relatives' mentions count
                if r.fact.assertion == "family":
                    has.append(r)
                continue
            pol = self._polarity(r, entry)
            if pol is None:
                continue
            if not self._method_ok(c, r.fact):
                other_method.append(r)
                continue
            if pol == "has":
                inside = self._window_ok(c, r.fact)
                if inside:
                    has.append(r)
                elif inside is None:
                    undated.append(r)
            elif pol == "lacks":
                lacks.append(r)
            else:
                maybe.append(r)
        label = entry.label
        if entry.category in knowledge()["current_status_categories"] and has and lacks:
            # A current status or test result: the newest statement decides; opposite ones that day conflict.
            newest = max(r.fact.date or "" for r in has + lacks)
            has = [r for r in has if (r.fact.date or "") == newest]
            lacks = [r for r in lacks if (r.fact.date or "") == newest]
            if has and lacks:
                return Outcome("unknown", f"Conflicting {label} results{_where(has[-1].fact)}: \"{_q(has[-1].fact.text)}\" and \"{_q(lacks[-1].fact.text)}\".",
                               [has[-1].fact, lacks[-1].fact], lookup=entry.id)
        window = f" in the window ({c.temporal.text})" if c.temporal is not None and c.temporal.value is not None else ""
        if has:
            r = has[-1]
            route = "" if r.route == "same concept" else f" (matched through {r.route}: {r.fact.concept.label})"
            who = " in the family" if c.experiencer == "family" else ""
            said = f"{label} documented{who}{window}: \"{_q(r.fact.text)}\"{_where(r.fact)}{route}"
            qualifier = self._qualifier_unconfirmed(c, r.fact) if c.experiencer == "patient" else None
            if qualifier:
                if kind == "exclusion" and not c.negated and self.config.absence.exclusion != "unknown":
                    return Outcome(self.config.absence.exclusion, f"{said}, but not stated to be {qualifier} (an exclusion needs evidence).", [r.fact])
                return Outcome("unknown", f"{said}; whether it is {qualifier} is not stated.", [r.fact], lookup=entry.id)
            missing_anchor = self._anchor_missing(c, entry)
            if missing_anchor and not c.negated:
                return Outcome("unknown", f"{said}, but no {missing_anchor} before it is documented.", [r.fact], lookup=entry.id)
            status = "not_met" if c.negated else "met"
            return Outcome(status, said + ("; the criterion requires its absence." if c.negated else "."), [x.fact for x in has[-3:]])
        if lacks:
            r = lacks[-1]
            said = f"{label} documented as absent or negative: \"{_q(r.fact.text)}\"{_where(r.fact)}"
            return Outcome("met" if c.negated else "not_met", said + ".", [x.fact for x in lacks[-3:]])
        if maybe or undated:
            r = (maybe or undated)[-1]
            why = "only possible or pending" if maybe else "documented, but its date cannot be placed in the window"
            return Outcome(self.config.possible_counts_as if maybe else "unknown", f"{label} {why}: \"{_q(r.fact.text)}\"{_where(r.fact)}.", [r.fact], lookup=entry.id)
        if other_method:
            r = other_method[-1]
            return Outcome("unknown", f"{label} shown by {r.fact.method} (\"{_q(r.fact.text)}\"{_where(r.fact)}), not by {c.method}.", [r.fact], lookup=entry.id)
        ruled_out = self._contradiction(c, entry)
        if ruled_out is not None:
            return ruled_out
        return self._absent(c, entry, kind)

    def _newest_status(self) -> Optional[str]:
        """Date of the newest affirmed disease-status statement ('' when undated)."""
        dates = [f.date or "" for f in self.p.facts if f.type == "disease_status" and f.assertion in HAS]
        return max(dates) if dates else None

    def _contradiction(self, c: Constraint, entry) -> Optional[Outcome]:
        """Not documented, but a current fact rules it out (newly diagnosed -> not relapsed;
        a documented MDS -> not the AML a diagnosis requirement asks for)."""
        newest_status = self._newest_status()
        for other in knowledge()["contradicts"].get(entry.id, []):
            facts = [r.fact for r in self.p.related(other) if r.fact.assertion == "present"]
            if facts and newest_status is not None and (facts[-1].date or "") >= newest_status:
                f = facts[-1]
                status = "met" if c.negated else "not_met"
                return Outcome(status, f"{entry.label[0].upper() + entry.label[1:]} not documented, and the patient is {f.concept.label} (\"{_q(f.text)}\"{_where(f)}).", [f])
        if entry.category == "diagnosis" and not c.negated:
            families = [a for a in self.p.index.ancestors(entry.id) if a in knowledge()["diagnosis_families"]]
            for family in families:
                others = [r.fact for r in self.p.related(family) if r.fact.assertion in HAS and r.fact.concept.id != entry.id
                          and not self.p.index.is_a(entry.id, r.fact.concept.id)]
                if others:
                    f = others[-1]
                    return Outcome("not_met", f"No {entry.label} documented; the documented diagnosis is {f.concept.label} (\"{_q(f.text)}\"{_where(f)}).", [f])
        return None

    def _absent(self, c: Constraint, entry, kind: str) -> Outcome:
        """Nothing relevant found: apply the documented absence policy."""
        n = self.p.n_notes
        policy = self.config.absence
        if entry.measured:  # a lab or score is never assumed normal for an inclusion
            if kind == "exclusion" and policy.exclusion_measurement != "unknown":
                return Outcome(policy.exclusion_measurement, f"No {entry.label} found in {n} notes (absence policy for exclusions).")
            return Outcome("unknown", f"No {entry.label} found in {n} notes.", lookup=entry.id)
        if kind == "exclusion" and not c.negated and self._could_be_pregnant(entry):
            return Outcome("unknown", f"{entry.label[0].upper() + entry.label[1:]} not documented in {n} notes, and the patient may be of childbearing potential.", lookup=entry.id)
        if c.negated:
            status = policy.negated_exclusion if kind == "exclusion" else policy.negated_inclusion
        else:
            status = policy.exclusion if kind == "exclusion" else policy.inclusion
        if status == "unknown":
            return Outcome("unknown", f"{entry.label[0].upper() + entry.label[1:]} not documented in {n} notes.", lookup=entry.id)
        return Outcome(status, f"{entry.label[0].upper() + entry.label[1:]} not documented in {n} notes (absence policy).")

    def _could_be_pregnant(self, entry) -> bool:
        check = self.config.reproductive_check
        if entry.category not in check.get("categories", []):
            return False
        sexes = [r.fact.value for r in self.p.related("sex") if r.fact.assertion in HAS and isinstance(r.fact.value, str)]
        if sexes and sexes[-1].lower() == "male":
            return False
        ages = [r.fact.value for r in self.p.related("age") if isinstance(r.fact.value, (int, float))]
        return not ages or ages[-1] <= check.get("max_age", 55)

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
        if kind == "exclusion" and self.config.absence.exclusion_free_text != "unknown":
            return Outcome(self.config.absence.exclusion_free_text, f"\"{_q(c.concept.label)}\" is not a known concept and nothing like it appears in {self.p.n_notes} notes (absence policy for exclusions).")
        return Outcome("unknown", f"\"{_q(c.concept.label)}\" is not a known concept and was not found in {self.p.n_notes} notes; please review.", lookup=None)

    def _search_notes(self, phrase: str) -> list[tuple[str, int, int, float]]:
        from matcher.freetext import search_phrase

        return search_phrase(self.p.record.notes, phrase, self.config.free_text_min_score)


def _label_of(fact: Fact, label: str) -> str:
    return fact.concept.label if fact.concept.label.lower().startswith("ecog") and "kps" in fact.concept.label.lower() else label[0].upper() + label[1:]
