"""ConText cue matching: rule files -> cues (modifiers) with their scopes, for the assertion layer.

The rules are medSpaCy ConText rules (JSON): the shared
``resources/assertion/context_rules.json`` (also read by the criteria parser)
and the note-only ``resources/notes/context_rules_notes.json``, whose literals
replace shared rules with the same literal. :func:`find_modifiers` is the
"fast" engine of :mod:`nlp.notes.assertion`; :func:`medspacy_rules` gives the
same rules to medSpaCy's own ConText. Every rule change and its reason is in
``resources/assertion/CHANGES.md``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional

from nlp.data import load_json
from nlp.lexicon import tokenize

RULE_FILES = ("assertion/context_rules.json", "notes/context_rules_notes.json")


@dataclass(frozen=True)
class Rule:
    """One ConText rule: a literal cue, its category and direction, and an optional scope limit in tokens."""

    literal: str
    category: str
    direction: str
    max_scope: Optional[int] = None
    ended: bool = False  # metadata "ended": the condition is over ("resolved"), not just "history of"


def _read(path: str) -> list[Rule]:
    return [Rule(r["literal"], r["category"].upper(), r["direction"].upper(), r.get("max_scope"),
                 bool((r.get("metadata") or {}).get("ended")))
            for r in load_json(path)["context_rules"] if r.get("literal") and not r.get("pattern")]


@lru_cache(maxsize=1)
def load_rules() -> tuple[Rule, ...]:
    """Shared ConText rules, then the note-only ones; a note rule's literal replaces the shared rules with it."""
    shared, notes = (_read(path) for path in RULE_FILES)
    redefined = {r.literal.lower() for r in notes}
    return tuple([r for r in shared if r.literal.lower() not in redefined] + notes)


def _words(tokens) -> list[str]:
    # Cues match the lower-cased words as written. The lexicon's plural folding would make
    # false friends of cues: "rules out" (negation) / "rule out" (possibility), "declines"
    # (refusal) / the noun "decline", "risks" / "risk factors".
    return [t.raw.lower() for t in tokens]


class _Table:
    """Rule literals keyed by their lower-cased word sequence."""

    def __init__(self, rules: Iterable[Rule]):
        self.by_key: dict[tuple[str, ...], list[Rule]] = {}
        lengths: dict[str, set[int]] = {}
        for rule in rules:
            key = tuple(_words(tokenize(rule.literal)))
            if not key:
                continue
            bucket = self.by_key.setdefault(key, [])
            if all((r.category, r.direction, r.ended) != (rule.category, rule.direction, rule.ended) for r in bucket):
                bucket.append(rule)
            lengths.setdefault(key[0], set()).add(len(key))
        # First word -> the lengths of the literals starting with it, longest first.
        self.lengths: dict[str, tuple[int, ...]] = {w: tuple(sorted(ls, reverse=True)) for w, ls in lengths.items()}
        # Word sequences that a longer literal continues: a match walk stops where none does.
        self.prefixes: set[tuple[str, ...]] = {k[:m] for k in self.by_key for m in range(1, len(k))}


@lru_cache(maxsize=1)
def _table() -> _Table:
    return _Table(load_rules())


class Modifier:
    """A cue found in a note, with its scope (character offsets) after termination."""

    __slots__ = ("start", "end", "category", "direction", "scope_start", "scope_end", "first", "last", "ended")

    def __init__(self, start, end, category, direction, scope_start, scope_end, first=-1, last=-1, ended=False):
        self.start, self.end = start, end
        self.category, self.direction = category, direction
        self.scope_start, self.scope_end = scope_start, scope_end
        self.first, self.last = first, last  # token indices [first, last)
        self.ended = ended

    @property
    def terminates(self) -> bool:
        return self.category == "TERMINATE" or self.direction == "TERMINATE"

    def limit_by(self, other: "Modifier") -> None:
        """medSpaCy's ``limit_scope``: same-category modifiers and TERMINATE cues cut a scope.

        A TERMINATE rule with direction FORWARD (the spaced dash of "h/o DVT - apixaban")
        ends forward scopes, and backward ones unless the cue directly follows it: "AKI -
        resolved" stays one statement, "Cytopenias - transfuse PRBC if Hgb <7" does not.
        """
        if self.terminates or self is other:
            return
        if not (self.scope_start < other.scope_end and other.scope_start < self.scope_end):
            return
        if not other.terminates and other.category != self.category:
            return
        forward_only = other.terminates and other.direction == "FORWARD" and other.last == self.first
        if self.direction in ("FORWARD", "BIDIRECTIONAL") and other.start > self.start:
            self.scope_end = min(self.scope_end, other.start)
        if self.direction in ("BACKWARD", "BIDIRECTIONAL") and other.end < self.end and not forward_only:
            self.scope_start = max(self.scope_start, other.end)

    def modifies(self, start: int, end: int) -> bool:
        if self.terminates or self.direction == "PSEUDO" or self.category == "PSEUDO":
            return False
        if self.start < end and start < self.end:
            return False
        return self.scope_start < end and start < self.scope_end


