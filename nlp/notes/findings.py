"""Concept facts without a measured value: diagnoses, disease status, psychiatric history,
therapies (with cycle/course counts), biomarkers (flow cytometry, mutations), consent and ECG.

Each lexicon mention whose concept type is one of these becomes a
:class:`FactRecord`; assertion (negation, family, ...) is added later by the
ConText component. Biomarkers, ECG findings, MRD and consent carry their
result in the text itself ("CD123 negative", "MRD neg", "ICF signed"), which is
read here and takes precedence over ConText negation cues.
"""


import re
from bisect import bisect_right
from functools import lru_cache
from typing import Optional

from spacy.language import Language

from nlp.data import load_json
from nlp.grammar.prefilter import fail_fast
from nlp.grammar.numbers import parse_number
from nlp.lexicon import is_absent_form
from nlp.notes.biomarkers import NEG_WORD, biomarker_record, own_result
from nlp.notes.records import FactRecord
from nlp.notes.view import NoteView, RecordExtractor

@lru_cache(maxsize=1)
def _p() -> dict[str, re.Pattern]:
    spec = load_json("notes/patterns.json")
    keys = ["count_after", "count_before", "count_before_of", "count_unit_after",
            "consent_declined", "consent_pending", "consent_signed", "consent_agreed", "ecg_normal", "ecg_abnormal"]
    return {k: re.compile(fail_fast(spec[k], re.IGNORECASE), re.IGNORECASE) for k in keys}


@lru_cache(maxsize=1)
def _status() -> dict:
    spec = load_json("notes/patterns.json")["disease_status_concepts"]
    return {"keep": frozenset(spec["keep"]), "map": dict(spec["map"])}


@lru_cache(maxsize=1)
def _also_table() -> tuple[dict, dict]:
    table = load_json("notes/patterns.json")["also_facts"]
    plain = {k: tuple(v) for k, v in table.items() if not k.startswith("_") and ":" not in k}
    worded: dict[str, list] = {}
    for key, value in table.items():
        cid, _, words = key.partition(":")
        if words:
            worded.setdefault(cid, []).append((words, tuple(value)))
    return plain, worded


def _also(entry, text: str) -> Optional[tuple[str, str]]:
    """A second fact a mention gives ("myeloid sarcoma" is also extramedullary disease)."""
    plain, worded = _also_table()
    hit = plain.get(entry.id)
    if hit is None and entry.id in worded:
        low = text.lower()
        hit = next((value for words, value in worded[entry.id] if words in low), None)
    return hit


@lru_cache(maxsize=1)
def _type_rules() -> tuple[frozenset, frozenset, tuple, tuple, frozenset]:
    spec = load_json("notes/patterns.json")["fact_types"]
    return (frozenset(spec["not_facts"]), frozenset(spec["diagnosis_not_psychiatric"]),
            tuple(spec["icd_excluded_prefixes"]), tuple(spec["symptom_prefixes"]), frozenset(spec["observations"]))


def fact_type(entry) -> Optional[str]:
    """The fact type a mention of this concept gives, or None (handled elsewhere or not a fact)."""
    if entry.measured or entry.id in ("sex", "age"):
        return None
    if entry.source == "user":
        return entry.type
    not_facts, not_psychiatric, icd_excluded, symptoms, observations = _type_rules()
    if entry.id in not_facts:
        return None
    if entry.id in observations:
        return "observation"
    t = entry.type
    if t == "psychiatric":
        return "diagnosis" if entry.id in not_psychiatric else "psychiatric"
    if t == "biomarker":
        return "biomarker"
    if t == "symptom" or t == "phenotype":  # curated signs ("tachycardic"), HPO phenotypes: not diagnoses
        return "symptom"
    if t == "disease_status" or (t == "diagnosis" and entry.category == "disease_status"):
        return "disease_status"
    if t in ("therapy", "drug_class") and entry.domain in ("drug", "procedure"):
        return "therapy"
    if t == "diagnosis":
        if entry.category in ("other", "reproductive") or entry.domain == "observation":
            return None  # smoking status, alcohol use: observations, not diagnoses
        if entry.source == "icd10cm" and any(code.startswith(icd_excluded) for _, code in entry.codes):
            # signs and symptoms are facts of their own type; other unspecific findings are not facts
            return "symptom" if any(code.startswith(symptoms) for _, code in entry.codes) else None
        return "diagnosis"
    return None


# -- therapies --------------------------------------------------------------------------
def _count(view: NoteView, mention, chain_end: int) -> Optional[int]:
    text = view.text
    s, e = view.sentence(mention.start)
    p = _p()
    m = p["count_after"].match(text, chain_end, e)
    if m:
        n = m.group("n1") or m.group("n2") or m.group("n3")
        return int(n)
    before = text[max(s, mention.start - 40):mention.start]
    m = p["count_before"].search(before)
    if m:
        value = parse_number(m.group("n"))
        return int(value) if value else None
    m = p["count_before_of"].search(before)
    if m and p["count_unit_after"].match(text, chain_end, e):
        value = parse_number(m.group("n"))
        return int(value) if value else None
    return None


