"""A note tokenizer that shares one pass over the text with the concept index.

spaCy's English tokenizer was the largest single cost of the notes pipeline,
and the concept index then tokenized the same text again with its own rules.
:class:`NoteTokenizer` makes the Doc's tokens from the concept index's word
pattern (``nlp.lexicon.index``): runs of letters/digits, single punctuation
marks, and whitespace tokens where the whitespace is not a single space (as
spaCy does). The same pass yields the index's word tokens (in-word hyphens,
slashes and possessives dropped, words folded with ``normalize_word``), which
are left on ``doc.user_data`` for the concept component, so the text is
tokenized once. ``doc.text`` equals the input exactly.

Use ``load_pipeline(tokenizer="spacy")`` to keep spaCy's own tokenizer.
"""

from __future__ import annotations

import re
from collections import namedtuple
from functools import partial
from typing import Callable

from spacy.tokens import Doc
from spacy.util import registry
from spacy.vocab import Vocab

from nlp.lexicon.index import _CONNECTORS, _TOKEN_RE, normalize_word

# Same fields as nlp.lexicon.Token; a tuple is much cheaper to make than the frozen dataclass.
LexToken = namedtuple("LexToken", "start end raw norm")

_APOSTROPHES = ("'", "\u2019")


_PIECES = re.compile("(" + _TOKEN_RE.pattern + r")(\s*)")
_as_lex = partial(tuple.__new__, LexToken)  # a (start, end, raw, norm) tuple as a LexToken, at C speed


def tokenize_note(text: str) -> tuple[list[str], list[bool], list[LexToken], list[int]]:
    """Doc words and spaces, the concept index's tokens, and each index token's Doc token number.

    One ``findall`` gives every token with the whitespace after it; positions are
    running sums, which is cheaper than asking each match object.
    """
    words: list[str] = []
    spaces: list[bool] = []
    lex: list[LexToken] = []
    lex_doc: list[int] = []
    append_word, append_space, append_lex, append_doc = words.append, spaces.append, lex.append, lex_doc.append
    lead = len(text) - len(text.lstrip())
    if lead:
        append_word(text[:lead])
        append_space(False)
    pieces = _PIECES.findall(text, lead)
    pos = lead
    prev_apostrophe = False
    prev_gap = True  # whitespace (or the text start) before the current token
    last = len(pieces) - 1
    for i, (raw, gap) in enumerate(pieces):
        s = pos
        e = s + len(raw)
        pos = e + len(gap)
        append_word(raw)
        if gap:
            if gap[0] == " ":
                append_space(True)
                if len(gap) > 1:
                    append_word(gap[1:])
                    append_space(False)
            else:
                append_space(False)
                append_word(gap)
                append_space(False)
        else:
            append_space(False)
        doc_index = len(words) - (2 if gap and (gap[0] != " " or len(gap) > 1) else 1)
        if (raw in _CONNECTORS and not prev_gap and not gap and i < last
                and text[s - 1].isalnum() and pieces[i + 1][0][0].isalnum()):
            prev_apostrophe = raw in _APOSTROPHES
            prev_gap = False
            continue
        prev_gap = bool(gap)
        if prev_apostrophe and raw.lower() == "s":
            prev_apostrophe = False
            continue
        prev_apostrophe = False
        append_lex(_as_lex((s, e, raw, normalize_word(raw))))
        append_doc(doc_index)
    return words, spaces, lex, lex_doc


class NoteTokenizer:
    """spaCy tokenizer: text -> Doc, with the concept index's tokens on ``doc.user_data``."""

    def __init__(self, vocab: Vocab):
        self.vocab = vocab

    def __call__(self, text: str) -> Doc:
        words, spaces, lex, lex_doc = tokenize_note(text)
        doc = Doc(self.vocab, words=words, spaces=spaces)
        doc.user_data["trialmatch_text"] = text
        doc.user_data["trialmatch_lexicon_tokens"] = (lex, lex_doc)
        return doc

    def pipe(self, texts, batch_size: int = 1000):
        for text in texts:
            yield self(text)

    # The tokenizer has no state of its own; these keep nlp.to_disk / from_disk working.
    def to_bytes(self, **kwargs) -> bytes:
        return b""

    def from_bytes(self, data: bytes, **kwargs) -> "NoteTokenizer":
        return self

    def to_disk(self, path, **kwargs) -> None:
        return None

    def from_disk(self, path, **kwargs) -> "NoteTokenizer":
        return self


@registry.tokenizers("trialmatch_tokenizer")
def create_note_tokenizer() -> Callable:
    """Factory for ``[nlp.tokenizer] @tokenizers = "trialmatch_tokenizer"``."""
    def make(nlp) -> NoteTokenizer:
        return NoteTokenizer(nlp.vocab)
    return make
