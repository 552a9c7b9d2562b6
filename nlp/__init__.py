"""trialmatch's language side: protocol criteria parsing (:mod:`nlp.criteria`), note fact
extraction (:mod:`nlp.pipeline`, :mod:`nlp.notes`) and the shared lexicon (:mod:`nlp.lexicon`).

    import nlp
    pipeline = nlp.load_pipeline(extra_terms="TERMS.csv")   # built-in lexicon + the user's terms
    facts = nlp.extract_note(text, "note-1", "2026-03-12", nlp=pipeline)

The names below are imported on first use, so ``import nlp.lexicon`` does not load spaCy.
"""

from __future__ import annotations

_LAZY = {
    "load_pipeline": "nlp.pipeline",
    "extract_note": "nlp.pipeline",
    "extract_patients": "nlp.pipeline",
    "parse_protocol": "nlp.criteria",
    "with_user_terms": "nlp.lexicon",
    "read_terms": "nlp.lexicon",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'nlp' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
