"""The concept index: finds lexicon concepts in any text, with exact character spans.

Matching works on a word view of the text: case-folded words with light
spelling and plural folding, where hyphens and slashes inside words and
extra whitespace or line breaks do not matter. Short synonyms written with
capitals (AML, CR, Cr, ALL) match case-sensitively. The longest match wins;
stop phrases ("tumor cells") block matches inside them. Optionally, words
that are near-misses of lexicon words (rapidfuzz) are corrected first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Optional

from rapidfuzz import fuzz, process

from nlp.grammar.comparisons import opens_comparison
from nlp.lexicon.entries import ConceptEntry

STOP = "__stop__"
_WORD = r"[A-Za-z0-9\u00b5\u00b2\u00b3\u2070-\u209f\u03b1-\u03c9\u0391-\u03a9\u00c0-\u00ff]+"
_TOKEN_RE = re.compile(_WORD + r"|[^\sA-Za-z0-9]")
_CONNECTORS = {"-", "/", "'", "\u2019", "\u2010", "\u2011", "\u2013"}
_GATE_RE = re.compile(r"\s*(?:[:=~#]|\(\w+\)|of|is|was|were|at|level|levels|count|value|\+|-)?\s*(?:[:=~])?\s*(?:[<>≤≥=]|\d|\.\d)")
def _value_follows(text: str, pos: int) -> bool:
    """A gated synonym ("=K", "=pain") counts only before a value: a number or comparator sign, or
    a comparator phrase of the one grammar ("pain greater than or equal to 3")."""
    return _GATE_RE.match(text, pos) is not None or opens_comparison(text, pos)


_SPELLING = ((re.compile(r"^oe(?=[a-z]{3})"), "e"), (re.compile(r"aem"), "em"), (re.compile(r"^tumour"), "tumor"),
             (re.compile(r"aemia$"), "emia"), (re.compile(r"isation$"), "ization"), (re.compile(r"yse$"), "yze"))


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    raw: str
    norm: str


@dataclass
class Mention:
    """A concept found in text. ``route`` says how: exact, fuzzy, abbreviation or user."""

    start: int
    end: int
    text: str
    entry: ConceptEntry
    route: str = "exact"
    confidence: float = 1.0
    token_start: int = 0
    token_end: int = 0
    alternatives: tuple[str, ...] = ()


@lru_cache(maxsize=200_000)
def normalize_word(raw: str) -> str:
    """Case, spelling and plural folding of one word (both sides use this)."""
    w = raw.lower()
    for pattern, repl in _SPELLING:
        w = pattern.sub(repl, w)
    if len(w) >= 5 and w.isalpha():
        if w.endswith("ies"):
            w = w[:-3] + "y"
        elif w.endswith("s") and not w.endswith(("ss", "us", "is", "ous", "sis")):
            w = w[:-1]
    return w


def tokenize(text: str) -> list[Token]:
    """Words and punctuation of ``text``; in-word hyphens, slashes and possessives dropped."""
    out: list[Token] = []
    prev_apostrophe = False
    n = len(text)
    for m in _TOKEN_RE.finditer(text):
        raw = m.group(0)
        s, e = m.start(), m.end()
        if raw in _CONNECTORS and 0 < s and e < n and text[s - 1].isalnum() and text[e].isalnum():
            prev_apostrophe = raw in ("'", "\u2019")
            continue
        if prev_apostrophe and raw.lower() == "s":
            prev_apostrophe = False
            continue
        prev_apostrophe = False
        out.append(Token(s, e, raw, normalize_word(raw)))
    return out


def is_case_sensitive(synonym: str) -> bool:
    """Short synonyms written with capitals (AML, Cr, ALL) match only as written.

    Codes with digits of four characters or more (HbA1c, FEV1, CD123) are not
    English words in any case, so they match case-insensitively ("HbA1C")."""
    alnum = [c for c in synonym if c.isalnum()]
    if len(alnum) >= 4 and any(c.isdigit() for c in alnum):
        return False
    return any(c.isupper() for c in synonym) and len(alnum) <= 5


# Word prefixes written both joined and hyphenated ("antidepressant", "anti-depressant").
_PREFIXES = ("anti", "non", "post", "pre", "hyper", "hypo", "intra", "inter", "trans", "sub", "poly", "multi")


def prefix_variants(key: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Other spellings of a folded key: one prefixed word split or one prefix joined."""
    out = []
    for i, w in enumerate(key):
        for p in _PREFIXES:
            if w.startswith(p) and len(w) - len(p) >= 4 and w[len(p):].isalpha():
                out.append(key[:i] + (p, normalize_word(w[len(p):])) + key[i + 1:])
                break
        if w in _PREFIXES and i + 1 < len(key) and key[i + 1].isalpha() and len(key[i + 1]) >= 4:
            out.append(key[:i] + (normalize_word(w + key[i + 1]),) + key[i + 2:])
    return out


