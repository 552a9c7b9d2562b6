"""Evaluate: one constraint against one patient's facts -> status, evidence, reason.

Assertions: present/historical facts count as having the concept, absent facts
as documented absence; family and hypothetical mentions never count; a
possible mention makes the status unknown. Values: the newest value wins, with
unit conversion through the one unit table and ULN multiples taken from the
note's reference range first, then from the default ULN table (and said so).
"""

from __future__ import annotations

import re

from typing import Optional

from matcher.config import MatchConfig
from matcher.facts import PatientIndex, Related, ancestors_of, knowledge
from matcher.outcome import HAS, Outcome, compare, quote, where
from matcher.quantities import QuantityChecks
from nlp.grammar.dates import parse_date
from nlp.grammar.units import unit_table
from nlp.schema import Constraint, Fact


def _window(c: Constraint) -> str:
    """ "4 weeks" for a reason sentence."""
    t = c.temporal
    value = f"{t.value:g}" if t.value2 is None else f"{t.value:g}-{t.value2:g}"
    return f"{value} {t.unit or 'days'}"


COUNT_UNITS = {"courses", "cycles", "lines", "doses", "episodes", None}
BIOMARKER_POSITIVE_MIN = 20.0  # % of blasts; flow cytometry's usual positivity cut-off


