"""Quantities: value and count constraints (labs, vitals, scores, durations, counts).

The newest value wins; units convert through the one unit table; ULN multiples come
from the note's reference range, an explicit "x ULN" statement, or the default ULN
table (and the reason says which); exceptions with their own threshold apply when the
patient has the condition.
"""

from __future__ import annotations

from typing import Optional

from matcher.facts import Related, knowledge
from matcher.outcome import HAS, Outcome, compare, interval_verdict, label_of, quote, where
from matcher.report.describe import describe_threshold
from nlp.grammar.numbers import format_number
from nlp.schema import Constraint, Fact


_COMPLEMENT = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}


class QuantityChecks:
    """Mixed into the Evaluator: needs ``self.p`` (PatientIndex), ``self.config``, ``self.units``."""

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
                    return x.comparator, x.value, x.value2, f"{x.condition.label} documented ({quote(hit.text, 30)}{where(hit)}), so the limit is {describe_threshold(x.comparator, x.value, x.value2, x.unit)}"
        return c.comparator, c.value, c.value2, None

    def _has_condition(self, concept) -> Optional[Fact]:
        cid = concept.id or (self.p.lookup(concept.label).id if self.p.lookup(concept.label) else None)
        for r in reversed(self.p.related(cid, concept.codes)):
            if r.fact.assertion in HAS:
                return r.fact
        return None

    def _value(self, c: Constraint, entry, kind: str) -> Outcome:
        candidates = self._candidates(entry)
        label = entry.label
        if not candidates:
            return self._implied_value(c, entry) or self._presumed_survival(c, entry, kind) or self._absent(c, entry, kind)
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
            return Outcome("unknown", f"{label} {format_number(f.value)} {f.unit or ''} was measured by {f.method}{where(f)}, not by {c.method}.".replace("  ", " "), [f], lookup=entry.id)
        if not usable:
            f = candidates[-1].fact
            return Outcome("unknown", f"{label} {format_number(f.value)} {f.unit or ''}{where(f)} cannot be compared with {describe_threshold(c.comparator, c.value, c.value2, c.unit)} (no ULN or unit conversion).".replace("  ", " "), [f], lookup=entry.id)
        first = "initial" in c.qualifiers  # "Initial haemoglobin": the first recorded value
        r, value, how, value2 = usable[0] if first else usable[-1]  # otherwise the newest value wins
        f = r.fact
        comparator, t, t2, exception_note = self._threshold(c)
        ok = interval_verdict(f.comparator, value, value2, comparator, t, t2)
        if ok is None:
            return Outcome("unknown", f"{label_of(f, label)} \"{quote(f.text)}\"{where(f)} does not settle {describe_threshold(comparator, t, t2, c.unit)}.", [f], lookup=entry.id)
        missing_anchor = self._anchor_missing(c, entry)
        if ok and missing_anchor:
            return Outcome("unknown", f"{label_of(f, label)} {format_number(f.value)} {f.unit or ''}{where(f)} meets {describe_threshold(comparator, t, t2, c.unit)}, but no {missing_anchor} before it is documented.".replace("  ", " "), [f], lookup=entry.id)
        shown = (f"{f.comparator} " if f.comparator else "") + f"{format_number(f.value)}" + (f"-{format_number(f.value2)}" if f.value2 is not None else "") + f" {f.unit or ''}"
        shown = shown.strip()
        if c.unit == "x ULN":
            shown += f"{where(f)} is {format_number(round(value, 2))} x ULN{how}"
        else:
            shown += f"{where(f)}{how}"
        rule = describe_threshold(comparator, t, t2, c.unit)
        parts = [f"{label_of(f, label)} {shown}, {'within' if ok else 'outside'} {rule}."]
        if exception_note:
            parts.append(exception_note[0].upper() + exception_note[1:] + ".")
        if r.route not in ("same concept",):
            parts.append(f"Matched through {r.route}.")
        others = usable[1:] if first else usable[:-1]
        history = [u for u in others if u[0].fact.date != f.date or u[0].fact.value != f.value][-3:]
        if history:
            parts.append(("First recorded value; later: " if first else "Earlier: ") + ", ".join(f"{format_number(h[0].fact.value)} {h[0].fact.unit or ''}{where(h[0].fact)}".replace("  ", " ") for h in history) + ".")
        if entry.id == "spo2" and f.oxygen and f.oxygen.lower() not in ("room air", "ra"):
            parts.append(f"Reading on {f.oxygen}; no room-air reading found.")
        return Outcome("met" if ok else "not_met", " ".join(parts), [f])

    def _implied_value(self, c: Constraint, entry) -> Optional[Outcome]:
        """No value recorded, but a sign stated in words bounds it ("tachycardic": heart rate > 100/min)."""
        for sign, spec in knowledge()["implied_values"].items():
            if sign.startswith("_") or spec["measure"] != entry.id:
                continue
            facts = [r.fact for r in self.p.related(sign) if r.fact.assertion in ("present", "absent")]
            if not facts:
                continue
            f = facts[-1]
            # "afebrile" (fever absent) bounds the other way: temperature < 38 C
            sign_comparator = spec["comparator"] if f.assertion == "present" else _COMPLEMENT[spec["comparator"]]
            bound = float(spec["value"])
            if c.unit and c.unit != spec["unit"]:
                bound = self.units.convert(bound, spec["unit"], c.unit, entry.molar_mass)
                if bound is None:
                    return None
            comparator, t, t2, _ = self._threshold(c)
            ok = interval_verdict(sign_comparator, bound, None, comparator, t, t2)
            implied = f"{entry.label} {sign_comparator} {format_number(bound)} {c.unit or spec['unit']}"
            said = f"No {entry.label} value recorded, but the note says \"{quote(f.text)}\"{where(f)}, i.e. {implied}"
            rule = describe_threshold(comparator, t, t2, c.unit)
            if ok is None:
                return Outcome("unknown", f"{said}, which does not settle {rule}.", [f], lookup=entry.id)
            return Outcome("met" if ok else "not_met", f"{said}, {'within' if ok else 'outside'} {rule}.", [f])
        return None

    def _presumed_survival(self, c: Constraint, entry, kind: str) -> Optional[Outcome]:
        """"Life expectancy > 48 hours": nobody writes it down for a stable patient. A short horizon
        (up to ``presumed_survival_days``) is presumed met unless the notes document a critical state."""
        if entry.id != "life_expectancy" or kind != "inclusion" or c.negated or c.comparator not in (">", ">="):
            return None
        days = self.units.convert(c.value, c.unit, "days", None) if c.unit else None
        if days is None or days > self.config.presumed_survival_days:
            return None
        rule = describe_threshold(c.comparator, c.value, None, c.unit)
        for concept in knowledge()["critical_states"]:
            hit = next((r.fact for r in reversed(self.p.related(concept)) if r.fact.assertion in HAS), None)
            if hit is not None:
                return Outcome("unknown", f"No life expectancy stated, and the patient is in a critical state (\"{quote(hit.text)}\"{where(hit)}); {rule} must be judged.", [hit], lookup=entry.id)
        pressures = [r.fact for r in self.p.related("systolic_bp") if isinstance(r.fact.value, (int, float))]
        if pressures and pressures[-1].value < 90:
            f = pressures[-1]
            return Outcome("unknown", f"No life expectancy stated, and the systolic blood pressure is {format_number(f.value)}{where(f)}; {rule} must be judged.", [f], lookup=entry.id)
        return Outcome("met", f"No life expectancy stated and no critical state documented (shock, hypotension, a terminal state); "
                              f"a life expectancy {rule} is presumed for horizons up to {format_number(self.config.presumed_survival_days)} days.")

    def _blocking_exception(self, c: Constraint) -> Optional[Outcome]:
        """An exception without its own threshold ("except ... bone marrow regeneration")."""
        for x in c.exceptions:
            if x.comparator is None:
                hit = self._has_condition(x.condition)
                if hit is not None:
                    return Outcome("not_met", f"{x.condition.label} documented ({quote(hit.text, 30)}{where(hit)}); the criterion excludes this cause.", [hit])
        return None

    # -- counts ---------------------------------------------------------------------
    def _count(self, c: Constraint, entry, kind: str) -> Outcome:
        wanted = ("family",) if c.experiencer == "family" else HAS  # "a parent diagnosed with ...": relatives only
        related = [r for r in self.p.related(entry.id, []) if r.fact.assertion in wanted]
        if not related:
            return self._absent(c, entry, kind)
        rule = describe_threshold(c.comparator, c.value, c.value2, c.unit)
        classified = self.p.classified.get(entry.id)
        if classified and all(r.route.startswith("classification") for r in related):
            # "At least 4 criteria for SLE": the count is of classification items, not of mentions
            name, items = classified
            ok = compare(float(len(items)), c.comparator, c.value, c.value2)
            reason = (f"{len(items)} of the {name} documented ({', '.join(items)}), "
                      f"{'meeting' if ok else 'not meeting'} {rule}.")
            return Outcome("met" if ok else "not_met", reason, [r.fact for r in related][:5])
        stated = [r.fact.count for r in related if r.fact.count]
        distinct = {(r.fact.concept.id, r.fact.date or r.fact.note_id) for r in related}
        n = max(stated + [len(distinct)])
        ok = compare(float(n), c.comparator, c.value, c.value2)
        reason = f"{n} {c.unit or 'documented'} of {entry.label} found ({', '.join(quote(r.fact.text, 25) for r in related[:4])}), {'meeting' if ok else 'not meeting'} {rule}."
        return Outcome("met" if ok else "not_met", reason, [r.fact for r in related][:5])

