"""Recognize: one pass over a normalized protocol text finds every mention the
clauses need — concepts, comparisons, time windows and negation cues.

Concepts come from the shared concept index (``nlp.lexicon.mentions.find_concepts``:
phrase matches, word-formation rules and abbreviations defined in the text), plus two general rules:
coordination ellipsis ("persistent or recurrent disease" -> "persistent
disease") and composite findings ("no abnormality was found in ECG" -> ECG
abnormality, from ``resources/lexicon/findings.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from nlp.data import load_json
from nlp.grammar.comparisons import Comparison, find_comparisons
from nlp.grammar.temporal import TemporalMention, find_temporals
from nlp.lexicon import ConceptIndex, Mention, Token, get_index, tokenize
from nlp.lexicon.mentions import find_concepts


@dataclass(frozen=True)
class Cue:
    start: int
    end: int
    direction: str  # FORWARD | BACKWARD | TERMINATE


@dataclass
class Recognized:
    """Everything found in one normalized text, all in normalized offsets."""

    text: str
    index: ConceptIndex
    tokens: list[Token]
    mentions: list[Mention]
    comparisons: list[Comparison]
    temporals: list[TemporalMention]
    negations: list[Cue]
    terminators: list[Cue]
    family: list[Cue] = field(default_factory=list)


def _literal_regex(literals: list[str]) -> Optional[re.Pattern]:
    if not literals:
        return None
    parts = []
    for lit in sorted(set(literals), key=len, reverse=True):
        frag = re.escape(lit).replace(r"\ ", r"\s+")
        if lit[:1].isalnum():
            frag = r"(?<![A-Za-z0-9])" + frag
        if lit[-1:].isalnum():
            frag += r"(?![A-Za-z0-9])"
        parts.append(frag)
    return re.compile("|".join(parts), re.IGNORECASE)


@lru_cache(maxsize=1)
def _negation_rules() -> dict[str, Optional[re.Pattern]]:
    rules = load_json("assertion/context_rules.json")["context_rules"]
    by: dict[str, list[str]] = {"FORWARD": [], "BACKWARD": [], "TERMINATE": [], "PSEUDO": [], "FAMILY": []}
    for r in rules:
        lit = r.get("literal")
        if not lit or r.get("pattern"):
            continue
        if r["category"] == "NEGATED_EXISTENCE" and r["direction"] in ("FORWARD", "BACKWARD"):
            by[r["direction"]].append(lit)

        elif r["category"] == "TERMINATE":
            by["TERMINATE"].append(lit)
        elif r["category"] == "PSEUDO":
            by["PSEUDO"].append(lit)
    criteria_cues = load_json("criteria/negation.json")
    by["FORWARD"] += criteria_cues["forward"]
    by["FAMILY"] = criteria_cues["family"]
    # In criteria text, "not" inside a comparator ("not more than") is handled by the grammar,
    # and clause punctuation is handled by the clause splitter.
    by["TERMINATE"] = [t for t in by["TERMINATE"] if t not in (";", ":", "with", "patient", "pt", "she", "he", "the patient", "now", "currently", "today")]
    by["TERMINATE"] += ["and has", "and have", "and is", "and are", "who have", "who has", "is", "are", "was", "were"]
    return {k: _literal_regex(v) for k, v in by.items()}


@lru_cache(maxsize=1)
def _findings() -> tuple[set[str], int, dict[str, str]]:
    spec = load_json("lexicon/findings.json")
    return set(spec["abnormality_words"]), spec["window"], spec["tests"]


def _coordination(index: ConceptIndex, text: str, tokens: list[Token], mentions: list[Mention]) -> list[Mention]:
    """'persistent or recurrent disease' also mentions 'persistent disease'."""
    taken = {k for m in mentions for k in range(m.token_start, m.token_end)}
    extra = []
    for m in mentions:
        j = m.token_end
        # Right ellipsis: "hepatitis B or C" also mentions "hepatitis C".
        if j + 1 < len(tokens) and tokens[j].norm in ("or", "and", "/") and (j + 1) not in taken and m.token_end - m.token_start >= 2:
            word = tokens[j + 1]
            phrase = " ".join([t.raw for t in tokens[m.token_start:j - 1]] + [word.raw])
            entry = index.lookup(phrase)
            if entry is not None and entry.id != m.entry.id:
                extra.append(Mention(word.start, word.end, text[word.start:word.end], entry, "coordination", 0.9, j + 1, j + 2))
        i = m.token_start
        if m.token_end - i < 2 or i < 2:
            continue
        conj, word = tokens[i - 1], tokens[i - 2]
        if conj.norm not in ("or", "and", "/") or (i - 2) in taken or not word.raw.isalpha():
            continue
        phrase = " ".join([word.raw] + [t.raw for t in tokens[i + 1:m.token_end]])
        entry = index.lookup(phrase)
        if entry is not None and entry.id != m.entry.id:
            extra.append(Mention(word.start, word.end, text[word.start:word.end], entry, "coordination",
                                 0.9, i - 2, i - 1))
    return extra


def _composites(index: ConceptIndex, text: str, tokens: list[Token], mentions: list[Mention]) -> list[Mention]:
    """An abnormality word near a test mention becomes the test's abnormality concept."""
    words, window, tests = _findings()
    out = list(mentions)
    for k, m in enumerate(mentions):
        target = tests.get(m.entry.id)
        if target is None or index.get(target) is None:
            continue
        lo = max(0, m.token_start - window - 1)
        hits = [j for j in range(lo, m.token_start) if tokens[j].norm in words and not any(t.raw in ".;" for t in tokens[j:m.token_start])]
        if not hits:
            hi = min(len(tokens), m.token_end + 3)
            hits = [j for j in range(m.token_end, hi) if tokens[j].norm in words]
        if not hits:
            continue
        j = hits[0]
        start, end = min(tokens[j].start, m.start), max(tokens[j].end, m.end)
        out[k] = Mention(start, end, text[start:end], index.get(target), "composite", 0.9,
                         min(j, m.token_start), max(j + 1, m.token_end))
    return out