def _switched_from(view: NoteView, index: int) -> bool:
    """"escalate cefepime -> meropenem": a therapy followed by an arrow and another therapy was stopped."""
    mentions = view.mentions
    if index + 1 >= len(mentions) or fact_type(mentions[index + 1].entry) != "therapy":
        return False
    gap = view.text[mentions[index].end:mentions[index + 1].start]
    return len(gap) <= 6 and bool(re.fullmatch(r"\s*(?:->|-->|=>|\u2192)\s*", gap))


def _chain_end(view: NoteView, index: int) -> int:
    """End of a run of adjacent therapy mentions ("HiDAC consolidation", "ven/aza")."""
    mentions = view.mentions
    end = mentions[index].end
    j = index + 1
    while j < len(mentions) and fact_type(mentions[j].entry) == "therapy" and re.fullmatch(r"[\s/+&-]*(?:and\s+|with\s+)?", view.text[end:mentions[j].start]):
        end = mentions[j].end
        j += 1
    return end


# -- consent -------------------------------------------------------------------------
def _consent(view: NoteView, mentions) -> list[FactRecord]:
    """Consent status from its sentence and the next one in the same paragraph: a refusal
    anywhere there wins ("ICF reviewed. Patient DECLINED participation."), otherwise the
    status word nearest the mention ("ICF signed 10/14; eligibility review pending")."""
    text = view.text
    p = _p()
    out, done = [], set()
    for mention in mentions:
        s, e = view.sentence(mention.start)
        if (s, e) in done:
            continue
        window_end = e
        following = [x for x in view.sentences if x[0] >= e]
        if following and not re.search(r"\n\s*\n", text[e:following[0][0]]):
            window_end = following[0][1]  # the next sentence of the same paragraph
        declined = list(p["consent_declined"].finditer(text, s, window_end))
        if declined:
            cue, status = declined[0], "declined"
        else:
            hits = [(m, value) for name, value in (("consent_pending", "pending"), ("consent_signed", "signed"), ("consent_agreed", "agreed"))
                    for m in p[name].finditer(text, s, window_end)]
            if not hits:
                continue
            cue, status = min(hits, key=lambda h: (abs(h[0].start() - mention.start), h[1]))
        done.add((s, e))
        start, end = min(mention.start, cue.start()), max(mention.end, cue.end())
        out.append(FactRecord("consent", mention.entry.id, start, end, (mention.start, mention.end), value=status, valued=True))
    return out


# -- ECG ---------------------------------------------------------------------------------
# (?=[et1]): the words' first letters, a quick fail at most characters (throughput).
_ECG_WORD = re.compile(r"(?=[et1])\b(?:ECG|EKG|electrocardiogra\w*|12[- ]lead|tracing)\b", re.IGNORECASE)


def _ecg_regions(view: NoteView) -> list[tuple[int, int]]:
    """ECG sections, and sentences that name an ECG (with the next one after a bare "ECG 09/18/2026")."""
    text = view.text
    p = _p()
    regions = [(sec.start, min(sec.end, sec.header_end + 400)) for sec in view.sections if sec.category == "ecg"]
    for m in _ECG_WORD.finditer(text):
        if any(a <= m.start() < b for a, b in regions):
            continue
        s, e = view.sentence(m.start())
        if not (p["ecg_abnormal"].search(text, m.end(), e) or p["ecg_normal"].search(text, s, e)):
            if e + 1 < len(text):
                e = view.sentence(e + 1)[1]
        regions.append((s, e))
    return sorted(set(regions))


def _ecg(view: NoteView) -> list[FactRecord]:
    """One ``ecg`` fact per finding phrase in ECG text: value "abnormal" ("AF w/ RVR") or "normal" ("NSR")."""
    text = view.text
    p = _p()
    out: list[FactRecord] = []
    seen: set[tuple[int, int]] = set()
    for a, b in _ecg_regions(view):
        for name, value in (("ecg_abnormal", "abnormal"), ("ecg_normal", "normal")):
            for m in p[name].finditer(text, a, b):
                if (m.start(), m.end()) in seen or any(r.start <= m.start() < r.end for r in out):
                    continue
                if value == "abnormal" and _negated_cue(text, m.start(), a):
                    continue
                seen.add((m.start(), m.end()))
                out.append(FactRecord("cardiac", "ecg", m.start(), m.end(), (m.start(), m.end()), value=value,
                                      polarity="positive" if value == "abnormal" else "negative", valued=True))
    return out


def _negated_cue(text: str, pos: int, floor: int) -> bool:
    return bool(re.search(r"\b(?:no|without|negative\s+for|resolved|no\s+new|no\s+acute)\s+(?:\w+\s+){0,2}$", text[max(floor, pos - 30):pos], re.IGNORECASE))


