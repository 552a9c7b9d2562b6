"""Build the full concept index: curated lexicon first, then the open terminologies.

Folding: a terminology entry that shares a code with a curated entry (ICD-10-CM
C92.00 and curated ``aml``), or a drug whose name is a curated drug's label
(a drug named only among a curated class's synonyms gets that class as a parent),
is not added as a separate concept. Its synonyms, codes and parents go to the
curated entry, and its id becomes an alias of the curated id, so the
hierarchy links both ways (``aml`` is_a ``icd:C92`` "Myeloid leukemia";
``daunorubicin`` is_a MeSH "anthracyclines"). Curated synonyms always win
ties on the same words (lower priority number).
"""

from __future__ import annotations

from nlp.lexicon.entries import ConceptEntry, load_curated, load_stop_phrases
from nlp.lexicon.index import ConceptIndex, tokenize

# A one-word drug name that this many HPO phenotype names use is an organ or a measured
# analyte first ("thyroid", "glucose", "cholesterol"), not a drug mention.
CONDITION_WORD_LIMIT = 25

# Lower wins when two concepts share a synonym.
PRIORITY = {"curated": 0, "folded": 1, "icd10cm": 10, "hpo": 30, "drug-classes": 38, "drugs": 40}


def _name_key(text: str) -> tuple[str, ...]:
    return tuple(t.norm for t in tokenize(text))


def _priority(entry: ConceptEntry) -> int:
    base = PRIORITY.get(entry.source, 50)
    if entry.source == "icd10cm" and entry.codes:
        base += len(entry.codes[0][1])  # broader codes first: "Myeloid leukemia" -> C92, not C92.9
    return base


def _drop_condition_words(terminology: list[ConceptEntry]) -> None:
    """Remove drug synonyms made only of common words of phenotype names."""
    counts: dict[str, int] = {}
    for t in terminology:
        if t.source == "hpo":
            for synonym in t.synonyms:
                for w in set(_name_key(synonym)):
                    counts[w] = counts.get(w, 0) + 1
    for t in terminology:
        if t.source == "drugs":
            keep = tuple(s for s in t.synonyms if not _all_phenotype_words(_name_key(s), counts))
            if keep != t.synonyms:
                t.synonyms = keep


def _all_phenotype_words(key: tuple[str, ...], counts: dict[str, int]) -> bool:
    """True when every word of the name is a frequent phenotype word ("thyroid gland")."""
    words = [w for w in key if len(w) >= 4 and w.isalpha()]
    return bool(words) and all(counts.get(w, 0) >= CONDITION_WORD_LIMIT for w in words)


def _narrow_drug_classes(curated: list[ConceptEntry], terminology: list[ConceptEntry]) -> None:
    """A curated class that lists vocabulary drugs by name ("anticoagulant: warfarin, apixaban")
    keeps them as members, not synonyms: "warfarin" in text is the drug, which is_a anticoagulant
    (linked in build_full_index), so a criterion naming warfarin is not met by apixaban. An entry
    naming one vocabulary drug is that drug under another name (ATRA: tretinoin) and keeps it."""
    drugs = {_name_key(t.label) for t in terminology if t.source == "drugs" and t.type != "drug_class"}
    for entry in curated:
        if entry.domain != "drug":
            continue
        members = ({_name_key(s.lstrip("=")) for s in entry.synonyms} & drugs) - {_name_key(entry.label)}
        if len(members) >= 2:
            entry.synonyms = tuple(s for s in entry.synonyms if _name_key(s.lstrip("=")) not in members)


def build_curated_index() -> ConceptIndex:
    """A fresh index of the curated lexicon files only."""
    index = ConceptIndex()
    for entry in load_curated():
        index.add(entry)
    index.add_stop_phrases(load_stop_phrases())
    from nlp.lexicon.abbreviations import add_abbreviation_table
    add_abbreviation_table(index)
    return index


def build_full_index(terminology: list[ConceptEntry] | None = None) -> ConceptIndex:
    """Curated lexicon plus terminologies (``terminology`` defaults to every loader)."""
    if terminology is None:
        from nlp.lexicon.terminology import load_all
        terminology = load_all()
    _drop_condition_words(terminology)
    curated = load_curated()
    by_code: dict[tuple[str, str], str] = {}
    drug_labels: dict[tuple[str, ...], str] = {}
    drug_synonyms: dict[tuple[str, ...], str] = {}
    for entry in curated:
        for code in entry.codes:
            by_code.setdefault(code, entry.id)
        if entry.domain == "drug":
            drug_labels.setdefault(_name_key(entry.label), entry.id)
            for name in entry.synonyms:
                drug_synonyms.setdefault(_name_key(name.lstrip("=")), entry.id)
    _narrow_drug_classes(curated, terminology)
    index = ConceptIndex()
    for entry in curated:
        index.add(entry, priority=PRIORITY["curated"])
    term_by_code = {code: t for t in terminology for code in t.codes}
    aliases: dict[str, str] = {}
    for t in terminology:
        target = next((by_code[c] for c in t.codes if c in by_code), None)
        if target is None and t.domain == "drug":
            target = drug_labels.get(_name_key(t.label))
            broader = drug_synonyms.get(_name_key(t.label))
            if target is None and broader is not None:
                # A curated class that lists this drug among its synonyms (anticoagulant: warfarin)
                # is broader than the drug: a parent, not the same concept.
                t.parents = t.parents + (broader,)
        if target is not None:
            aliases[t.id] = target
    # Every curated entry with a terminology code also inherits that code's parents.
    for entry in curated:
        for code in entry.codes:
            t = term_by_code.get(code)
            if t is not None:
                entry.parents = tuple(dict.fromkeys(entry.parents + t.parents))
    for t in terminology:
        target = aliases.get(t.id)
        if target is None:
            continue
        cur = index.entries[target]
        cur.codes = tuple(dict.fromkeys(cur.codes + t.codes))
        cur.parents = tuple(dict.fromkeys(cur.parents + t.parents))
        cur.extra = {**cur.extra, "folded": cur.extra.get("folded", ()) + (t.id,)}
        if t.source == "icd10cm" and "unspecified" in t.label.lower() and t.parents:
            # An "unspecified" code stands for its whole category (I21.9 -> I21).
            cur.extra["stands_for"] = cur.extra.get("stands_for", ()) + (t.parents[0],)
        for synonym in t.synonyms:
            index.add_synonym(target, synonym, PRIORITY["folded"])
    for t in terminology:
        if t.id not in aliases:
            index.add(t, priority=_priority(t))
    index.aliases = aliases
    for entry in index.entries.values():
        if entry.parents:
            fixed = tuple(dict.fromkeys(aliases.get(p, p) for p in entry.parents if aliases.get(p, p) != entry.id))
            entry.parents = fixed
    index.add_stop_phrases(load_stop_phrases())
    from nlp.lexicon.abbreviations import add_abbreviation_table
    from nlp.lexicon.terminology.stems import attach_stem_classes
    add_abbreviation_table(index)
    attach_stem_classes(index)
    index._approx = None  # built lazily at first use, after every synonym is in
    return index
