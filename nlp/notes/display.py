"""Looking at extracted facts: a displaCy-style HTML view of one note, and a compact table.

``render_note_html(text, facts)`` returns a self-contained page (inline CSS, no
scripts, no external resources) with each fact's evidence highlighted and
labelled by type, concept, value and assertion. Every piece of note text is
HTML-escaped. Nested or overlapping evidence (BP gives a systolic and a
diastolic fact on one span) is shown once, with all its labels.

``facts_table(facts)`` returns a fixed-width text table (fact type, concept,
value, unit, assertion, date, evidence) for ``trialmatch extract --format table``;
``facts_rows(facts)`` gives the same rows as dicts (for a DataFrame).
"""

from __future__ import annotations

import html
from typing import Iterable, Optional

from nlp.schema import Fact

_COLORS = {
    "diagnosis": "#fde2e1", "disease_status": "#fbd5b5", "blasts": "#f9c6d0", "biomarker": "#e3d7ff",
    "therapy": "#d7ecff", "lab": "#d9f2e3", "vital": "#e6f4c7", "cardiac": "#ffe7c2",
    "performance_status": "#d2f1f4", "psychiatric": "#f4d9f1", "life_expectancy": "#ececec",
    "consent": "#fff3b0", "demographic": "#e0e0ff",
}
_ASSERTION_STYLE = {"absent": "text-decoration:line-through;", "family": "font-style:italic;",
                    "hypothetical": "border-style:dashed;", "possible": "border-style:dotted;",
                    "historical": "opacity:.75;"}

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#222}
h1{font-size:18px}
.note{white-space:pre-wrap;line-height:2.3;font-family:Menlo,Consolas,monospace;font-size:13px;
      border:1px solid #ddd;border-radius:6px;padding:16px;background:#fff}
mark{padding:2px 3px;border-radius:4px;border:1px solid #999}
mark .lbl{font-size:9px;font-weight:700;margin-left:4px;vertical-align:middle;font-family:sans-serif;
          text-transform:uppercase;letter-spacing:.3px;color:#333}
.legend span{display:inline-block;margin:2px 6px 2px 0;padding:1px 6px;border-radius:4px;font-size:12px}
table{border-collapse:collapse;margin-top:16px;font-size:12px}
td,th{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
"""


def _value(f: Fact) -> str:
    if f.value is None:
        return ""
    v = f.value
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = f"{v}"
    if f.value2 is not None:
        v2 = int(f.value2) if float(f.value2).is_integer() else f.value2
        text += f"-{v2}"
    if f.comparator and f.comparator != "between":
        text = f"{f.comparator}{text}"
    return text


def _label(f: Fact) -> str:
    parts = [f.type or "", f.concept.label]
    value = _value(f)
    if value:
        parts.append(value + (f" {f.unit}" if f.unit else ""))
    if f.assertion != "present":
        parts.append(f.assertion)
    return " · ".join(p for p in parts if p)


def render_note_html(text: str, facts: Iterable[Fact], title: Optional[str] = None) -> str:
    """A self-contained HTML page of one note with its facts highlighted (all note text escaped)."""
    facts = sorted(facts, key=lambda f: (f.span[0], -f.span[1]))
    # Outermost spans win; facts whose span lies inside one shown are listed in its label.
    groups: list[tuple[int, int, list[Fact]]] = []
    for f in facts:
        s, e = f.span
        if not (0 <= s < e <= len(text)):
            continue
        if groups and s < groups[-1][1]:
            groups[-1][2].append(f)
            continue
        groups.append((s, e, [f]))
    out, pos = [], 0
    for s, e, members in groups:
        out.append(html.escape(text[pos:s]))
        head = members[0]
        color = _COLORS.get(head.type or "", "#eee")
        style = f"background:{color};" + _ASSERTION_STYLE.get(head.assertion, "")
        tip = "; ".join(_label(m) for m in members)
        label = html.escape(_label(head) + (f" (+{len(members) - 1})" if len(members) > 1 else ""))
        out.append(f'<mark style="{style}" title="{html.escape(tip, quote=True)}">{html.escape(text[s:e])}'
                   f'<span class="lbl">{label}</span></mark>')
        pos = e
    out.append(html.escape(text[pos:]))
    legend = "".join(f'<span style="background:{c}">{html.escape(t)}</span>' for t, c in _COLORS.items())
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row.values()) + "</tr>"
        for row in facts_rows(facts))
    header = "".join(f"<th>{html.escape(h)}</th>" for h in _COLUMNS)
    heading = html.escape(title or "note")
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{heading}</title>"
            f"<style>{_CSS}</style></head><body><h1>{heading}</h1>"
            f"<div class=\"legend\">{legend} · struck through: absent · italic: family · dashed: hypothetical · "
            f"dotted: possible · faded: historical</div>"
            f"<div class=\"note\">{''.join(out)}</div>"
            f"<table><tr>{header}</tr>{rows}</table></body></html>\n")


_COLUMNS = ("note", "type", "concept", "value", "unit", "assertion", "date", "evidence")


def facts_rows(facts: Iterable[Fact]) -> list[dict]:
    """One plain dict per fact (the table's columns), in the order given."""
    return [{"note": f.note_id, "type": f.type or "", "concept": f.concept.label, "value": _value(f),
             "unit": f.unit or "", "assertion": f.assertion, "date": f.date or "",
             "evidence": " ".join(f.text.split())} for f in facts]


def facts_table(facts: Iterable[Fact], max_evidence: int = 48) -> str:
    """A fixed-width text table of facts (for ``--format table``)."""
    rows = facts_rows(facts)
    for r in rows:
        if len(r["evidence"]) > max_evidence:
            r["evidence"] = r["evidence"][:max_evidence - 1] + "…"
    widths = {c: max([len(c)] + [len(str(r[c])) for r in rows]) for c in _COLUMNS}
    line = "  ".join(c.ljust(widths[c]) for c in _COLUMNS)
    out = [line, "  ".join("-" * widths[c] for c in _COLUMNS)]
    out += ["  ".join(str(r[c]).ljust(widths[c]) for c in _COLUMNS) for r in rows]
    return "\n".join(s.rstrip() for s in out) + "\n"