# A slot is one concept behind one synonym key: (entry_id, gated, priority).
# Plain tuples keep the cached index small and fast to unpickle.
_ID, _GATED, _PRIO = 0, 1, 2
_FIELDS = tuple(f for f in ConceptEntry.__dataclass_fields__)


class EntryTable(dict):
    """id -> ConceptEntry; entries loaded from the cache stay packed as tuples until used."""

    def __getitem__(self, key):
        value = dict.__getitem__(self, key)
        if type(value) is tuple:
            value = ConceptEntry(**dict(zip(_FIELDS, value)))
            dict.__setitem__(self, key, value)
        return value

    def get(self, key, default=None):
        return self[key] if key in self else default

    def values(self):
        return [self[k] for k in self]

    def items(self):
        return [(k, self[k]) for k in self]


def _pack(entry: ConceptEntry) -> tuple:
    return tuple(getattr(entry, f) for f in _FIELDS)


@dataclass
class ConceptIndex:
    """Phrase index over concept synonyms, with hierarchy helpers."""

    entries: dict[str, ConceptEntry] = field(default_factory=EntryTable)
    ci: dict[tuple[str, ...], list[tuple]] = field(default_factory=dict)
    cs: dict[tuple[str, ...], list[tuple]] = field(default_factory=dict)
    ci_max: dict[str, int] = field(default_factory=dict)
    cs_max: dict[str, int] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # folded terminology id -> curated id
    cache_key: Optional[str] = None
    _vocab_blocks: Optional[dict[str, list[str]]] = None
    _vocab: Optional[set[str]] = None
    _approx: Optional[object] = None
    _walk: Optional[tuple] = None  # per table (ci, cs): see _walk_sets

    # -- building -----------------------------------------------------------------
    def add(self, entry: ConceptEntry, priority: int = 0, replace: bool = False) -> None:
        """Add a concept and its synonyms. Lower ``priority`` wins ties."""
        if entry.id in self.entries and not replace:
            existing = self.entries[entry.id]
            existing.synonyms = tuple(dict.fromkeys(existing.synonyms + entry.synonyms))
        else:
            self.entries[entry.id] = entry
        for synonym in entry.synonyms:
            self.add_synonym(entry.id, synonym, priority)
        self._vocab_blocks = None

    def add_synonym(self, entry_id: str, synonym: str, priority: int = 0) -> None:
        """Index one more synonym of an existing concept (or of the stop list)."""
        gated = synonym.startswith("=")
        synonym = synonym.lstrip("=").strip()
        toks = tokenize(synonym)
        if not toks:
            return
        if is_case_sensitive(synonym):
            key, table, maxes = tuple(t.raw for t in toks), self.cs, self.cs_max
        else:
            key, table, maxes = tuple(t.norm for t in toks), self.ci, self.ci_max
        keys = [key] + (prefix_variants(key) if table is self.ci else [])
        for k in keys:
            slots = table.setdefault(k, [])
            if any(s[_ID] == entry_id for s in slots):
                continue
            # A spelling variant ranks after every concept that has that spelling itself.
            slots.append((entry_id, gated, priority if k is key else priority + 100))
            slots.sort(key=lambda s: (s[_GATED] is False, s[_PRIO]))
            maxes[k[0]] = max(maxes.get(k[0], 0), len(k))
        self._walk = None

    def add_stop_phrases(self, phrases: Iterable[str]) -> None:
        """Phrases that are not concepts but contain concept words."""
        for phrase in phrases:
            self.add_synonym(STOP, phrase, priority=-1)

    # -- matching -----------------------------------------------------------------
    def _walk_sets(self) -> tuple[tuple[set, ...], tuple[set, ...]]:
        """Per table (ci, cs), built on demand: the proper prefixes of its keys, its one-word
        keys, the first words of its longer keys, and their first two words."""
        if self._walk is None:
            self._walk = tuple(({k[:m] for k in table for m in range(1, len(k))},
                                {k[0] for k in table if len(k) == 1},
                                {k[0] for k in table if len(k) > 1},
                                {k[:2] for k in table if len(k) > 1}) for table in (self.ci, self.cs))
        return self._walk

    @staticmethod
    def _starts(words: list[str], singles: set, heads: set, pairs: set) -> list[int]:
        # Most words that begin some key do not begin one here: a key needs the word
        # alone or the word and the next one, so only those positions are walked.
        after = words[1:] + [""]
        return [i for i, w in enumerate(words) if w in singles or (w in heads and (w, after[i]) in pairs)]

    def _longest_at(self, i: int, keys: list[str], table, prefixes: set, text: str, toks: list[Token]):
        # Walk forward while some key continues the words so far (most walks stop after a
        # word or two), then take the longest key found whose gate (if any) is met.
        hits = []
        key = (keys[i],)
        j, n = i + 1, len(keys)
        while True:
            slots = table.get(key)
            if slots:
                hits.append((j - i, slots))
            if j == n or key not in prefixes:
                break
            key += (keys[j],)
            j += 1
        for length, slots in reversed(hits):
            usable = [s for s in slots if not s[_GATED] or _value_follows(text, toks[i + length - 1].end)]
            if usable:
                return length, usable
        return 0, []

    def find(self, text: str, fuzzy: bool = False, tokens: Optional[list[Token]] = None) -> list[Mention]:
        """All concept mentions in ``text``, longest first, non-overlapping, in order."""
        toks = tokens if tokens is not None else tokenize(text)
        norms = [t.norm for t in toks]
        raws = [t.raw for t in toks]
        corrected: dict[int, float] = {}
        if fuzzy:
            norms, corrected = self._correct_tokens(norms)
        (ci_prefixes, *ci_starts), (cs_prefixes, *cs_starts) = self._walk_sets()
        # The longest match at each token that starts a key; a case-sensitive one wins ties.
        best: dict[int, tuple[int, list[tuple]]] = {}
        for i in self._starts(norms, *ci_starts):
            length, slots = self._longest_at(i, norms, self.ci, ci_prefixes, text, toks)
            if length:
                best[i] = (length, slots)
        for i in self._starts(raws, *cs_starts):
            length, slots = self._longest_at(i, raws, self.cs, cs_prefixes, text, toks)
            if length and length >= best.get(i, (0,))[0]:
                best[i] = (length, slots)
        found = [(i, i + length, slots) for i, (length, slots) in best.items()]
        found.sort(key=lambda f: (-(toks[f[1] - 1].end - toks[f[0]].start), f[0]))
        taken = [False] * len(toks)
        chosen: list[Mention] = []
        for i, j, slots in found:
            if any(taken[i:j]):
                continue
            taken[i:j] = [True] * (j - i)
            best = slots[0]
            if best[_ID] == STOP:
                continue
            start, end = toks[i].start, toks[j - 1].end
            fuzzy_scores = [corrected[k] for k in range(i, j) if k in corrected] if corrected else None
            route = "fuzzy" if fuzzy_scores else "exact"
            confidence = min(fuzzy_scores) if fuzzy_scores else 1.0
            alternatives = tuple([s[_ID] for s in slots[1:] if s[_ID] != STOP]) if len(slots) > 1 else ()
            chosen.append(Mention(start, end, text[start:end], self.entries[best[_ID]], route, confidence, i, j,
                                  alternatives))
        chosen.sort(key=lambda m: m.start)
        return chosen

    # -- fuzzy near-misses --------------------------------------------------------
    def _blocks(self) -> dict[str, list[str]]:
        if self._vocab_blocks is None:
            vocab = {w for key in self.ci for w in key if len(w) >= 6 and w.isalpha()}
            blocks: dict[str, list[str]] = {}
            for w in sorted(vocab):
                blocks.setdefault(w[:2], []).append(w)
            self._vocab_blocks, self._vocab = blocks, vocab
        return self._vocab_blocks

    def _correct_tokens(self, norms: list[str]) -> tuple[list[str], dict[int, float]]:
        blocks = self._blocks()
        out, corrected = list(norms), {}
        for i, w in enumerate(norms):
            if len(w) >= 7 and w.isalpha() and w not in self._vocab and w not in self.ci_max:
                fix = _correct_word(w, tuple(blocks.get(w[:2], ())))
                if fix:
                    out[i], corrected[i] = fix
        return out, corrected

    # -- lookup and hierarchy -------------------------------------------------------
    def lookup(self, phrase: str) -> Optional[ConceptEntry]:
        """The concept whose synonym is exactly ``phrase`` (case/spelling folded)."""
        toks = tokenize(phrase)
        for table, key in ((self.cs, tuple(t.raw for t in toks)), (self.ci, tuple(t.norm for t in toks))):
            slots = [s for s in table.get(key, []) if s[_ID] != STOP]
            if slots:
                return self.entries[slots[0][_ID]]
        return None

    def get(self, entry_id: str) -> Optional[ConceptEntry]:
        """The concept with this id (or with a terminology id folded into it), or None."""
        return self.entries.get(self.aliases.get(entry_id, entry_id))

    def resolve(self, entry_id: str) -> str:
        """The id under which ``entry_id`` lives in this index (folded ids -> curated id)."""
        return self.aliases.get(entry_id, entry_id)

    def ancestors(self, entry_id: str) -> list[str]:
        """All broader concepts, nearest first (curated and terminology parents alike)."""
        entry_id = self.resolve(entry_id)
        out, queue, seen = [], [entry_id], {entry_id}
        while queue:
            current = self.entries.get(queue.pop(0))
            if current is None:
                continue
            for parent in current.parents:
                if parent not in seen:
                    seen.add(parent)
                    out.append(parent)
                    queue.append(parent)
        return out

    def is_a(self, entry_id: str, ancestor_id: str) -> bool:
        """True when ``entry_id`` is ``ancestor_id`` or one of its descendants."""
        entry_id, ancestor_id = self.resolve(entry_id), self.resolve(ancestor_id)
        return entry_id == ancestor_id or ancestor_id in self.ancestors(entry_id)

    def normalize(self, phrase: str, limit: int = 5, threshold: Optional[float] = None):
        """Concepts for a free-text phrase: ``[(entry, confidence, route)]``, best first.

        Exact/alias lookup first (confidence 1.0); otherwise approximate candidates
        (character n-gram TF-IDF) reranked with rapidfuzz. Nothing below
        ``threshold`` (default :data:`nlp.lexicon.approx.THRESHOLD`) is returned.
        """
        from nlp.lexicon.approx import normalize
        return normalize(self, phrase, limit=limit, threshold=threshold)

    def relation(self, criterion_concept_id: str, fact_concept_id: str) -> Optional[str]:
        """How a patient fact's concept satisfies a criterion's concept, or None.

        Routes: "same", "shared code", "hierarchy", "drug class", "regimen member".
        """
        from nlp.lexicon.hierarchy import relation
        return relation(self, criterion_concept_id, fact_concept_id)

    def __getstate__(self):
        # Derived lookup structures are rebuilt on demand, not pickled.
        state = dict(self.__dict__)
        state["_vocab_blocks"] = state["_vocab"] = state["_approx"] = state["_walk"] = None
        state["entries"] = {k: (v if type(v) is tuple else _pack(v)) for k, v in dict.items(self.entries)}
        return state

    def __setstate__(self, state):
        state["entries"] = EntryTable(state["entries"])
        self.__dict__.update(state)


@lru_cache(maxsize=50_000)
def _correct_word(word: str, block: tuple[str, ...]) -> Optional[tuple[str, float]]:
    if not block:
        return None
    hit = process.extractOne(word, block, scorer=fuzz.ratio, score_cutoff=88)
    if hit is None:
        return None
    return hit[0], hit[1] / 100.0
