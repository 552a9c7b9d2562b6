"""Drug classes from name stems (``resources/lexicon/drug_stems.csv``).

The drug vocabulary gives each drug at most one pharmacological action, so
"atorvastatin" is not linked to "statins" by the source. International
nonproprietary names are built from stems that name the class ("-statin",
"-pril", "-tinib"); a drug whose one-word name ends with a stem gets that class
as a parent. The class itself is the vocabulary's own concept, found by name.
"""

from __future__ import annotations

from nlp.data import load_csv
from nlp.lexicon.index import ConceptIndex

MIN_PREFIX = 3  # "atorva" + "statin", not "cy" + "statin"


def attach_stem_classes(index: ConceptIndex) -> int:
    """Add stem classes as parents of matching drugs; returns the number of links made."""
    stems = []
    for row in load_csv("lexicon/drug_stems.csv"):
        cls = index.lookup(row["class_name"])
        if cls is not None and cls.domain == "drug":
            stems.append((row["stem"], cls.id))
    stems.sort(key=lambda s: -len(s[0]))
    links = 0
    for entry_id in sorted(index.entries):
        entry = index.entries[entry_id]
        if entry.domain != "drug" or entry.type == "drug_class":
            continue
        name = entry.label.lower()
        if not name.isalpha():
            continue
        for stem, cls_id in stems:
            if name.endswith(stem) and len(name) - len(stem) >= MIN_PREFIX:
                if cls_id != entry.id and cls_id not in entry.parents and entry.id not in index.ancestors(cls_id):
                    entry.parents = entry.parents + (cls_id,)
                    links += 1
                break
    return links
