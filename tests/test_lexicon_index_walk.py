"""The concept index's match-walk sets are derived from its synonym tables on demand;
adding a synonym later must rebuild them (see ``ConceptIndex._walk_sets``)."""

from nlp.lexicon.entries import ConceptEntry
from nlp.lexicon.index import ConceptIndex


def _entry(entry_id: str, *synonyms: str) -> ConceptEntry:
    return ConceptEntry(entry_id, entry_id, "condition", "diagnosis", "condition", synonyms=synonyms)


def test_synonyms_added_after_a_search_are_found():
    index = ConceptIndex()
    index.add(_entry("anemia", "anemia"))
    assert [m.entry.id for m in index.find("severe anemia of chronic disease")] == ["anemia"]
    index.add(_entry("acd", "anemia of chronic disease"))  # longer than a key already walked
    index.add(_entry("severe", "severe"))
    found = [(m.text, m.entry.id) for m in index.find("severe anemia of chronic disease")]
    assert found == [("severe", "severe"), ("anemia of chronic disease", "acd")]


def test_case_sensitive_and_folded_keys_both_walk():
    index = ConceptIndex()
    index.add(_entry("aml", "AML", "acute myeloid leukemia"))
    index.add(_entry("cr", "CR", "complete remission"))
    text = "AML in CR after induction; acute myeloid leukaemias; aml"
    assert [(m.text, m.entry.id) for m in index.find(text)] == [
        ("AML", "aml"), ("CR", "cr"), ("acute myeloid leukaemias", "aml")]
