"""Precision guard for synonyms that come from open terminologies.

ICD-10-CM, HPO and drug vocabularies hold generic words ("Pain", "Other
specified ...", drug brands that are English words). Every terminology
synonym passes :func:`clean_synonym` before it is indexed. The rules are
general and their word lists are data (``resources/lexicon/term_filters.json``
and ``term_stopwords.csv``); the curated lexicon files are not filtered.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Optional

from nlp.data import load_csv, load_json
from nlp.lexicon.index import normalize_word, tokenize

_PAREN = re.compile(r"\s*[\(\[]([^\)\]]*)[\)\]]")
_ACRONYM = re.compile(r"^[A-Z][A-Z0-9\-]*[A-Z0-9]$")
_WS = re.compile(r"\s+")


@lru_cache(maxsize=1)
def rules() -> dict:
    """The guard's settings (``term_filters.json``)."""
    return load_json("lexicon/term_filters.json")


@lru_cache(maxsize=1)
def stop_keys() -> frozenset[tuple[str, ...]]:
    """Folded token keys of the generic words and phrases."""
    return frozenset(tuple(t.norm for t in tokenize(r["phrase"])) for r in load_csv("lexicon/term_stopwords.csv"))


@lru_cache(maxsize=200_000)
def _zipf(word: str) -> float:
    # wordfreq is only needed while the index is built (the result is cached on disk).
    from wordfreq import zipf_frequency
    return zipf_frequency(word, "en")


def strip_qualifiers(title: str) -> str:
    """Drop ICD-style qualifier suffixes ("…, unspecified", "… NOS")."""
    t = _WS.sub(" ", title).strip()
    changed = True
    while changed:
        changed = False
        for suffix in rules()["strip_suffixes"]:
            if t.lower().endswith(suffix):
                t, changed = t[: -len(suffix)].rstrip(" ,;"), True
    return t


def split_parentheses(title: str) -> tuple[str, list[str]]:
    """``"Non-ST elevation (NSTEMI) myocardial infarction"`` -> the title without the
    parenthetical, and the acronyms found inside parentheses (``["NSTEMI"]``)."""
    acronyms = []
    r = rules()
    for m in _PAREN.finditer(title):
        inner = m.group(1).strip()
        if _ACRONYM.match(inner) and r["acronym_min"] <= len(inner) <= r["acronym_max"]:
            acronyms.append(inner)
    return _WS.sub(" ", _PAREN.sub("", title)).strip(" ,"), acronyms


def clean_synonym(text: str, domain: str = "condition", acronym: bool = False) -> Optional[str]:
    """The synonym as it should be indexed, or None when it is too generic to assert.

    Rules: qualifier suffixes stripped; no "Other …"/"Unspecified …" titles; no
    words such as "other", "NOS", "elsewhere"; 1..max_tokens words; a single
    word must be at least ``min_chars_single`` long, not a generic stop word and
    not a common English word (wordfreq Zipf below the domain's limit); a whole
    phrase made only of stop words is dropped. A rare single title word ("Edema",
    "Ileus") is lowercased, so that it matches case-insensitively. Acronyms taken from titles
    ("NSTEMI") are kept when they are 3-8 capitals.
    """
    r = rules()
    t = strip_qualifiers(text)
    if not t or any(c in t for c in "()[];") or t.count(",") > 0:
        return None
    toks = tokenize(t)
    words = [x for x in toks if x.raw[0].isalnum()]
    if not words or len(toks) > r["max_tokens"]:
        return None
    if acronym:
        return t if _ACRONYM.match(t) and r["acronym_min"] <= len(t) <= r["acronym_max"] else None
    low = " ".join(x.raw.lower() for x in toks)
    if any(low == p or low.startswith(p + " ") for p in r["drop_prefixes"]):
        return None
    folded = [x.norm for x in toks]
    if any(w in folded for w in r["reject_words"] if " " not in w) or any(f" {w} " in f" {low} " for w in r["reject_words"] if " " in w):
        return None
    if len(t) < r["min_chars"]:
        return None
    keys = stop_keys()
    if tuple(folded) in keys or all((w,) in keys or not w.isalpha() or len(w) <= 2 for w in folded):
        return None
    if len(words) == 1:
        w = words[0].raw
        if len(w) < r["min_chars_single"] or not any(c.isalpha() for c in w):
            return None
        limit = r["max_zipf_single"].get(domain, r["max_zipf_single"]["condition"])
        zipf = _zipf(w.lower())
        if zipf >= limit:
            return None
        if w[0].isupper() and w[1:].islower() and zipf < r["lowercase_title_word_max_zipf"]:
            return t.lower()  # a title's capital ("Edema") is no acronym's: match "edema" too
    return t


def clean_all(texts: Iterable[str], domain: str = "condition") -> list[str]:
    """Cleaned, de-duplicated synonyms (first spelling kept), in input order."""
    out, seen = [], set()
    for text in texts:
        c = clean_synonym(text, domain)
        if c is None:
            continue
        key = tuple(normalize_word(w) for w in c.lower().split())
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out