def _target_bounds(tokens, targets: Optional[list[tuple[int, int]]]) -> Optional[list[Optional[tuple[int, int]]]]:
    """For each token inside a target (a fact's anchor), the token range of the widest such target; else None."""
    if not targets:
        return None
    n = len(tokens)
    starts = [t.start for t in tokens]
    bounds: list[Optional[tuple[int, int]]] = [None] * n
    for a, b in targets:
        lo = k = bisect_left(starts, a)
        while k < n and tokens[k].end <= b:
            k += 1
        for m in range(lo, k):
            old = bounds[m]
            bounds[m] = (lo, k) if old is None else (min(old[0], lo), max(old[1], k))
    return bounds


_BRACKETS = frozenset("()[]")


def _parentheses(tokens, words: list[str], inside) -> list[tuple[int, int, int, int]]:
    """Matched ``( ... )`` pairs as (open index, close index, inner start, inner end), innermost first.

    Brackets inside a target ("t(15;17)", "del(17p)") are part of its name, not a parenthetical.
    """
    stack, pairs = [], []
    for k in [k for k, w in enumerate(words) if w in _BRACKETS]:
        t = tokens[k]
        if inside is not None and inside[k] is not None:
            continue
        if t.raw in "([":
            stack.append(k)
        elif stack:
            o = stack.pop()
            pairs.append((o, k, tokens[o].end, t.start))
    pairs.sort(key=lambda p: p[1] - p[0])
    return pairs


def _cuts_target(inside, i: int, j: int) -> bool:
    """Whether a cue over tokens [i, j) would end inside a target, or lie wholly inside one.

    A cue may contain whole targets, and may start inside one if it goes on past
    its end ("primary refractory to 7+3": the cue "refractory to" after the status
    fact "primary refractory").
    """
    for k in range(i, j):
        bounds = inside[k]
        if bounds is not None and (bounds[1] > j or (bounds[0] < i and bounds[1] == j)):
            return True  # ends inside a target, or is the tail of one ("old" of "58-year-old")
    return False


def _item_start(tokens, words: list[str], inside, o: int, s: int) -> int:
    """Start of the list item a bracketed comment at token ``o`` follows: back to the nearest comma
    or semicolon that has a target after it ("..., donepezil 5 mg (stopped 2025)" is about
    donepezil only; "tumor lysis syndrome, laboratory (resolved)" still reaches the syndrome)."""
    seen = False
    for k in range(o - 1, -1, -1):
        if tokens[k].start < s:
            break
        if words[k] in (",", ";") and seen:
            return tokens[k].end
        seen = seen or (inside is not None and inside[k] is not None)
    return s


