"""Biomarker results in notes: flow cytometry markers, IHC, mutations, fusions and karyotypes.

A marker mention takes its result from, in order: the words right after it
("CD117+", "CD34 neg", "CD123 (bright) 87% of blasts", "NPM1 ... VAF 41%",
"TP53: no pathogenic variant"); a list it belongs to ("Positive: CD34, CD117",
"negative for: CD3, CD19", a header line "This population expresses:"); a
result shared by a run of markers ("FLT3 and NPM1 not detected"); or its own
words ("NPM1-mutated", a karyotype abnormality such as "del(17p)").
A percentage is the value (unit %); otherwise the value is "positive" or
"negative" (a negative result is a present fact with value "negative").
Markers that define a gate ("CD45 dim / low SSC", "CD34+/CD117+ blasts"),
statements about control populations ("internal control lymphocytes show
CD123") and markers named without a result (tests ordered, trial names) give
no fact. Patterns live in ``resources/notes/patterns.json``.
"""

import re
from functools import lru_cache
from typing import Optional

from nlp.data import load_json
from nlp.grammar.comparisons import find_comparisons
from nlp.grammar.prefilter import fail_fast
from nlp.notes.records import FactRecord
from nlp.notes.view import NoteView

_INTENSITY = r"(?:bright|dim|partial|partially|heterogeneous|variable|weak|moderate|strong|uniform|subset)"
_ADVERBS = r"(?:strongly|weakly|uniformly|partially|brightly|dimly|heterogeneously|variably|diffusely|focally)"
_POS = r"(?:\+{1,3}|positive|pos\b|expressed|expressing|detected|present|mutated|mutant|mut\b|mutation(?:\s+detected)?|amplified|rearranged|rearrangement)"
_NEG = r"(?:-(?![-\dA-Za-z>])|\u2212|negative|neg\b|not\s+(?:expressed|detected|identified|seen|mutated|present)|absent|undetectable|wild[- ]?type|\bwt\b|unmutated|non-?mutated|no\s+(?:pathogenic\s+)?(?:variants?|mutations?|alterations?)(?:\s+(?:detected|identified|found))?)"
# What may sit between a marker and its result: a synonym or note in brackets ("CD303 (BDCA-2),",
# "BCR::ABL1 (IS)"), or a variant ("NPM1 c.860_863dupTCTG (type A),", "DNMT3A R882H,").
_ASIDE = (r"(?:[ \t]*\((?![^)\n]*\d\s*%)(?!\s*" + _INTENSITY + r"\s*\))[^()\n]{1,24}\)"
          r"|[ \t]+(?:[cp]\.[^\s,;()]+|[A-Z]\d{1,4}(?:[A-Z]|fs|\*)\w*|exon\s+\d+\S*)"
          r"|[ \t]+(?:by[ \t]+)?(?:IHC|FCM|flow(?:[ \t]+cytometry)?|FISH|PCR|RT-PCR|NGS|immunohistochemistry)\b[ \t]*:?)*[ \t]*,?")
_RESULT = re.compile(
    r"(?P<lead>" + _ASIDE + r"[ \t]*(?:[:=]|-(?=[A-Za-z])|\b(?:is|was|are|were)\b)?[ \t]*)"
    r"(?:\(\s*(?P<i1>" + _INTENSITY + r")\s*\)[ \t]*)?"
    r"(?:(?P<adv>(?:" + _ADVERBS + r"[ \t,]*(?:and[ \t]+)?)+))?"
    r"(?:(?P<pos>" + _POS + r")|(?P<neg>" + _NEG + r")|(?P<i2>" + _INTENSITY + r")(?![A-Za-z]))?"
    r"(?:[ \t]*(?:/[ \t]*)?(?P<i3x>neg(?:ative)?\b))?"
    r"(?:[ \t]*\(\s*(?P<i3>" + _INTENSITY + r")[^()\n]{0,20}\))?",
    re.IGNORECASE)
