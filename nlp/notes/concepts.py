"""Concept mentions in notes: the shared lexicon's ``ConceptIndex.find`` as a spaCy component.

This *is* the "target rules generated from the lexicon": the index holds every
synonym of the lexicon, and one pass over the note finds the longest
non-overlapping mentions with exact character spans. :func:`to_target_rules`
exports the same lexicon as medspaCy ``TargetRule`` objects for users who
prefer medspaCy's TargetMatcher.

User terms (``--terms TERMS.csv``: ``label,synonym[,category,code]``) live in a
small second index, matched case-insensitively; they win over lexicon mentions
they overlap.
"""


import csv
import re
from bisect import bisect_right
from pathlib import Path
from typing import Iterable, Optional, Union

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from nlp.lexicon import ConceptEntry, ConceptIndex, Mention, get_index, tokenize
from nlp.notes.records import note_text, register_extensions

# Fact types the notes side emits; user-term categories with these names keep them.
FACT_TYPES = ("demographic", "diagnosis", "disease_status", "blasts", "biomarker", "therapy", "lab", "vital",
              "cardiac", "performance_status", "psychiatric", "life_expectancy", "consent")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "term"


def load_user_terms(source: Union[str, Path, Iterable[dict]]) -> list[ConceptEntry]:
    """User concepts from a CSV path or rows with ``label, synonym`` (and optional ``category, code``).

    One row per synonym; rows of the same label make one concept. Synonyms are
    lower-cased so that matching is case-insensitive (the index matches short
    capitalised synonyms case-sensitively otherwise).
    """
    if isinstance(source, (str, Path)):
        with open(source, encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    else:
        rows = list(source)
    by_label: dict[str, ConceptEntry] = {}
    for row in rows:
        label = (row.get("label") or "").strip()
        synonym = (row.get("synonym") or "").strip()
        if not label:
            continue
        category = (row.get("category") or "").strip() or "diagnosis"
        entry = by_label.get(label)
        if entry is None:
            kind = category if category in FACT_TYPES else ("therapy" if category in ("drug", "procedure", "prior_therapy") else "diagnosis")
            domain = "drug" if category == "drug" else "procedure" if category == "procedure" else "condition"
            entry = ConceptEntry(id=f"user:{_slug(label)}", label=label, category=category, type=kind, domain=domain,
                                 synonyms=(label.lower(),), source="user")
            by_label[label] = entry
        code = (row.get("code") or "").strip()
        if code:
            system, _, value = code.partition(":")
            pair = (system, value) if value else ("user", system)
            if pair not in entry.codes:
                entry.codes = entry.codes + (pair,)
        if synonym and synonym.lower() not in entry.synonyms:
            entry.synonyms = entry.synonyms + (synonym.lower(),)
    return list(by_label.values())


def build_user_index(source) -> Optional[ConceptIndex]:
    """A small index of user terms, or None when there are none."""
    entries = load_user_terms(source) if source is not None else []
    if not entries:
        return None
    index = ConceptIndex()
    for entry in entries:
        index.add(entry)
    return index


def find_mentions(text: str, index: ConceptIndex, user_index: Optional[ConceptIndex] = None,
                  tokens=None) -> tuple[list, list[Mention]]:
    """Tokens and concept mentions of ``text`` (user terms win where they overlap)."""
    tokens = tokens if tokens is not None else tokenize(text)
    mentions = caps_mentions(text, index, index.find(text, tokens=tokens))
    if user_index is not None:
        user = user_index.find(text, tokens=tokens)
        if user:
            for m in user:
                m.route = "user"
            kept = [m for m in mentions if not any(u.start < m.end and m.start < u.end for u in user)]
            mentions = sorted(kept + user, key=lambda m: m.start)
    return tokens, mentions


# A capitalised word followed by a number: where an all-caps lab line may hide a measured concept.
_CAPS_VALUE = re.compile(r"\b[A-Z][A-Z0-9]{1,}\b(?:[ \t]*\([A-Z0-9 \-]*\))?[ \t]*[:=]?[ \t]*(?:[<>]=?[ \t]*)?\d")
_VALUE_AFTER = re.compile(r"[ \t]*[:=]?[ \t]*(?:[<>]=?[ \t]*)?\d")
_LOWER = re.compile(r"[a-z]")
_UPPER = re.compile(r"[A-Z]")


def _caps_lines(text: str, mentions: list[Mention]) -> list[tuple[int, int]]:
    """Lines in capitals with a capitalised word before a value that no measured mention covers."""
    out = []
    seen = set()
    covered = [(m.start, m.end) for m in mentions if m.entry.measured]
    for m in _CAPS_VALUE.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        if start in seen or any(a <= m.start() < b for a, b in covered):
            continue
        seen.add(start)
        end = text.find("\n", m.end())
        end = len(text) if end < 0 else end
        line = text[start:end]
        upper = len(_UPPER.findall(line))
        if upper >= 4 and len(_LOWER.findall(line)) <= 0.15 * upper:
            out.append((start, end))
    return out


def caps_mentions(text: str, index: ConceptIndex, mentions: list[Mention]) -> list[Mention]:
    """Measured concepts in all-caps lines, found in title-case and lower-case views of those lines.

    Only mentions followed by a value are added ("CR 0.9" is creatinine here, not
    complete remission); they replace overlapping mentions of unmeasured concepts.
    """
    lines = _caps_lines(text, mentions)
    if not lines:
        return mentions
    # One view of all such lines (joined by newlines), so each case variant is searched once.
    joined = "\n".join(text[a:b] for a, b in lines)
    offsets, pos = [], 0
    for a, b in lines:
        offsets.append((pos, a))
        pos += b - a + 1
    starts = [o for o, _ in offsets]
    measured = [(x.start, x.end) for x in mentions if x.entry.measured]
    added: list[Mention] = []
    for variant in (joined.title(), joined.lower()):
        if len(variant) != len(joined):
            continue
        for m in index.find(variant):
            if not m.entry.measured or not _VALUE_AFTER.match(variant, m.end):
                continue
            k = bisect_right(starts, m.start) - 1
            shift = offsets[k][1] - offsets[k][0]
            s, e = m.start + shift, m.end + shift
            if any(a < e and s < b for a, b in measured):
                continue
            measured.append((s, e))
            added.append(Mention(s, e, text[s:e], m.entry, "caps", 1.0))
    if not added:
        return mentions
    kept = [m for m in mentions if not any(a.start < m.end and m.start < a.end for a in added)]
    return sorted(kept + added, key=lambda m: m.start)


class ConceptMatcher:
    """spaCy component: lexicon mentions on ``doc._.trialmatch_mentions`` and as entity spans.

    The spans (label: fact type or category, ``kb_id``: concept id) go to the span
    group ``doc.spans["trialmatch"]``; ``set_ents=True`` also sets ``doc.ents``
    (spaCy's setter is several times slower, so it is off by default).
    """

    def __init__(self, nlp: Language, name: str, lexicon: str = "full", terms: Optional[str] = None,
                 set_ents: bool = False, spans_key: Optional[str] = "trialmatch", index: Optional[ConceptIndex] = None):
        register_extensions()
        self.name = name
        self.index = index if index is not None else get_index(lexicon)
        self.user_index = build_user_index(terms) if terms else None
        self.set_ents = set_ents
        self.spans_key = spans_key

    def __call__(self, doc: Doc) -> Doc:
        shared = doc.user_data.get("trialmatch_lexicon_tokens")  # from NoteTokenizer: one pass, not two
        tokens, lex_doc = shared if shared is not None else (None, None)
        tokens, mentions = find_mentions(note_text(doc), self.index, self.user_index, tokens)
        doc._.trialmatch_tokens = tokens
        doc._.trialmatch_mentions = mentions
        if (self.set_ents or self.spans_key) and mentions:
            strings = doc.vocab.strings
            spans = []
            aligned = lex_doc is not None
            for m in mentions:
                label = strings.add(m.entry.type or m.entry.category)
                kb = strings.add(m.entry.id)
                if aligned and m.route not in ("caps", "user") and m.token_end > m.token_start:
                    # Our tokenizer's Doc tokens share the index's boundaries: no char alignment needed.
                    span = Span(doc, lex_doc[m.token_start], lex_doc[m.token_end - 1] + 1, label=label, kb_id=kb)
                else:
                    aligned = aligned and False
                    span = doc.char_span(m.start, m.end, label=label, kb_id=kb, alignment_mode="expand")
                if span is not None:
                    spans.append(span)
            if self.spans_key:
                doc.spans[self.spans_key] = spans
            if self.set_ents:
                doc.ents = spans if aligned else filter_spans(spans)
        return doc


@Language.factory("trialmatch_concepts", default_config={"lexicon": "full", "terms": None, "set_ents": False,
                                                        "spans_key": "trialmatch"})
def make_concept_matcher(nlp: Language, name: str, lexicon: str, terms: Optional[str], set_ents: bool,
                         spans_key: Optional[str]) -> ConceptMatcher:
    """Lexicon concept matcher: entity spans in ``doc.spans[spans_key]`` (and ``doc.ents`` with set_ents=True).

    ``lexicon`` is "full" or "curated"; ``terms`` an optional user-terms CSV.
    """
    return ConceptMatcher(nlp, name, lexicon, terms, set_ents, spans_key)


def to_target_rules(index: Optional[ConceptIndex] = None, curated_only: bool = True, categories: Optional[set[str]] = None):
    """The lexicon as medspaCy ``TargetRule`` objects (one per synonym), for medspaCy's TargetMatcher.

    Short capitalised synonyms become case-sensitive token patterns (``ORTH``), as
    the index matches them; "=" synonyms (value required) are skipped, since a
    TargetRule cannot require a following number.
    """
    from medspacy.ner import TargetRule

    from nlp.lexicon.index import is_case_sensitive

    index = index or get_index("curated" if curated_only else None)
    rules = []
    for entry in index.entries.values():
        if curated_only and not entry.source.startswith("curated"):
            continue
        if categories and entry.category not in categories:
            continue
        for synonym in entry.synonyms:
            if synonym.startswith("="):
                continue
            meta = {"concept_id": entry.id, "label": entry.label, "codes": [f"{s}:{c}" for s, c in entry.codes]}
            if is_case_sensitive(synonym):
                pattern = [{"ORTH": t.raw} for t in tokenize(synonym)]
                rules.append(TargetRule(synonym, entry.type or entry.category, pattern=pattern, metadata=meta))
            else:
                rules.append(TargetRule(synonym, entry.type or entry.category, metadata=meta))
    return rules
