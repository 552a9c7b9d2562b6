"""Drugs (``drug-named-entity-recognition``): generic and brand names, DrugBank ids, and
drug classes built from the vocabulary's own MeSH tree numbers.

A *drug* is a canonical entry with a DrugBank, MedlinePlus or NHS reference.
A *class* is a canonical entry without a DrugBank id whose MeSH tree number
is an ancestor of at least two drugs' tree numbers (for example
"anthracyclines", D09.408.051.059, above daunorubicin and idarubicin). A drug's
parents are the nearest named class above each of its tree numbers. Classes
shallower than three tree levels ("Hydrocarbons") are too broad to name.
Classes the vocabulary cannot build (no tree numbers for their members) come
from the small curated table ``resources/lexicon/drug_classes.csv``.

The package's ``mesh_id`` field is not used as a code: for most drugs it holds
one of the drug's pharmacological-action descriptors, not the drug's own id.
"""

from __future__ import annotations

import bz2
import importlib.util
import pickle
from importlib.metadata import version
from pathlib import Path

from nlp.data import load_csv
from nlp.lexicon.entries import ConceptEntry
from nlp.lexicon.guard import clean_synonym

PREFIX = "drug:"
MIN_CLASS_DEPTH = 3


def package_version() -> str:
    """Version of the drug vocabulary package (part of the cache key)."""
    return "drug-named-entity-recognition " + version("drug-named-entity-recognition")


def _dictionary() -> dict:
    # Read the bundled pickle directly: importing the package's finder also
    # touches files in the home directory and sets up network look-ups.
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    path = Path(spec.origin).parent / "drug_ner_dictionary.pkl.bz2"
    with bz2.open(path, "rb") as fh:
        return pickle.load(fh)


def _entry_id(name: str, data: dict) -> str:
    return PREFIX + (data.get("drugbank_id") or name)


def _is_drug(data: dict) -> bool:
    return bool(data.get("drugbank_id") or data.get("medline_plus_id") or data.get("nhs_url"))


def load() -> list[ConceptEntry]:
    """Drug and drug-class entries, sorted by id (deterministic)."""
    d = _dictionary()
    canon = d["drug_canonical_to_data"]
    variants: dict[str, list[str]] = {}
    for variant, names in sorted(d["drug_variant_to_canonical"].items()):
        for name in names:
            variants.setdefault(name, []).append(variant)
    drug_trees = [t for name, x in canon.items() if _is_drug(x) for t in x.get("mesh_tree", [])]
    # A class tree number must sit above at least two drugs' tree numbers.
    below: dict[str, int] = {}
    for t in drug_trees:
        parts = t.split(".")
        for k in range(MIN_CLASS_DEPTH, len(parts)):
            prefix = ".".join(parts[:k])
            below[prefix] = below.get(prefix, 0) + 1
    tree_class: dict[str, str] = {}
    for name in sorted(canon):
        x = canon[name]
        if x.get("drugbank_id"):
            continue
        for t in x.get("mesh_tree", []):
            if below.get(t, 0) >= 2:
                tree_class.setdefault(t, name)
    class_names = set(tree_class.values())
    # Pharmacological-action classes (MeSH D27: "anticoagulants", "analgesics, opioid"); a drug's
    # ``mesh_id`` field names one of its actions, which is how members are found.
    action_by_mesh = {}
    for name in sorted(canon):
        x = canon[name]
        if not x.get("drugbank_id") and any(t.startswith("D27.") for t in x.get("mesh_tree", [])):
            class_names.add(name)
            if x.get("mesh_id"):
                action_by_mesh.setdefault(x["mesh_id"], name)

    def nearest_classes(trees: list[str], own: str) -> tuple[str, ...]:
        out = []
        for t in sorted(trees):
            parts = t.split(".")
            for k in range(len(parts) - 1, MIN_CLASS_DEPTH - 1, -1):
                cls = tree_class.get(".".join(parts[:k]))
                if cls and cls != own:
                    out.append(_entry_id(cls, canon[cls]))
                    break
        return tuple(dict.fromkeys(out))

    entries = []
    for name in sorted(canon):
        x = canon[name]
        is_class = name in class_names
        if not is_class and not _is_drug(x):
            continue
        trees = x.get("mesh_tree", [])
        codes = []
        if x.get("drugbank_id"):
            codes.append(("DrugBank", x["drugbank_id"]))
        if is_class or not codes:
            codes += [("MeSH-TN", t) for t in sorted(trees)]
        synonyms = []
        for v in [name] + variants.get(name, []):
            c = clean_synonym(v, "drug")
            if c and c.lower() not in {s.lower() for s in synonyms}:
                synonyms.append(c)
        parents = nearest_classes(trees, name)
        action = action_by_mesh.get(x.get("mesh_id")) if not is_class else None
        if action and action != name:
            parents += (_entry_id(action, canon[action]),)
        entries.append(ConceptEntry(
            id=_entry_id(name, x), label=x.get("name") or name, category="prior_therapy",
            type="drug_class" if is_class else "therapy", domain="drug", codes=tuple(codes),
            parents=parents, synonyms=tuple(synonyms), source="drugs",
        ))
    entries += _curated_classes(entries)
    entries.sort(key=lambda e: e.id)
    return _attach_curated_members(entries)


def _curated_classes(entries: list[ConceptEntry]) -> list[ConceptEntry]:
    """Classes the vocabulary cannot name or build (see drug_classes.csv). A row whose label is a
    vocabulary class only lends it members (the MeSH NSAID class lists no ibuprofen)."""
    classes = {e.label.lower(): e for e in entries if e.type == "drug_class"}
    out = []
    for row in load_csv("lexicon/drug_classes.csv"):
        members = tuple(m.strip().lower() for m in row["members"].split(";") if m.strip())
        known = classes.get(row["label"].lower())
        if known is not None:
            known.extra = {**known.extra, "members": known.extra.get("members", ()) + members}
            continue
        out.append(ConceptEntry(
            id=PREFIX + "class:" + row["id"], label=row["label"], category="prior_therapy", type="drug_class",
            domain="drug", synonyms=tuple(s for s in row["synonyms"].split("|") if s),
            parents=tuple(PREFIX + "class:" + p for p in row["parents"].split(";") if p),
            extra={"members": members},
            source="drug-classes",
        ))
    return out


def _attach_curated_members(entries: list[ConceptEntry]) -> list[ConceptEntry]:
    """Give each member drug of a curated class that class as a parent."""
    by_label: dict[str, ConceptEntry] = {}
    for e in entries:
        if e.source == "drugs":
            for s in (e.label, *e.synonyms):
                by_label.setdefault(s.lower(), e)
    for cls in entries:
        for member in cls.extra.get("members", ()):
            drug = by_label.get(member)
            if drug is not None and cls.id not in drug.parents:
                drug.parents = drug.parents + (cls.id,)
    return entries