_PCT_LEAD = re.compile(r"[ \t,]*(?P<open>\()?[ \t]*(?:on|in|of|=|:|VAF|variant\s+allele\s+frequency|allele\s+frequency)?[ \t]*[:=]?[ \t]*(?=[<>≤≥~]?[ \t]*\d)", re.IGNORECASE)
_PCT_TAIL = re.compile(r"[ \t]*(?:of[ \t]+(?:the[ \t]+)?(?:blasts|cells|events|abnormal[ \t]+cells|neoplastic[ \t]+cells|leukemic[ \t]+blasts|gated[ \t]+cells|CD45\+?[ \t]+events|total[ \t]+events))?[ \t]*\)?", re.IGNORECASE)
_LIST_FILLER = re.compile(r"(?:[\s,;:/&+()]|\([^()\n]{0,40}\)|\band\b|\bor\b|\bof\b|\bblasts\b|\bcells\b|\bexpression\b|"
                          + _INTENSITY + r"|" + _ADVERBS + r"|" + _POS + r"|" + _NEG + r"|[<>≤≥~]?\d+(?:\.\d+)?\s*%|\+|-)*",
                          re.IGNORECASE)
_MUT_WORD = re.compile(r"mut|positive|\+|ITD|TKD|rearrang", re.IGNORECASE)
NEG_WORD = re.compile(r"negative|neg\b|wild", re.IGNORECASE)


@lru_cache(maxsize=1)
def _p() -> dict[str, re.Pattern]:
    spec = load_json("notes/patterns.json")
    keys = ["positive_for", "negative_for", "marker_list_positive", "marker_list_negative", "control_population",
            "tumor_population"]
    return {k: re.compile(fail_fast(spec[k], re.IGNORECASE), re.IGNORECASE) for k in keys}


def own_result(text: str, start: int, limit: int) -> Optional[dict]:
    m = _RESULT.match(text, start, limit)
    if m is None:
        return None
    intensity = m.group("i1") or m.group("i2") or m.group("i3")
    polarity = "positive" if m.group("pos") or intensity else None
    if m.group("neg") or (m.group("i3x") and not m.group("pos")):
        polarity = "negative" if not (m.group("i2") and m.group("i3x")) else "negative"
    end = m.end() if (polarity or intensity) else m.end("lead")
    out = {"polarity": polarity, "qualifier": intensity.lower() if intensity else None, "end": end}
    lead = _PCT_LEAD.match(text, end, limit)
    if lead:
        comps = find_comparisons(text[lead.end():min(limit, lead.end() + 14)])
        if comps and comps[0].start == 0 and comps[0].unit == "%" and comps[0].value <= 100:
            c = comps[0]
            tail = _PCT_TAIL.match(text, lead.end() + c.end, limit)
            out.update(value=c.value, comparator=c.comparator, unit="%")
            out["end"] = tail.end() if tail else lead.end() + c.end
            if not lead.group("open") and tail and text[out["end"] - 1:out["end"]] == ")":
                out["end"] -= 1
            if polarity is None:
                out["polarity"] = "negative" if c.comparator in ("<", "<=") and c.value <= 5 else "positive"
    if out["polarity"] is None:
        return None
    return out


def _list_result(view: NoteView, mention, s_start: int) -> Optional[str]:
    """"positive for CD34, CD117 and CD123", "Negative: CD14, CD64": the list's polarity."""
    text = view.text
    p = _p()
    best = None
    for name, polarity in (("positive_for", "positive"), ("negative_for", "negative"),
                           ("marker_list_positive", "positive"), ("marker_list_negative", "negative")):
        for m in p[name].finditer(text, s_start, mention.start):
            if best is None or m.end() > best[0]:
                best = (m.end(), polarity)
    if best is None:
        above = _list_header_above(view, mention)
        return above[1] if above else None
    gap = text[best[0]:mention.start]
    for other in view.mentions_between(best[0], mention.start):
        gap = gap.replace(other.text, " ", 1)
    return best[1] if _LIST_FILLER.fullmatch(gap) else None