class Evaluator(QuantityChecks):
    """Evaluates constraints for one patient with one configuration."""

    def __init__(self, patient: PatientIndex, config: MatchConfig):
        self.p = patient
        self.config = config
        self.units = unit_table()

    # -- entry ----------------------------------------------------------------------
    def constraint(self, c: Constraint, kind: str) -> Outcome:
        entry = self.p.entry(c.concept.id) if c.concept.id else None
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
    # -- presence -------------------------------------------------------------------
    def _polarity(self, r: Related, entry) -> Optional[str]:
        """'has', 'lacks', 'maybe' or None (family/hypothetical: ignored)."""
        fact = r.fact
        if fact.assertion == "hypothetical" and entry.id in knowledge()["willingness"]:
            return "has"  # "will comply with the protocol" states the willingness asked for
        if fact.assertion in ("family", "hypothetical"):
            return None
        if fact.assertion == "historical" and entry.id in knowledge()["current_only"]:
            return None  # "two prior pregnancies" is no current pregnancy
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
        want = self.p.lookup(c.method)
        got = self.p.lookup(fact.method)
        if want is not None and got is not None:
            return want.id == got.id
        return c.method.lower() == fact.method.lower()

    def _anchor_missing(self, c: Constraint, entry) -> Optional[str]:
        """'After CR': the anchor event must be documented, unless the concept implies it."""
        t = c.temporal
        if t is None or t.value is not None or t.relation != "after" or not t.anchor:
            return None
        anchor = self.p.lookup(t.anchor)
        if anchor is None or anchor.id in knowledge()["implies"].get(entry.id, []):
            return None
        if any(r.fact.assertion in HAS for r in self.p.related(anchor.id)):
            return None
        return anchor.label

    def _qualifier_unconfirmed(self, c: Constraint, fact: Fact) -> Optional[str]:
        """'No serious mental disorders': a bare mention does not say it is serious."""
        qualifiers = [q for q in c.qualifiers if q != "initial"]  # "initial" picks a value, see _value
        if not qualifiers:
            return None
        inherent = knowledge()["inherently_qualified"]
        if any(fact.concept.id in inherent.get(q, []) or any(self.p.index.is_a(fact.concept.id, x) for x in inherent.get(q, []))
               for q in qualifiers):
            return None
        note = self.p.record.notes.get(fact.note_id)
        if note is None:
            return None
        s, e = fact.sentence or (max(0, fact.span[0] - 80), fact.span[1] + 80)
        window = note.text[s:e].lower()
        if any(q in window for q in qualifiers):
            return None
        return qualifiers[0]

    def _classification_confirms(self, r) -> tuple[str, ...]:
        """Qualifiers a condition established by classification criteria has by that fact ("active")."""
        target = self.p.classified_by_route.get(r.route)
        return tuple(knowledge()["classification_criteria"][target].get("confirms_qualifiers", ())) if target else ()

    def _qualifier_denied(self, c: Constraint, fact: Fact) -> bool:
        """'GAD, stable on sertraline, never hospitalized' is not a *serious* mental disorder."""
        note = self.p.record.notes.get(fact.note_id)
        if not [q for q in c.qualifiers if q != "initial"] or note is None:
            return False
        s, e = fact.sentence or (max(0, fact.span[0] - 80), fact.span[1] + 80)
        window = note.text[s:e].lower()
        return any(re.search(r"(?<![a-z])" + re.escape(w) + r"(?![a-z])", window) for w in knowledge()["mitigating"])

    def _since_own_event(self, c: Constraint, entry) -> bool:
        """'At least 4 weeks since prior chemotherapy': a window measured from the constraint's own
        event (its anchor names the same concept), i.e. the time elapsed since that event."""
        t = c.temporal
        if t is None or t.value is None or t.days is None or t.relation != "after":
            return False
        if t.span and c.concept_span and t.span[0] < c.concept_span[0] and c.concept_span[1] <= t.span[1]:
            return True  # the parser found the concept inside the window's own anchor
        if not t.anchor:
            return False
        anchor = self.p.lookup(t.anchor) or self.p.lookup(re.sub(r"^(?:the|any|prior|last|previous|first)\s+", "", t.anchor))
        return anchor is not None and (anchor.id == entry.id or self.p.index.is_a(entry.id, anchor.id)
                                       or self.p.index.is_a(anchor.id, entry.id))

    def _window_ok(self, c: Constraint, fact: Fact, since_own: bool = False) -> Optional[bool]:
        """Whether a dated fact lies in the constraint's time window (None: cannot tell)."""
        t = c.temporal
        if t is None or t.value is None or t.days is None or (t.relation == "after" and not since_own):
            return True
        ref = parse_date(self.p.record.reference_date)
        when = parse_date(fact.date)
        if ref is None or when is None:
            return None
        age_days = (ref - when).days
        return compare(float(age_days), t.comparator or "<=", t.days, None if t.value2 is None else t.value2 * t.days / t.value)

    def _presence(self, c: Constraint, entry, kind: str) -> Outcome:
        has, lacks, maybe, undated, other_method, outside = [], [], [], [], [], []
        since_own = self._since_own_event(c, entry)
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
                inside = self._window_ok(c, r.fact, since_own)
                if inside:
                    has.append(r)
                elif inside is None:
                    undated.append(r)
                else:
                    outside.append(r)
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
                return Outcome("unknown", f"Conflicting {label} results{where(has[-1].fact)}: \"{quote(has[-1].fact.text)}\" and \"{quote(lacks[-1].fact.text)}\".",
                               [has[-1].fact, lacks[-1].fact], lookup=entry.id)
        window = f" in the window ({c.temporal.text})" if c.temporal is not None and c.temporal.value is not None else ""
        if has:
            r = has[-1]
            route = "" if r.route == "same concept" else f" (matched through {r.route}: {r.fact.concept.label})"
            who = " in the family" if c.experiencer == "family" else ""
            said = f"{label} documented{who}{window}: \"{quote(r.fact.text)}\"{where(r.fact)}{route}"
            # a washout is met by an old enough event, whatever its severity
            qualifier = self._qualifier_unconfirmed(c, r.fact) if c.experiencer == "patient" and not since_own else None
            if qualifier and qualifier in self._classification_confirms(r):
                qualifier = None  # SLE established from its current manifestations is active SLE
            if qualifier and all(self._qualifier_denied(c, x.fact) for x in has):
                # every mention is stated to be mild/stable: the qualified concept is absent
                return Outcome("met" if c.negated else "not_met",
                               f"{said}, stated to be mild or stable, not {qualifier}.", [x.fact for x in has[-3:]])
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
            said = f"{label} documented as absent or negative: \"{quote(r.fact.text)}\"{where(r.fact)}"
            return Outcome("met" if c.negated else "not_met", said + ".", [x.fact for x in lacks[-3:]])
        if maybe or undated:
            r = (maybe or undated)[-1]
            why = "only possible or pending" if maybe else "documented, but its date cannot be placed in the window"
            return Outcome(self.config.possible_counts_as if maybe else "unknown", f"{label} {why}: \"{quote(r.fact.text)}\"{where(r.fact)}.", [r.fact], lookup=entry.id)
        if other_method:
            r = other_method[-1]
            return Outcome("unknown", f"{label} shown by {r.fact.method} (\"{quote(r.fact.text)}\"{where(r.fact)}), not by {c.method}.", [r.fact], lookup=entry.id)
        if outside:
            return self._outside_window(c, entry, kind, outside[-1].fact, since_own)
        if since_own and kind == "inclusion" and not c.negated and c.temporal.comparator in (">", ">="):
            return Outcome("met", f"No {entry.label} documented in {self.p.n_notes} notes, so none within the last {_window(c)}.")
        ruled_out = self._contradiction(c, entry)
        if ruled_out is not None:
            return ruled_out
        return self._absent(c, entry, kind)

    def _outside_window(self, c: Constraint, entry, kind: str, fact: Fact, since_own: bool) -> Outcome:
        """Documented, but not in the window: the event is too recent or too old."""
        said = f"{entry.label[0].upper() + entry.label[1:]} documented{where(fact)} (\"{quote(fact.text)}\"), outside the window ({c.temporal.text or _window(c)})"
        if c.negated:
            return Outcome("met", said + ".", [fact])
        if since_own and (q := self._qualifier_unconfirmed(c, fact)):  # "4 weeks since major surgery": major?
            return Outcome("unknown", f"{said}; whether it was {q} is not stated.", [fact], lookup=entry.id)
        if since_own or kind == "exclusion":
            return Outcome("not_met", said + ".", [fact])
        status = self.config.absence.inclusion
        return Outcome(status, said + ("; please check for a later one." if status == "unknown" else "."), [fact],
                       lookup=entry.id if status == "unknown" else None)

    def _contradiction(self, c: Constraint, entry) -> Optional[Outcome]:
        """Not documented, but a current fact rules it out (newly diagnosed -> not relapsed;
        a documented MDS -> not the AML a diagnosis requirement asks for)."""
        newest_status = self.p.newest_status_date
        for other in knowledge()["contradicts"].get(entry.id, []):
            facts = [r.fact for r in self.p.related(other) if r.fact.assertion == "present"]
            if facts and newest_status is not None and (facts[-1].date or "") >= newest_status:
                f = facts[-1]
                status = "met" if c.negated else "not_met"
                return Outcome(status, f"{entry.label[0].upper() + entry.label[1:]} not documented, and the patient is {f.concept.label} (\"{quote(f.text)}\"{where(f)}).", [f])
        if entry.category == "diagnosis" and not c.negated:
            families = [a for a in ancestors_of(self.p.index, entry.id) if a in knowledge()["diagnosis_families"]]
            for family in families:
                others = [r.fact for r in self.p.related(family) if r.fact.assertion in HAS and r.fact.concept.id != entry.id
                          and not self.p.index.is_a(entry.id, r.fact.concept.id)]
                if others:
                    f = others[-1]
                    return Outcome("not_met", f"No {entry.label} documented; the documented diagnosis is {f.concept.label} (\"{quote(f.text)}\"{where(f)}).", [f])
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
        if any(r.fact.assertion in ("present", "absent") for r in self.p.related("pregnancy") + self.p.related("pregnancy_test")):
            return False  # pregnancy status (or a pregnancy test) is documented: nothing left to ask
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
        return Outcome("met" if ok else "not_met", f"Sex {f.value} (\"{quote(f.text)}\"), criterion requires {c.value}.", [f])

    def _free_text(self, c: Constraint, kind: str) -> Outcome:
        """A requirement with no lexicon concept: look for its words in the notes, never guess."""
        hits = self._search_notes(c.concept.label)
        if hits:
            note_id, start, end, score = hits[0]
            text = self.p.record.notes[note_id].text[start:end]
            ev = Fact.model_construct(concept=c.concept, note_id=note_id, span=(start, end), text=text, type="free_text")
            return Outcome(self.config.free_text_status, f"\"{quote(c.concept.label)}\" is not a known concept; a similar phrase appears in note {note_id} (\"{quote(text)}\", similarity {score:.0f}); please verify.", [ev], lookup=None)
        if kind == "exclusion" and self.config.absence.exclusion_free_text != "unknown":
            return Outcome(self.config.absence.exclusion_free_text, f"\"{quote(c.concept.label)}\" is not a known concept and nothing like it appears in {self.p.n_notes} notes (absence policy for exclusions).")
        if kind == "inclusion" and c.negated and self.config.absence.negated_inclusion != "unknown":
            # "No history of X" asks the same as an exclusion of X, and gets the same absence policy
            return Outcome(self.config.absence.negated_inclusion, f"\"{quote(c.concept.label)}\" is not a known concept and nothing like it appears in {self.p.n_notes} notes (absence policy for negated requirements).")
        return Outcome("unknown", f"\"{quote(c.concept.label)}\" is not a known concept and was not found in {self.p.n_notes} notes; please review.", lookup=None)

    def _search_notes(self, phrase: str) -> list[tuple[str, int, int, float]]:
        from matcher.freetext import search_phrase

        return search_phrase(self.p.record.notes, phrase, self.config.free_text_min_score, self.p.sentences)
