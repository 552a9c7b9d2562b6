"""TERMS.csv reading: every unusable row or file is an error naming its line; duplicates are warnings."""

from __future__ import annotations

import pytest

from nlp.lexicon.user_terms import TermsError, parse_terms, read_terms, terms_from_rows


def _problems(text: str) -> list[str]:
    with pytest.raises(TermsError) as info:
        parse_terms(text, "TERMS.csv")
    return [str(p) for p in info.value.problems]


def test_a_good_file_gives_one_concept_per_label():
    terms = parse_terms("label,synonym,category,code\n"
                        "VEXAS syndrome,VEXAS,diagnosis,ICD-10-CM:D89.89\n"
                        "VEXAS syndrome,UBA1 somatic mutation,,\n"
                        "Mylotarg,gemtuzumab ozogamicin,drug,RxNorm:1006464\n")
    by_label = {e.label: e for e in terms.entries}
    assert set(by_label) == {"VEXAS syndrome", "Mylotarg"}
    vexas = by_label["VEXAS syndrome"]
    assert vexas.id == "user:vexas_syndrome" and vexas.type == "diagnosis" and vexas.domain == "condition"
    assert vexas.codes == (("ICD-10-CM", "D89.89"),)
    assert {"vexas", "uba1 somatic mutation", "vexas syndrome"} <= set(vexas.synonyms)
    assert (by_label["Mylotarg"].type, by_label["Mylotarg"].domain) == ("therapy", "drug")
    assert not terms.problems and not terms.warnings


def test_columns_may_come_in_any_order_and_the_optional_ones_may_be_absent():
    terms = parse_terms("synonym,label\r\nfrog leg sign,Frog leg sign\r\n")
    assert [e.label for e in terms.entries] == ["Frog leg sign"]
    assert terms.entries[0].category == "diagnosis"


@pytest.mark.parametrize("text, expected", [
    ("label,synonym\n,orphan synonym\n", "line 2: missing label"),
    ("label,synonym\nVEXAS syndrome,\n", "line 2: missing synonym"),
    ("label,synonym\nVEXAS syndrome,   \n", "line 2: missing synonym"),
    ("label,synonym,category\nok,fine,diagnosis\nVEXAS,VEXAS\n", "line 3: expected 3 columns"),
    ("label,synonym\nVEXAS,VEXAS,diagnosis\n", "line 2: expected 2 columns"),
    ("label,synonym,category\nVEXAS,VEXAS,diagnsis\n", "line 2: unknown category 'diagnsis'"),
    ("label,synonym\nVEXAS,--\n", "line 2: synonym '--' has no words"),
    ("label,synonym\nVEXAS,=A1+B1\n", "line 2: synonym '=A1+B1' starts with '='"),
    ("VEXAS syndrome,VEXAS\n", "line 1: missing header"),
    ("label,synonyms\nVEXAS,VEXAS\n", "line 1: missing header"),
    ("label,synonym,notes\nVEXAS,VEXAS,x\n", "line 1: unknown column(s) 'notes'"),
    ("label,synonym\n", "line 1: no term rows after the header"),
    ("", "the file is empty"),
    ("\n  \n", "the file is empty"),
])
def test_bad_rows_and_files_are_errors_with_their_line(text, expected):
    assert any(p.startswith(expected) for p in _problems(text)), _problems(text)


def test_line_numbers_count_blank_lines_and_quoted_line_breaks():
    text = 'label,synonym\n\nok,"two\nlines"\nbad,\n'
    assert _problems(text) == ["line 5: missing synonym"]


def test_every_bad_row_is_reported_and_the_message_is_one_line():
    text = "label,synonym,category\n" + "".join(f"L{i},,diagnosis\n" for i in range(5)) + "x,y,zzz\n"
    with pytest.raises(TermsError) as info:
        parse_terms(text, "TERMS.csv")
    assert len(info.value.problems) == 6
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("terms file TERMS.csv: line 2: missing synonym; line 3: missing synonym")
    assert message.endswith("(and 3 more problems)")


def test_undecodable_bytes_name_their_line(tmp_path):
    path = tmp_path / "terms.csv"
    path.write_bytes(b"label,synonym\nok,fine\nbad,caf\xe9\n")
    with pytest.raises(TermsError) as info:
        read_terms(path)
    assert str(info.value.problems[0]).startswith("line 3: not UTF-8 text")


def test_a_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "terms.csv"
    path.write_bytes("\ufefflabel,synonym\nSjögren syndrome,sicca\n".encode("utf-8"))
    assert [e.label for e in read_terms(path).entries] == ["Sjögren syndrome"]


def test_lenient_reading_skips_bad_rows_and_reports_them():
    terms = parse_terms("label,synonym,category\nVEXAS,VEXAS,diagnosis\nbad,,diagnosis\nX,y,nope\n",
                        "TERMS.csv", strict=False)
    assert [e.label for e in terms.entries] == ["VEXAS"]
    assert [p.line for p in terms.problems] == [3, 4]


def test_duplicates_are_ignored_with_a_warning():
    terms = parse_terms("label,synonym\nVEXAS,VEXAS\nVEXAS,vexas\nVEXAS,  VEXAS  \n")
    assert [str(w) for w in terms.warnings] == ["line 3: synonym 'vexas' repeats line 2; ignored",
                                                "line 4: synonym 'VEXAS' repeats line 2; ignored"]
    assert terms.entries[0].synonyms.count("vexas") == 1


def test_a_synonym_claimed_by_two_labels_stays_with_the_first():
    terms = parse_terms("label,synonym\nCytokine release syndrome,CRS\nChronic rhinosinusitis,crs\n"
                        "Chronic rhinosinusitis,chronic sinusitis\n")
    by_label = {e.label: e for e in terms.entries}
    assert "crs" in by_label["Cytokine release syndrome"].synonyms
    assert "crs" not in by_label["Chronic rhinosinusitis"].synonyms
    assert "already belongs to 'Cytokine release syndrome' (line 2)" in str(terms.warnings[0])


def test_a_label_keeps_its_first_category():
    terms = parse_terms("label,synonym,category\nMylotarg,mylotarg,drug\nMylotarg,gemtuzumab,diagnosis\n")
    assert terms.entries[0].type == "therapy"
    assert "kept 'drug'" in str(terms.warnings[0])


def test_labels_with_the_same_slug_get_distinct_ids():
    terms = parse_terms("label,synonym\nGrade 3 CRS,g3 crs\ngrade-3 CRS,grade three crs\n")
    assert sorted(e.id for e in terms.entries) == ["user:grade_3_crs", "user:grade_3_crs_2"]


def test_a_capitalised_english_word_is_only_matched_as_written():
    terms = parse_terms("label,synonym\nAcute lymphoblastic leukemia,ALL\n")
    entry = terms.entries[0]
    assert "ALL" in entry.synonyms and "all" not in entry.synonyms
    assert "common English word" in str(terms.warnings[0])


def test_rows_from_python_are_validated_like_a_file():
    assert terms_from_rows([{"label": "VEXAS", "synonym": "VEXAS"}]).entries[0].id == "user:vexas"
    with pytest.raises(TermsError) as info:
        terms_from_rows([{"label": "VEXAS", "synonym": "VEXAS"}, {"label": "", "synonym": "x"}])
    assert str(info.value.problems[0]) == "line 3: missing label"
