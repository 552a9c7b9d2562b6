"""Many notes of one patient -> one ``PatientFacts``: every fact, plus the current value of each concept.

``current[concept_id]`` is the newest usable fact of that concept, with the older
ones as ``history`` (newest first). Rules:

* newer wins by ``date`` (ISO text at any precision; undated facts are oldest),
  then by note order, then by position in the note (a later "-> 2.4" beats "2.6");
* family and hypothetical facts never become current (they are not the
  patient's state); negated and possible ones can ("MRD negative" is current);
* SpO2 prefers room-air readings: the newest room-air reading wins over a
  newer reading on oxygen; history keeps both;
* ECOG also considers KPS facts mapped through the KPS -> ECOG table
  (``resources/notes/kps_ecog.csv``); the mapped fact keeps the KPS evidence
  span and says ``method="KPS <n> mapped to ECOG"``.
"""

from __future__ import annotations

from typing import Iterable, Optional

from nlp.notes.performance import kps_to_ecog
from nlp.schema import CurrentValue, Fact, PatientFacts

_NOT_CURRENT = ("family", "hypothetical")


def _order(note_rank: dict[str, int]):
    def key(item: tuple[int, Fact]):
        i, f = item
        return (f.date or "", note_rank.get(f.note_id, 0), f.span[0], i)
    return key


def _ecog_from_kps(fact: Fact) -> Optional[Fact]:
    if not isinstance(fact.value, (int, float)):
        return None
    ecog = kps_to_ecog(fact.value)
    if ecog is None:
        return None
    from nlp.lexicon import get_index
    from nlp.notes.facts import concept_of

    entry = get_index().get("ecog")
    if entry is None:
        return None
    value = fact.value
    shown = int(value) if float(value).is_integer() else value
    return fact.model_copy(update={"concept": concept_of(entry), "value": float(ecog), "unit": None,
                                   "method": f"KPS {shown} mapped to ECOG", "type": "performance_status"})


def current_values(facts: Iterable[Fact], note_order: Optional[list[str]] = None) -> dict[str, CurrentValue]:
    """The newest usable fact of each concept, with older ones as history."""
    facts = list(facts)
    rank = {nid: i for i, nid in enumerate(note_order or dict.fromkeys(f.note_id for f in facts))}
    by_concept: dict[str, list[tuple[int, Fact]]] = {}
    for i, f in enumerate(facts):
        if f.assertion in _NOT_CURRENT or not f.concept.id:
            continue
        by_concept.setdefault(f.concept.id, []).append((i, f))
        if f.concept.id == "kps":
            derived = _ecog_from_kps(f)
            if derived is not None:
                by_concept.setdefault("ecog", []).append((i, derived))
    out: dict[str, CurrentValue] = {}
    for cid in sorted(by_concept):
        items = sorted(by_concept[cid], key=_order(rank))
        ordered = [f for _, f in items]
        newest = ordered[-1]
        if cid == "spo2":
            room = [f for f in ordered if (f.oxygen or "").lower() in ("room air", "ra")]
            if room:
                newest = room[-1]
        history = [f for f in reversed(ordered) if f is not newest]
        out[cid] = CurrentValue(concept_id=cid, fact=newest, history=history)
    return out


def aggregate(patient_id: str, facts: Iterable[Fact], n_notes: int = 0, note_order: Optional[list[str]] = None) -> PatientFacts:
    """One patient's ``PatientFacts`` from the facts of all their notes."""
    facts = list(facts)
    n = n_notes or len({f.note_id for f in facts})
    return PatientFacts(patient_id=str(patient_id), facts=facts, current=current_values(facts, note_order), n_notes=n)