def _populations(view: NoteView, s: int, e: int) -> tuple[list[int], list[int]]:
    """Midpoints of control-population and tumour-population phrases in a sentence (cached per sentence)."""
    key = ("populations", s)
    hit = view.cache.get(key)
    if hit is None:
        p = _p()
        controls = [(m.start() + m.end()) // 2 for m in p["control_population"].finditer(view.text, s, e)]
        tumors = [(m.start() + m.end()) // 2 for m in p["tumor_population"].finditer(view.text, s, e)] if controls else []
        hit = view.cache[key] = (controls, tumors)
    return hit


_LIST_HEADER = re.compile(r"(?P<pos>\b(?:express(?:es|ing)?|positive(?:\s+for)?|pos(?:\s+for)?)|\+)\s*:\s*$"
                          r"|(?P<neg>\b(?:negative(?:\s+for)?|neg(?:\s+for)?|lack(?:s|ing)?|not\s+expressed)|-)\s*:\s*$",
                          re.IGNORECASE)


def _list_header_above(view: NoteView, mention) -> Optional[tuple[int, str]]:
    """A marker on its own list line under "This population expresses:" takes the header's polarity."""
    text = view.text
    line_start = text.rfind("\n", 0, mention.start) + 1
    if text[line_start:mention.start].strip(" \t-*\u2022"):
        return None  # the marker does not open its line
    pos = line_start - 1
    for _ in range(12):  # walk up the list
        if pos <= 0:
            return None
        prev_start = text.rfind("\n", 0, pos) + 1
        line = text[prev_start:pos]
        m = _LIST_HEADER.search(line)
        if m:
            return pos, ("positive" if m.group("pos") else "negative")
        if not line.strip() or not view.mentions_between(prev_start, pos):
            return None
        pos = prev_start - 1
    return None


def _is_control(view: NoteView, mention) -> bool:
    """A result about control populations (normal pDCs, basophils) rather than the blasts."""
    s, e = view.sentence(mention.start)
    controls, tumors = _populations(view, s, e)
    if not controls:
        return False
    nearest_control = min(abs(c - mention.start) for c in controls)
    nearest_tumor = min((abs(t - mention.start) for t in tumors), default=None)
    return nearest_tumor is None or nearest_control < nearest_tumor


_IHC = re.compile(r"\bIHC\b|immunohisto|immunostain", re.IGNORECASE)
_FLOW = re.compile(r"\bflow\b|\bFCM\b|cytometr|immunophenotyp", re.IGNORECASE)
_FLOW_TITLE = re.compile(r"flow\s+cytometry", re.IGNORECASE)


def _method(view: NoteView, pos: int) -> Optional[str]:
    """How a marker was tested: IHC or flow cytometry (sentence, then section, then the report title)."""
    s, e = view.sentence(pos)
    key = ("method", s)
    if key in view.cache:
        return view.cache[key]
    text = view.text
    found = None
    if _IHC.search(text, s, e):
        found = "IHC"
    elif _FLOW.search(text, s, e):
        found = "flow cytometry"
    else:
        section = view.section(pos)
        if (section is not None and section.category == "flow_cytometry") or _FLOW_TITLE.search(text, 0, 200):
            found = "flow cytometry"
    view.cache[key] = found
    return found


@lru_cache(maxsize=1)
def _abnormalities() -> frozenset[str]:
    return frozenset(load_json("notes/patterns.json")["abnormality_biomarkers"])


_GATING = re.compile(r"\b(?:gat(?:e|ed|ing)|side[- ]?scatter|SSC|FSC)\b", re.IGNORECASE)
_SLASH_MARKER = re.compile(r"[+-]?\s*/\s*(?:CD\d|HLA|c?CD)", re.IGNORECASE)
_POPULATION_AFTER = re.compile(r"[+-]?\s*(?:myeloid\s+|lymphoid\s+)?(?:events|cells|blasts|population|region)\b", re.IGNORECASE)


def _is_gating(view: NoteView, mention) -> bool:
    """Markers that define a gate or population ("CD34+/CD117+ myeloid blasts", "CD45 dim / low SSC")."""
    text = view.text
    after = text[mention.end:mention.end + 30]
    before = text[max(0, mention.start - 12):mention.start]
    if _SLASH_MARKER.match(after) or re.search(r"[+-]?\s*/\s*$", before) and re.search(r"CD\d|HLA", before):
        return True
    if re.search(r"\bof\s*$", before) and _POPULATION_AFTER.match(after):
        return True  # "29% of CD45+ events"
    s, e = view.sentence(mention.start)
    gate = _GATING.search(text, s, e)
    return bool(gate) and abs(gate.start() - mention.start) < 40


def _shared_result(view: NoteView, mention, e: int) -> Optional[str]:
    """"FLT3 and NPM1 not detected": a result after a run of markers applies to each of them."""
    text = view.text
    pos, last = mention.end, None
    for other in view.mentions_between(mention.end, min(e, mention.end + 80)):
        if other.entry.type != "biomarker" or not re.fullmatch(r"[\s,/]*(?:and|or|&)?[\s,/]*", text[pos:other.start]):
            break
        pos, last = other.end, other
    if last is None:
        return None
    own = own_result(text, pos, e)
    if own and "value" not in own:
        return own["polarity"]
    if NEG_WORD.search(last.text):  # "ASXL1/SRSF2/RUNX1 mutations": the last name carries the result
        return "negative"
    return "positive" if _MUT_WORD.search(last.text) else None


_RESULT_BEFORE = re.compile(r"(?:\b(?P<pos>positive|pos|reactive)|\b(?P<neg>negative|neg|non-?reactive))[ \t]*$", re.IGNORECASE)


def _result_before(view: NoteView, mention, s: int) -> Optional[str]:
    """"a positive ANA and anti-dsDNA", "Negative DAT": a result word right before a run of markers.
    A word that is the result of an earlier marker ("CD13 positive CD33") is not taken."""
    text = view.text
    first = mention
    for other in reversed(view.mentions_between(s, mention.start)):
        if other.entry.type != "biomarker" or not re.fullmatch(r"[\s,/]*(?:and|or|&)?[\s,/]*", text[other.end:first.start]):
            break
        first = other
    m = _RESULT_BEFORE.search(text, s, first.start)
    if m is None:
        return None
    if any(o.entry.type == "biomarker" and re.fullmatch(r"[\s:]*", text[o.end:m.start()])
           for o in view.mentions_between(s, m.start())):
        return None
    return "positive" if m.group("pos") else "negative"


def biomarker_record(view: NoteView, mention, result_at: Optional[int] = None) -> Optional[FactRecord]:
    text = view.text
    s, e = view.sentence(mention.start)
    if _is_control(view, mention) or _is_gating(view, mention):
        return None
    own = own_result(text, result_at if result_at is not None else mention.end, max(e, view.line(mention.start)[1]))
    rec = FactRecord("biomarker", mention.entry.id, mention.start, mention.end, (mention.start, mention.end))
    if own and result_at is not None:  # the result stands apart from the marker: it is the evidence
        rec.start, rec.end = result_at + (len(text[result_at:own["end"]]) - len(text[result_at:own["end"]].lstrip())), own["end"]
    if own:
        rec.end = max(rec.end, own["end"])
        rec.polarity, rec.qualifier = own["polarity"], own["qualifier"]
        if "value" in own:
            rec.value, rec.comparator, rec.unit = own["value"], own["comparator"], "%"
        else:
            rec.value = own["polarity"]
    else:
        listed = _list_result(view, mention, s) or _shared_result(view, mention, e) or _result_before(view, mention, s)
        if listed:
            rec.polarity, rec.value = listed, listed
        elif NEG_WORD.search(mention.text):
            rec.polarity, rec.value = "negative", "negative"
        elif _MUT_WORD.search(mention.text) or mention.entry.id in _abnormalities():
            # "NPM1-mutated", "del(17p)", "PML::RARA fusion": naming the abnormality reports it;
            # a negation cue ("no del(17p)") turns it negative later, in the assertion step.
            rec.polarity, rec.value = "positive", "positive"
            rec.extra["negatable"] = True
    if rec.polarity is None:
        return None  # a marker named without a result: ordered, pending, a target or a trial name
    rec.method = _method(view, mention.start)
    rec.valued = True
    return rec
