"""Open terminologies installed from PyPI: ICD-10-CM, HPO and a drug vocabulary.

Each loader returns :class:`~nlp.lexicon.entries.ConceptEntry` objects with
codes, a domain, a criteria category, parents and guarded synonyms.
"""

from __future__ import annotations

from nlp.lexicon.terminology import drugs, hpo, icd10cm

SOURCES = (icd10cm, hpo, drugs)


def versions() -> dict[str, str]:
    """Version strings of every terminology package (the cache key uses them)."""
    return {src.__name__.rsplit(".", 1)[-1]: src.package_version() for src in SOURCES}


def load_all():
    """Entries of every terminology, ICD-10-CM first, then HPO, then drugs."""
    out = []
    for src in SOURCES:
        out.extend(src.load())
    return out