# -- all findings -----------------------------------------------------------------------
_SERVICE = re.compile(r"[ \t]*(?:/[ \t]*\w+[ \t]+)?(?:service|clinic|program|team|unit|department|division|center|centre|consult(?:ation)?\s+service|fellow|attending|group|foundation|society|registry)\b", re.IGNORECASE)


def _checklist_labels(text: str) -> list[tuple[int, int]]:
    """The label part (before the colon) of checklist lines "[x] Age 18-75: 60 y"."""
    out = []
    pattern = re.compile(load_json("notes/patterns.json")["checklist_line"], re.MULTILINE)
    for m in pattern.finditer(text):
        end = text.find("\n", m.end())
        end = len(text) if end < 0 else end
        colon = text.find(":", m.end(), end)
        out.append((m.start(), colon if colon >= 0 else end))
    return out


def _covered(spans: list[tuple[int, int]]):
    """A fast "is this position inside one of these spans" test (spans may overlap)."""
    if not spans:
        return lambda pos: False
    spans.sort()
    starts = [s for s, _ in spans]
    reach, top = [], -1
    for _, e in spans:
        top = max(top, e)
        reach.append(top)

    def inside(pos: int) -> bool:
        i = bisect_right(starts, pos) - 1
        return i >= 0 and reach[i] > pos
    return inside


def extract_findings(view: NoteView) -> list[FactRecord]:
    """Records for diagnoses, disease status, psychiatric history, therapies, biomarkers, consent and ECG."""
    text = view.text
    out: list[FactRecord] = []
    consent = []
    # Words inside a measured value's statement ("SpO2 98% RA") are not findings of their own.
    inside = _covered([(r.anchor[1], r.end) for r in view.records if r.valued and r.end > r.anchor[1]])
    headers = _covered([(sec.start, sec.header_end) for sec in view.sections if sec.header_end > sec.start])
    checklist = _covered(_checklist_labels(text))
    for i, mention in enumerate(view.mentions):
        entry = mention.entry
        if inside(mention.start) or (headers(mention.start) and headers(mention.end - 1)):
            continue  # "SpO2 98% RA", or a section title ("ALLERGIES:"); "ALLERGIES: CODEINE" runs past it
        if _SERVICE.match(text, mention.end):
            continue  # "Leukemia Service", "CML clinic": a service name
        if checklist(mention.start):
            # "[x] Diagnosis of AML or BPDCN: ...": a checklist item's label, not patient data; a
            # marker named in the label takes the result written after the colon.
            colon = text.find(":", mention.end, text.find("\n", mention.end) % (len(text) + 1))
            if entry.type == "biomarker" and colon > 0:
                rec = biomarker_record(view, mention, result_at=colon + 1)
                if rec is not None:
                    out.append(rec)
            continue
        if entry.type == "consent" or entry.id == "informed_consent":
            consent.append(mention)
            continue
        kind = fact_type(entry)
        if kind is None:
            continue
        concept_id = entry.id
        if kind == "disease_status":
            concept_id = _status()["map"].get(entry.id, entry.id)
            if concept_id not in _status()["keep"] and entry.source != "user":  # a user's own status term counts
                continue
        section = view.section(mention.start)
        if kind == "therapy":
            if section is not None and section.category == "allergies":
                continue
            rec = FactRecord("therapy", entry.id, mention.start, mention.end, (mention.start, mention.end))
            rec.count = _count(view, mention, _chain_end(view, i))
            rec.value = rec.count
            if _switched_from(view, i):
                rec.extra["switched"] = True
            out.append(rec)
        elif kind == "biomarker":
            rec = biomarker_record(view, mention)
            if rec is not None:
                out.append(rec)
        else:
            rec = FactRecord(kind, concept_id, mention.start, mention.end, (mention.start, mention.end))
            if is_absent_form(mention.text, entry.id):
                rec.extra["absent_form"] = True  # "afebrile": the word itself says no fever
            if kind == "disease_status" and entry.id == "mrd":
                s, e = view.sentence(mention.start)
                own = own_result(text, mention.end, e)
                if own:
                    rec.polarity, rec.value, rec.end = own["polarity"], own["polarity"], max(rec.end, own["end"])
                elif NEG_WORD.search(mention.text):
                    rec.polarity, rec.value = "negative", "negative"
                elif re.search(r"positive|pos\b|\+", mention.text, re.IGNORECASE):
                    rec.polarity, rec.value = "positive", "positive"
            out.append(rec)
        also = _also(entry, mention.text)
        if also is not None:
            out.append(FactRecord(also[0], also[1], mention.start, mention.end, (mention.start, mention.end)))
    out.extend(_consent(view, consent))
    out.extend(_ecg(view))
    return out


@Language.factory("trialmatch_findings")
def make_finding_extractor(nlp: Language, name: str) -> RecordExtractor:
    """Diagnoses, disease status, psychiatric history, therapies, biomarkers, consent and ECG."""
    return RecordExtractor(name, lambda view, doc: extract_findings(view))
