"""One call for both sides: every concept mention in a text.

``find_concepts`` = the index's phrase matches, then the general
word-formation rules (:mod:`nlp.lexicon.patterns`), then short forms defined
in the same document (:mod:`nlp.lexicon.abbreviations`). The protocol parser
and the note extractor both use it.
"""

from __future__ import annotations

from typing import Optional

from nlp.lexicon.index import ConceptIndex, Mention, Token, tokenize


def find_concepts(text: str, index: Optional[ConceptIndex] = None, tokens: Optional[list[Token]] = None,
                  fuzzy: bool = True, patterns: bool = True, abbreviations: bool = True) -> list[Mention]:
    """All concept mentions of ``text`` (exact spans, non-overlapping, in order)."""
    if index is None:
        from nlp.lexicon import get_index
        index = get_index()
    tokens = tokens if tokens is not None else tokenize(text)
    mentions = index.find(text, fuzzy=fuzzy, tokens=tokens)
    if patterns:
        from nlp.lexicon.patterns import pattern_mentions
        mentions = pattern_mentions(index, text, tokens, mentions)
    if abbreviations:
        from nlp.lexicon.abbreviations import abbreviation_mentions
        mentions = sorted(mentions + abbreviation_mentions(text, index, mentions, tokens), key=lambda m: (m.start, m.end))
    return mentions