def find_modifiers(tokens, sentences: list[tuple[int, int]],
                   targets: Optional[list[tuple[int, int]]] = None) -> list[Modifier]:
    """ConText modifiers of a note (tokens from ``nlp.lexicon.tokenize``), with their scopes set.

    Beyond medSpaCy's ConText (same-category and TERMINATE cues cut scopes):

    * a cue never ends inside a target (``targets``: the facts' anchors): in "no
      acute distress" the cue is "no", not the rule "no acute"; in "no change in
      vision" the pseudo-cue "no change" does not exist; in "non-small cell lung
      cancer" the "non" negates nothing (see :func:`_cuts_target`);
    * a rule's ``max_scope`` limits its scope to that many tokens (medSpaCy's
      ``max_scope``): "cultures pending" says nothing about a problem three words back;
    * a cue inside parentheses only reaches to the brackets: "furosemide (not taking),
      carvedilol" does not negate carvedilol, "hepatitis B (HBsAg negative)" does not
      negate the hepatitis.
    """
    table = _table()
    starts_with, by_key, prefixes = table.lengths, table.by_key, table.prefixes
    words = _words(tokens)
    n = len(words)
    inside = _target_bounds(tokens, targets)
    hits = []
    for i, word in enumerate(words):
        if word not in starts_with:
            continue
        key, j = (word,), i + 1
        while True:  # every literal that starts here
            rules = by_key.get(key)
            if rules is not None and not (inside is not None and _cuts_target(inside, i, j)):
                hits.append((i, j, rules))
            if j == n or key not in prefixes:
                break
            key += (words[j],)
            j += 1
    if not hits:
        return []
    # Overlapping matches: the longest wins (so PSEUDO "no increase" blocks "no"); as in medSpaCy,
    # a shorter cue survives where it does not overlap a longer one ("no" in "no prior history of").
    hits.sort(key=lambda h: (-(tokens[h[1] - 1].end - tokens[h[0]].start), h[0]))
    taken = [False] * n
    kept = []
    for i, j, rules in hits:
        if any(taken[i:j]):
            continue
        for k in range(i, j):
            taken[k] = True
        kept.append((i, j, rules))
    kept.sort()
    sent_starts = [s for s, _ in sentences]
    parens = _parentheses(tokens, words, inside)
    mods: list[Modifier] = []
    for i, j, rules in kept:
        start, end = tokens[i].start, tokens[j - 1].end
        k = bisect_right(sent_starts, start) - 1
        s, e = sentences[k] if k >= 0 else (0, end)
        back, anchor = s, i
        for o, c, inner_start, inner_end in parens:
            if o < i and j <= c:  # the innermost bracket pair around the cue
                e = min(e, inner_end)
                # "AKI (resolved)", "APL (presumptive)", "anemia (2019, resolved with iron)": a cue
                # that opens the brackets (after numbers or punctuation at most) comments on the phrase
                # before them, as if the brackets were not there; a cue later in a bracketed clause
                # ("(hold per protocol if plt <50)") stays inside it.
                if any(words[k][:1].isalpha() for k in range(o + 1, i)):
                    back = max(s, inner_start)
                else:
                    anchor = o
                    back = _item_start(tokens, words, inside, o, s)
                break
        for rule in rules:
            lo, hi = back, e
            if rule.max_scope:
                if rule.direction in ("FORWARD", "BIDIRECTIONAL") and j + rule.max_scope - 1 < n:
                    hi = min(hi, tokens[j + rule.max_scope - 1].end)
                if rule.direction in ("BACKWARD", "BIDIRECTIONAL") and anchor - rule.max_scope >= 0:
                    lo = max(lo, tokens[anchor - rule.max_scope].start)
            if rule.direction == "FORWARD":
                scope = (end, hi)
            elif rule.direction == "BACKWARD":
                scope = (lo, start)
            else:
                scope = (lo, hi)
            mods.append(Modifier(start, end, rule.category, rule.direction, *scope, i, j, rule.ended))
    # PSEUDO cues only block overlapping cues (done above); they modify and cut nothing.
    mods = [m for m in mods if m.category != "PSEUDO" and m.direction != "PSEUDO"]
    # Scopes only interact within a sentence, and only with terminators and cues of their own category.
    by_sentence: dict[int, list[Modifier]] = {}
    for m in mods:
        by_sentence.setdefault(bisect_right(sent_starts, m.start) - 1, []).append(m)
    for group in by_sentence.values():
        if len(group) < 2:
            continue
        cutters: dict[str, list[Modifier]] = {}
        terminators = []
        for m in group:
            if m.terminates:
                terminators.append(m)
            else:
                cutters.setdefault(m.category, []).append(m)
        for a in group:
            if not a.terminates:
                for b in terminators + cutters[a.category]:
                    a.limit_by(b)
    return mods


def categories_for(mods: list[Modifier], starts: list[int], start: int, end: int) -> set[str]:
    """Categories of the modifiers whose scope covers ``[start, end)`` (plus ``ENDED``, see :class:`Rule`)."""
    out = set()
    for m in mods:
        if m.modifies(start, end):
            out.add(m.category)
            if m.ended:
                out.add("ENDED")
    return out


def medspacy_rules(rules: Iterable[Rule]) -> list:
    """The rules as medSpaCy ``ConTextRule`` objects.

    medSpaCy keeps one modifier per matched span, so rules sharing a literal and a
    category but not a direction ("possible" forward, and backward over one word)
    become one BIDIRECTIONAL rule (with the wider scope); it has no forward-only
    terminator either, so those become plain TERMINATE rules.
    """
    from medspacy.context import ConTextRule

    merged: dict[tuple[str, str], dict] = {}
    for r in rules:
        key = (r.literal.lower(), r.category)
        direction = "TERMINATE" if r.category == "TERMINATE" else r.direction
        spec = merged.get(key)
        if spec is None:
            merged[key] = {"literal": r.literal, "category": r.category, "direction": direction,
                           "max_scope": r.max_scope, "ended": r.ended}
            continue
        if spec["direction"] != direction:
            spec["direction"] = "BIDIRECTIONAL"
        if spec["max_scope"] is None or r.max_scope is None:
            spec["max_scope"] = None
        else:
            spec["max_scope"] = max(spec["max_scope"], r.max_scope)
        spec["ended"] = spec["ended"] or r.ended
    return [ConTextRule(spec["literal"], spec["category"], direction=spec["direction"], max_scope=spec["max_scope"],
                        metadata={"ended": True} if spec["ended"] else None) for spec in merged.values()]
