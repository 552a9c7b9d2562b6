"""Concept mentions in notes: the shared lexicon's ``ConceptIndex.find`` as a spaCy component.

This *is* the "target rules generated from the lexicon": the index holds every
synonym of the lexicon, and one pass over the note finds the longest
non-overlapping mentions with exact character spans. :func:`to_target_rules`
exports the same lexicon as medspaCy ``TargetRule`` objects for users who
prefer medspaCy's TargetMatcher.

User terms (``--terms TERMS.csv``: ``label,synonym[,category,code]``, read
strictly by :mod:`nlp.lexicon.user_terms`) are added to the lexicon index
(:func:`nlp.lexicon.with_user_terms`): they match case-insensitively and
whitespace-tolerantly, the longest match wins, and a user synonym wins over a
lexicon synonym of the very same words. A longer lexicon phrase hides a user
term only if it becomes a fact itself.
"""


import re
from bisect import bisect_right
from typing import Optional

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from nlp.lexicon import ConceptIndex, Mention, get_index, tokenize
from nlp.lexicon.user_index import with_user_terms
from nlp.lexicon.user_terms import load_user_terms  # noqa: F401 - re-exported (older imports)
from nlp.notes.records import note_text, register_extensions

def build_user_index(source) -> Optional[ConceptIndex]:
    """A small index of the user terms alone, or None when there are none (see :mod:`nlp.lexicon.user_terms`)."""
    entries = load_user_terms(source) if source is not None else []
    if not entries:
        return None
    index = ConceptIndex()
    for entry in entries:
        index.add(entry)
    return index


def yields_fact(entry) -> bool:
    """Whether the notes pipeline turns a mention of this concept into a fact of its own."""
    from nlp.notes.findings import fact_type

    return (entry.source == "user" or entry.measured or entry.id in ("sex", "age") or entry.type == "consent"
            or fact_type(entry) is not None)


def _with_user_mentions(mentions: list[Mention], user: list[Mention]) -> list[Mention]:
    """Add user-term mentions that the lexicon pass left out.

    The longest match wins, but only against a mention that becomes a fact: a
    longer lexicon phrase that is no fact of its own ("chronic diarrhea", an HPO
    phenotype) does not hide the user's "diarrhea". A user term wins ties.
    """
    out = list(mentions)
    changed = False
    for u in user:
        over = [m for m in out if m.start < u.end and u.start < m.end]
        if any(m.start == u.start and m.end == u.end and m.entry.id == u.entry.id for m in over):
            continue
        if any((m.end - m.start) > (u.end - u.start) and yields_fact(m.entry) for m in over):
            continue
        u.route = "user"
        out = [m for m in out if m not in over] + [u]
        changed = True
    return sorted(out, key=lambda m: m.start) if changed else mentions


def find_mentions(text: str, index: ConceptIndex, user_index: Optional[ConceptIndex] = None,
                  tokens=None) -> tuple[list, list[Mention]]:
    """Tokens and concept mentions of ``text``.

    User terms normally live in ``index`` itself (:func:`nlp.lexicon.with_user_terms`).
    ``user_index`` (the user terms alone) is searched too, so that a user term
    hidden by a longer lexicon phrase that gives no fact still counts (see
    :func:`_with_user_mentions`).
    """
    tokens = tokens if tokens is not None else tokenize(text)
    mentions = caps_mentions(text, index, index.find(text, tokens=tokens))
    if user_index is not None:
        user = user_index.find(text, tokens=tokens)
        if user:
            mentions = _with_user_mentions(mentions, user)
    return tokens, mentions


# A capitalised word followed by a number: where an all-caps lab line may hide a measured concept.
# (?=[A-Z]) fails fast at most characters, before the word-boundary test (throughput).
_CAPS_VALUE = re.compile(r"(?=[A-Z])\b[A-Z][A-Z0-9]{1,}\b(?:[ \t]*\([A-Z0-9 \-]*\))?[ \t]*[:=]?[ \t]*(?:[<>]=?[ \t]*)?\d")
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
        base = index if index is not None else lexicon
        self.index = with_user_terms(terms, base) if terms else (index if index is not None else get_index(lexicon))
        # The user terms alone as well: see find_mentions.
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
