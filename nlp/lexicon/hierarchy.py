"""How a patient fact's concept satisfies a criterion's concept: the matcher's routes.

``relation(index, criterion_id, fact_id)`` returns, in this order of preference:

* ``"same"``: the same concept (after folding terminology ids into curated ids);
* ``"shared code"``: the two concepts share a code (``ICD-10-CM:C92.00``, ``DrugBank:DB00694``);
* ``"drug class"``: the criterion names a drug class and the fact is a member
  (daunorubicin for "anthracyclines"; MeSH tree or pharmacological action);
* ``"hierarchy"``: the fact is a narrower concept of the criterion (ICD-10-CM
  children, HPO is_a, curated parents). A criterion coded with an ICD
  "unspecified" code (I21.9 "Acute myocardial infarction, unspecified") stands
  for its whole category (I21), so NSTEMI (I21.4) matches it;
* ``"regimen member"``: the fact is a regimen (curated ``members``) one of whose
  drugs satisfies the criterion (7+3 for "anthracycline");
* ``None``: no route. Broader facts never satisfy narrower criteria
  ("leukemia" does not prove "AML").
"""

from __future__ import annotations

from typing import Optional

from nlp.lexicon.index import ConceptIndex

ROUTES = ("same", "shared code", "drug class", "hierarchy", "regimen member")


def _targets(index: ConceptIndex, entry) -> set[str]:
    """The criterion concept's id plus the ICD categories its "unspecified" codes stand for."""
    out = {entry.id} | {index.resolve(p) for p in entry.extra.get("stands_for", ())}
    for system, code in entry.codes:
        if system != "ICD-10-CM":
            continue
        coded = index.get("icd:" + code)
        if coded is not None and "unspecified" in coded.label.lower() and coded.parents:
            out.add(index.resolve(coded.parents[0]))
    return out


def relation(index: ConceptIndex, criterion_id: str, fact_id: str, _depth: int = 0) -> Optional[str]:
    """The route by which ``fact_id`` satisfies ``criterion_id``, or None (see module doc)."""
    crit, fact = index.get(criterion_id), index.get(fact_id)
    if crit is None or fact is None:
        return "same" if criterion_id == fact_id else None
    if crit.id == fact.id:
        return "same"
    if set(crit.codes) & set(fact.codes):
        return "shared code"
    targets = _targets(index, crit)
    ancestors = set(index.ancestors(fact.id))
    if targets & ancestors:
        return "drug class" if crit.domain == "drug" and fact.domain == "drug" else "hierarchy"
    if fact.members and _depth == 0:
        for member in fact.members:
            if relation(index, crit.id, member, _depth + 1) is not None:
                return "regimen member"
    return None