def recognize(text: str, index: Optional[ConceptIndex] = None, fuzzy: bool = True) -> Recognized:
    """Find concepts, comparisons, windows and negation cues in normalized text."""
    index = index or get_index()
    tokens = tokenize(text)
    mentions = find_concepts(text, index, tokens=tokens, fuzzy=fuzzy)
    mentions = _composites(index, text, tokens, mentions)
    mentions = sorted(mentions + _coordination(index, text, tokens, mentions), key=lambda m: (m.start, m.end))
    comparisons = find_comparisons(text)
    temporals = find_temporals(text, comparisons)
    rules = _negation_rules()
    blocked = [(c.start, c.end) for c in comparisons] + [(m.start, m.end) for m in mentions]
    if rules["PSEUDO"]:
        blocked += [(m.start(), m.end()) for m in rules["PSEUDO"].finditer(text)]

    def free(s: int, e: int) -> bool:
        return not any(a < e and s < b for a, b in blocked)

    negations: list[Cue] = []
    for direction in ("FORWARD", "BACKWARD"):
        pattern = rules[direction]
        if pattern:
            negations += [Cue(m.start(), m.end(), direction) for m in pattern.finditer(text) if free(m.start(), m.end())]
    negations.sort(key=lambda c: c.start)
    term = rules["TERMINATE"]
    terminators = [Cue(m.start(), m.end(), "TERMINATE") for m in term.finditer(text)] if term else []
    fam = rules["FAMILY"]
    family = [Cue(m.start(), m.end(), "FAMILY") for m in fam.finditer(text) if free(m.start(), m.end())] if fam else []
    return Recognized(text, index, tokens, mentions, comparisons, temporals, negations, terminators, family)
