"""General word-formation rules for concepts that no terminology lists.

Two rules, with their word lists in ``resources/lexicon/patterns.json``:

* suffix: an unknown word ending like a medical term is a concept of that
  domain ("ventriculotomy" procedure, "atopy"-like "-osis/-itis" conditions,
  USAN drug stems such as "-tinib", "-mab", "-pril");
* head noun: a head word with up to three preceding content words makes a
  phrase ("renal disease", "FSH levels", "kidney transplant",
  "antihypertensive medication"). A lexicon mention right before a drug,
  procedure or measurement head is absorbed ("hepatitis B vaccine").

Each phrase is normalized against the index (:mod:`nlp.lexicon.approx`); when
nothing is confident enough it keeps a code-less entry of its own
(``text:<domain>:<phrase>``) so that it is still a constraint and can still be
string-matched.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from nlp.data import load_json
from nlp.lexicon.entries import ConceptEntry
from nlp.lexicon.index import ConceptIndex, Mention, Token

# Heads that only say the modifier is given ("X therapy" is X): the modifier's concept stays.
_KEEPS_MODIFIER = {"therapy", "treatment", "use", "administration"}
_CATEGORY = {"condition": "comorbidity", "drug": "prior_therapy", "procedure": "prior_therapy", "measurement": "lab"}
_SOURCE = {"measurement": "pattern-measurement"}


@lru_cache(maxsize=1)
def _spec() -> dict:
    spec = load_json("lexicon/patterns.json")
    heads = {}
    bare = set()
    for domain, h in spec["heads"].items():
        for w in h["words"]:
            heads.setdefault(w, domain)
        bare.update(h["bare"])
    suffixes = sorted(((s, d) for d, ss in spec["suffixes"].items() for s in ss), key=lambda x: -len(x[0]))
    return {"heads": heads, "bare": bare, "suffixes": suffixes, "stop": set(spec["modifier_stop"]),
            "exceptions": set(spec["suffix_exceptions"]), "min_word": spec["min_word"],
            "max_modifiers": spec["max_modifiers"]}


def suffix_domain(word: str) -> Optional[str]:
    """The domain a word's ending suggests ("-ectomy" -> procedure), or None."""
    spec = _spec()
    w = word.lower()
    if len(w) < spec["min_word"] or not w.isalpha() or w in spec["exceptions"] or w in spec["stop"]:
        return None
    # The stem must follow at least three letters of its own ("atorvastatin", not "cystatin").
    return next((d for s, d in spec["suffixes"] if w.endswith(s) and len(w) - len(s) >= 3), None)


@lru_cache(maxsize=20_000)
def pattern_entry(phrase: str, domain: str) -> ConceptEntry:
    """A code-less concept for a phrase found by rule (cached: same phrase, same object)."""
    key = " ".join(phrase.lower().split())
    return ConceptEntry(id=f"text:{domain}:{key}", label=key, category=_CATEGORY[domain], type="pattern",
                        domain=domain, synonyms=(phrase,), source=_SOURCE.get(domain, "pattern"))


def _resolve(index: ConceptIndex, phrase: str, domain: str) -> tuple[ConceptEntry, str, float]:
    from nlp.lexicon.approx import normalize
    for entry, confidence, route in normalize(index, phrase, limit=3):
        if entry.domain == domain:
            return entry, "approximate", confidence
    return pattern_entry(phrase, domain), "pattern", 0.7


def _medical_word(index: ConceptIndex, tok: Token) -> bool:
    """An acronym ("MoCA", "FSH"), a word of some concept synonym, or a word with a medical ending."""
    raw = tok.raw
    if sum(c.isupper() for c in raw) >= 2:
        return True
    from nlp.lexicon.approx import _blocks
    return tok.norm in _blocks(index).postings or suffix_domain(raw) is not None


def pattern_mentions(index: ConceptIndex, text: str, tokens: list[Token], mentions: list[Mention]) -> list[Mention]:
    """Mentions found by the suffix and head-noun rules; ``mentions`` are kept unless absorbed.

    Returns the full, re-sorted list of mentions.
    """
    spec = _spec()
    owner = {}
    for m in mentions:
        for k in range(m.token_start, m.token_end):
            owner[k] = m
    out, absorbed = [], set()
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        if i in owner:
            i += 1
            continue
        head_domain = spec["heads"].get(tok.raw.lower()) or spec["heads"].get(tok.norm)
        domain = head_domain or suffix_domain(tok.raw)
        if domain is None:
            i += 1
            continue
        start = i
        while start > 0 and i - start < spec["max_modifiers"]:
            prev = tokens[start - 1]
            if prev.end + 1 < tokens[start].start and text[prev.end:tokens[start].start].strip():
                break  # punctuation between words ends the phrase
            low = prev.raw.lower()
            if start - 1 in owner:
                m = owner[start - 1]
                # "hepatitis B vaccine", "thyroid disease": a mention of another domain right
                # before a head word is that phrase's modifier.
                if head_domain and m.token_end == start and m.entry.domain != head_domain:
                    start = m.token_start
                    absorbed.add(id(m))
                break
            if low in spec["stop"] or not any(c.isalpha() for c in prev.raw) or spec["heads"].get(low):
                break
            start -= 1
        if head_domain and start == i and tok.raw.lower() not in spec["bare"] and tok.norm not in spec["bare"]:
            i += 1
            continue
        if head_domain and start < i and not any(_medical_word(index, t) for t in tokens[start:i]):
            i += 1  # "Widget score": nothing before the head looks like a medical word
            continue
        s, e = tokens[start].start, tok.end
        phrase = text[s:e]
        inner = owner.get(start)
        if inner is not None and id(inner) in absorbed and inner.token_start == start and \
                inner.token_end == i and tok.norm in _KEEPS_MODIFIER:
            # "corticosteroid treatment", "antibiotic therapy": the phrase is the drug itself;
            # keep its concept (and code) and let the span cover the head word.
            out.append(Mention(s, e, phrase, inner.entry, inner.route, inner.confidence, start, i + 1,
                               inner.alternatives))
            i += 1
            continue
        entry, route, confidence = _resolve(index, phrase, domain)
        out.append(Mention(s, e, phrase, entry, route, confidence, start, i + 1))
        i += 1
    kept = [m for m in mentions if id(m) not in absorbed]
    return sorted(kept + out, key=lambda m: (m.start, m.end))
