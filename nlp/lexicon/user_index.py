"""The lexicon index extended with user terms (read by :mod:`nlp.lexicon.user_terms`).

:func:`with_user_terms` is what the note pipeline and the protocol parser use;
:func:`index_for_protocols` rebuilds the user concepts a parsed protocol names,
so the matcher (and its worker processes, and Spark executors) needs no terms file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional, Union

from nlp.lexicon.entries import ConceptEntry
from nlp.lexicon.index import ConceptIndex, EntryTable
from nlp.lexicon.user_terms import USER_PRIORITY, UserTerms, load_user_terms, read_terms


class _CopyOnWrite(dict):
    """A synonym table shared with the base index: adding a slot copies that key's list first."""

    def setdefault(self, key, default=None):
        if key in self:
            value = list(dict.__getitem__(self, key))
            self[key] = value
            return value
        self[key] = default
        return default


def extend_index(base: ConceptIndex, entries: Iterable[ConceptEntry]) -> ConceptIndex:
    """A new index: ``base`` plus ``entries`` (``base`` itself is left unchanged).

    The copy shares the base's synonym lists until they change, so it costs a few
    tens of milliseconds even for the full lexicon.
    """
    index = ConceptIndex(entries=EntryTable(base.entries), ci=_CopyOnWrite(base.ci), cs=_CopyOnWrite(base.cs),
                         ci_max=dict(base.ci_max), cs_max=dict(base.cs_max), aliases=dict(base.aliases))
    for entry in entries:
        if entry.id in index.entries:
            raise ValueError(f"concept id {entry.id!r} is already in the index")
        index.add(entry, priority=USER_PRIORITY)
    index.cache_key = None
    return index


def _file_key(path: Union[str, Path]) -> tuple[str, int, int]:
    p = Path(path).resolve()
    st = os.stat(p)
    return str(p), st.st_mtime_ns, st.st_size


@lru_cache(maxsize=8)
def _cached(file_key: tuple[str, int, int], base_kind: Optional[str]) -> ConceptIndex:
    from nlp.lexicon import get_index

    return extend_index(get_index(base_kind), read_terms(file_key[0]).entries)


def with_user_terms(terms: Union[str, Path, Iterable[dict], UserTerms, None],
                    base: Union[ConceptIndex, str, None] = None) -> ConceptIndex:
    """The lexicon index plus the user's terms: what both the note pipeline and the protocol parser use.

    ``terms`` is a TERMS.csv path (read strictly; the result is cached per file
    version), rows, or :class:`UserTerms`; ``base`` an index or a lexicon kind
    ("full", "curated"; default: :func:`nlp.lexicon.get_index`'s default).
    With no terms, the base index itself is returned.

        index = with_user_terms("TERMS.csv")
        protocol = parse_protocol(text, "NCT01", index=index)
    """
    from nlp.lexicon import get_index

    if terms is None:
        return base if isinstance(base, ConceptIndex) else get_index(base)
    if isinstance(terms, (str, Path)) and not isinstance(base, ConceptIndex):
        return _cached(_file_key(terms), base or os.environ.get("TRIALMATCH_LEXICON", "full"))
    base_index = base if isinstance(base, ConceptIndex) else get_index(base)
    return extend_index(base_index, load_user_terms(terms))


_DOMAIN_TYPES = {"drug": "therapy", "procedure": "therapy", "measurement": "biomarker"}


def _protocol_concepts(protocols) -> dict[str, object]:
    """User concepts (``user:`` ids) named by the protocols' constraints, by id."""
    found: dict[str, object] = {}

    def walk(criterion):
        for c in criterion.constraints:
            for concept in [c.concept] + [e.condition for e in c.exceptions]:
                if concept.id and concept.id.startswith("user:"):
                    found.setdefault(concept.id, (concept, criterion.category))
        for child in criterion.children:
            walk(child)

    for protocol in protocols:
        for criterion in protocol.criteria:
            walk(criterion)
    return found


@lru_cache(maxsize=8)
def _with_concepts(base_kind: str, key: tuple) -> ConceptIndex:
    from nlp.lexicon import get_index

    base = get_index(base_kind)
    entries = []
    for concept_id, label, domain, category, codes in key:
        if base.get(concept_id) is None:
            entries.append(ConceptEntry(id=concept_id, label=label, category=category or "other",
                                        type=_DOMAIN_TYPES.get(domain or "", "diagnosis"), domain=domain or "condition",
                                        codes=codes, synonyms=(label.lower(),), source="user"))
    return extend_index(base, entries) if entries else base


def index_for_protocols(protocols, base_kind: Optional[str] = None) -> ConceptIndex:
    """The lexicon index plus the user concepts the protocols name.

    A protocol parsed with a terms file carries its user concepts (id, label,
    domain, codes) in its constraints, so the matcher knows them without the file:
    the same works in worker processes and on Spark executors, which only receive
    the protocols. Without user concepts this is the lexicon index itself.
    """
    from nlp.lexicon import get_index

    kind = base_kind or os.environ.get("TRIALMATCH_LEXICON", "full")
    found = _protocol_concepts(protocols)
    if not found:
        return get_index(kind)
    key = tuple(sorted((cid, c.label, c.domain, cat, tuple((code.system, code.code) for code in c.codes))
                       for cid, (c, cat) in found.items()))
    return _with_concepts(kind, key)
