"""ICD-10-CM (``simple-icd-10-cm``): titles and inclusion terms, with the real code hierarchy.

One entry per category/subcategory (``icd:C92.00``) and per block
(``icd:C81-C96``); 7th-character extensions and the external-cause chapter
(V00-Y99) are left out. Parents follow the classification. Synonyms are the
title and inclusion terms, cleaned by :mod:`nlp.lexicon.guard`; a title's head
before a qualifying comma ("Acute myeloblastic leukemia, in remission") is
added too, and acronyms in parentheses ("(NSTEMI)") become case-sensitive
synonyms.
"""

from __future__ import annotations

from importlib.metadata import version

from nlp.lexicon.entries import ConceptEntry
from nlp.lexicon.guard import clean_synonym, split_parentheses, strip_qualifiers

SYSTEM = "ICD-10-CM"
PREFIX = "icd:"


def package_version() -> str:
    """Version of the package the codes come from (part of the cache key)."""
    return "simple-icd-10-cm " + version("simple-icd-10-cm")


def _domain_category(code: str) -> tuple[str, str]:
    letter = code[0]
    if letter == "Z":
        return "observation", "other"
    if letter == "C" or (letter == "D" and code[1:3].isdigit() and int(code[1:3]) <= 49):
        return "condition", "diagnosis"
    if letter == "O":
        return "condition", "reproductive"
    return "condition", "comorbidity"


def _variants(title: str) -> list[tuple[str, bool]]:
    """(synonym, is_acronym) candidates of one title or inclusion term."""
    base, acronyms = split_parentheses(title)
    base = strip_qualifiers(base)
    out = [(base, False)]
    head, _, rest = base.partition(",")
    # "Acute myeloblastic leukemia, in remission" -> "Acute myeloblastic leukemia"; not lists
    # ("Thoracic, thoracolumbar, and lumbosacral ...") and not one-word heads.
    if rest and len(head.split()) >= 2 and " and " not in rest and "," not in rest:
        out.append((head.strip(), False))
    # An acronym is only as good as the title it comes from ("[NSAID]" in "Poisoning by ...").
    if clean_synonym(base) is not None:
        out += [(a, True) for a in acronyms]
    return out


def load() -> list[ConceptEntry]:
    """ICD-10-CM entries in classification order (deterministic)."""
    import simple_icd_10_cm as cm

    entries = []
    for code in cm.get_all_codes(True):
        if cm.is_chapter(code) or cm.is_extended_subcategory(code) or code[0] in "VWXY":
            continue
        parent = cm.get_parent(code)
        parents = (PREFIX + parent,) if parent and not cm.is_chapter(parent) else ()
        title = cm.get_description(code)
        raw = [title] + list(cm.get_inclusion_term(code))
        domain, category = _domain_category(code)
        synonyms, seen = [], set()
        for text in raw:
            for variant, is_acronym in _variants(text):
                clean = clean_synonym(variant, domain, acronym=is_acronym)
                if clean and clean.lower() not in seen:
                    seen.add(clean.lower())
                    synonyms.append(clean)
        label = split_parentheses(title)[0] if cm.is_block(code) else title
        entries.append(ConceptEntry(
            id=PREFIX + code, label=label, category=category, type="diagnosis", domain=domain,
            codes=((SYSTEM, code),) if not cm.is_block(code) else (), parents=parents,
            synonyms=tuple(synonyms), source="icd10cm",
        ))
    return entries
