"""review.html: the comparison with manual chart review, for clinicians and study teams.

Self-contained (CSS inline, plots as base64 PNG, no script, no external asset)
and escaped: every piece of text from the inputs goes through :func:`_e`.
It shares the look of the screening report (``matcher.report.html.CSS``).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Optional

from matcher.report.html import CSS as REPORT_CSS
from matcher.report.describe import readable
from matcher.review import plots
from matcher.review.worklist import pretty

CSS = REPORT_CSS + """
main{max-width:1180px;margin:0 auto} section{margin:30px 0 8px}
h2.sec{font-size:19px;margin:0 0 6px;padding-bottom:4px;border-bottom:2px solid #dde1e7}
p.lead{margin:4px 0 12px;color:#3a4252;max-width:900px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(200px,1fr));gap:12px;margin:16px 0}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:12px 14px}
.card .k{font-size:13px;font-weight:600;color:#5b6475}
.card .v{font-size:28px;font-weight:700;margin:2px 0}
.card .d{font-size:13px;color:#3a4252}
.figs{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.fig{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:10px}
.fig img{display:block;max-width:100%;height:auto}
table.data{width:100%;margin:8px 0} table.data td.num,table.data th.num{text-align:right;white-space:nowrap}
table.data tr:nth-child(even) td{background:#f8f9fb}
table.work td:first-child{width:42%}
.crit-id{font-family:ui-monospace,Menlo,monospace;font-size:12px;white-space:nowrap}
.band{font-size:12px;color:#5b6475}
.who{font-size:12px;color:#5b6475;margin-top:2px}
.sev-opposite{border-left:4px solid #c2410c} .sev-undecided{border-left:4px solid #d6a700}
.note-list li{margin:2px 0} td.ci{white-space:nowrap} .more{font-size:12px;color:#5b6475;margin:2px 0 0 11px}
"""


def _e(text) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def pct(x: Optional[float]) -> str:
    """0.875 -> '87.5%', 1.0 -> '100%', None -> '–'."""
    if x is None:
        return "–"
    s = f"{100.0 * x:.1f}".rstrip("0").rstrip(".")
    return s + "%"


def num(x: Optional[float], digits: int = 2) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def kappa_band(k: Optional[float]) -> str:
    """Landis & Koch (1977) words for kappa, which clinicians know from the literature."""
    if k is None:
        return "not defined"
    for limit, word in ((0.0, "poor"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial")):
        if k <= limit:
            return word
    return "almost perfect"


def ci_text(ci) -> str:
    low, high = ci
    return "–" if low is None else f"{low:.2f}–{high:.2f}"


def summary_table(agreement) -> str:
    """The agreement table (verdict, pooled criteria, each criterion) as an HTML table."""
    out = ["<table class='data'><tr><th>item</th><th>requirement</th><th class='num'>n</th><th class='num'>agreement</th>"
           "<th class='num'>κ</th><th>κ 95% CI</th><th class='num'>disagreements</th></tr>"]
    for r in agreement.summary_rows():
        short = readable(r["text"], 110)
        out.append(f"<tr><td class='crit-id'>{_e(r['item'])}</td><td>{_e(short)}</td><td class='num'>{r['n']}</td>"
                   f"<td class='num'>{pct(r['accuracy'])}</td><td class='num'>{num(r['kappa'])}</td>"
                   f"<td class='ci'>{_e(ci_text((r['kappa_ci_low'], r['kappa_ci_high'])))}</td><td class='num'>{r['disagreements']}</td></tr>")
    out.append("</table>")
    return "".join(out)


def render_review(agreement, title: Optional[str] = None) -> str:
    """The whole page."""
    trials = agreement.inputs.get("trials") or []
    title = title or "Agreement with manual chart review"
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title>"
             f"<style>{CSS}</style></head><body><main>"]
    parts.append(f"<h1>{_e(title)}</h1><div class='sub'>{_e(_subtitle(agreement, trials))}</div>")
    parts.append(_cards(agreement))
    parts.append(_verdict_section(agreement))
    parts.append(_criteria_section(agreement))
    parts.append(_reviewers_section(agreement))
    parts.append(_worklist_section(agreement))
    parts.append(_unmatched_section(agreement))
    parts.append(_matches_section(agreement))
    parts.append(_method_section(agreement))
    parts.append("</main></body></html>")
    return "".join(parts)


def _subtitle(a, trials) -> str:
    bits = [f"trial {', '.join(trials)}" if trials else "no trial"]
    if a.inputs.get("results"):
        bits.append(f"tool results: {Path(a.inputs['results']).name}")
    if a.inputs.get("manual"):
        bits.append(f"manual review: {Path(a.inputs['manual']).name}")
    names = a.reviewers.get("names") or []
    bits.append(f"reviewer{'s' if len(names) != 1 else ''}: {', '.join(names) or 'none'}")
    return " · ".join(bits)


def _card(key: str, value: str, detail: str) -> str:
    return f"<div class='card'><div class='k'>{_e(key)}</div><div class='v'>{_e(value)}</div><div class='d'>{_e(detail)}</div></div>"


def _cards(a) -> str:
    v, c = a.verdict, a.criteria["overall"]
    cards = []
    if v["n"]:
        agree = sum(row[i] for i, row in enumerate(v["confusion"]["matrix"]))
        cards.append(_card("Verdict agreement", pct(v["accuracy"]), f"{agree} of {v['n']} patients"))
        cards.append(_card("Verdict κ", num(v["kappa"]), f"95% CI {ci_text(v['kappa_ci'])} · {kappa_band(v['kappa'])}"))
    else:
        cards.append(_card("Verdict agreement", "–", "the manual review has no verdict rows"))
    if c["n"]:
        cards.append(_card("Criteria agreement", pct(c["accuracy"]), f"κ {num(c['kappa'])} over {c['n']} criterion labels"))
    ws = (v.get("work_saved") or {}).get("at_verdict")
    if ws and ws["work_saved"] is not None:
        missed = ws["eligible_missed"]
        cards.append(_card("Charts not opened", pct(ws["work_saved"]),
                           f"set aside as ineligible; {missed} eligible patient{'s' if missed != 1 else ''} among them"))
    n_tool = sum(1 for d in a.disagreements if d["kind"] == "tool vs manual")
    cards.append(_card("To adjudicate", str(n_tool), f"disagreements with the manual review; {len(a.unmatched)} row(s) not compared"))
    return "<div class='cards'>" + "".join(cards) + "</div>"


def _img(b64: str, alt: str) -> str:
    return f"<div class='fig'><img alt='{_e(alt)}' src='data:image/png;base64,{b64}'></div>"


def _verdict_section(a) -> str:
    v = a.verdict
    out = ["<section><h2 class='sec'>Overall verdict</h2>"]
    if not v["n"]:
        out.append("<p class='lead'>The manual review has no verdict rows (rows with an empty criterion), so only criteria are compared.</p></section>")
        return "".join(out)
    out.append("<p class='lead'>Each patient's overall verdict from the manual review (rows) against trialmatch (columns). "
               "The diagonal is agreement; each cell shows the count and the share of that manual row.</p>")
    out.append("<div class='figs'>" + _img(plots.confusion_png(v["confusion"]["matrix"], v["confusion"]["labels"],
                                                               "Verdict: manual review vs trialmatch"), "verdict confusion matrix"))
    out.append("<div style='flex:1;min-width:340px'><table class='data'><tr><th>for the class</th><th class='num'>sensitivity</th>"
               "<th class='num'>specificity</th><th class='num'>precision</th><th class='num'>F1</th></tr>")
    for cls in ("eligible", "ineligible", "needs_review"):
        pc = v["per_class"][cls]
        ss = v.get("sensitivity_specificity", {}).get(cls)
        sens = f"{pct(ss['sensitivity'])} <span class='band'>({ss['tp']} of {ss['tp'] + ss['fn']})</span>" if ss else pct(pc["recall"])
        spec = f"{pct(ss['specificity'])} <span class='band'>({ss['tn']} of {ss['tn'] + ss['fp']})</span>" if ss else "–"
        out.append(f"<tr><td><span class='pill {_e(cls)}'>{_e(pretty(cls))}</span></td><td class='num'>{sens}</td>"
                   f"<td class='num'>{spec}</td><td class='num'>{pct(pc['precision'])}</td><td class='num'>{num(pc['f1'])}</td></tr>")
    out.append("</table><p class='muted'>Sensitivity: of the patients the reviewers put in this class, the share trialmatch also put there. "
               "Specificity: of the other patients, the share trialmatch kept out of it.</p>")
    out.append(_work_saved(v.get("work_saved")))
    out.append("</div></div></section>")
    return "".join(out)


def _work_saved(ws) -> str:
    if not ws:
        return ""
    rows = []
    for name, label in (("at_verdict", "Set aside every chart trialmatch calls ineligible"),
                        ("at_target", f"Set aside the lowest-scored charts, keeping sensitivity for eligible ≥ {pct(ws['target_sensitivity'])}")):
        p = ws.get(name)
        if not p:
            rows.append(f"<tr><td>{_e(label)}</td><td colspan='3' class='muted'>not defined: the manual review has no eligible patient</td></tr>")
            continue
        if name == "at_verdict" or p["set_aside"] == 0:
            where = "" if name == "at_verdict" else " <span class='band'>(no score threshold sets any chart aside without missing an eligible patient)</span>"
        else:
            where = f" <span class='band'>(open charts scoring ≥ {p['threshold']:.3f})</span>"
        rows.append(f"<tr><td>{_e(label)}{where}</td><td class='num'>{pct(p['work_saved'])} <span class='band'>({p['set_aside']} of {p['n']})</span></td>"
                    f"<td class='num'>{p['eligible_missed']}</td><td class='num'>{pct(p['sensitivity_eligible'])}</td></tr>")
    return ("<h3>Work saved</h3><table class='data work'><tr><th>operating point</th><th class='num'>charts not opened</th>"
            "<th class='num'>eligible missed</th><th class='num'>sensitivity for eligible</th></tr>" + "".join(rows) + "</table>"
            "<p class='muted'>A chart set aside is one a coordinator need not open. Charts trialmatch calls eligible or "
            "needs review are still opened, since every chart is confirmed before a patient is approached.</p>")


def _criteria_section(a) -> str:
    c = a.criteria
    out = ["<section><h2 class='sec'>Criteria</h2>"]
    if not c["overall"]["n"]:
        out.append("<p class='lead'>The manual review has no criterion rows.</p></section>")
        return "".join(out)
    out.append("<p class='lead'>Agreement on each criterion (met / not met / unknown), in protocol order. κ corrects for "
               "agreement expected by chance; it is not defined when every label is the same.</p>")
    out.append("<div class='figs'>" + _img(plots.criteria_bars_png(c["by_criterion"], c["overall"]["accuracy"]), "agreement per criterion") + "</div>")
    out.append("<h3>All criteria together</h3><div class='figs'>")
    out.append(_img(plots.confusion_png(c["overall"]["confusion"]["matrix"], c["overall"]["confusion"]["labels"],
                                        "All criteria: manual review vs trialmatch"), "criteria confusion matrix"))
    out.append("<div style='flex:1;min-width:340px'>" + _class_table(c["overall"]) +
               f"<p class='muted'>{c['overall']['n']} criterion labels; κ {num(c['overall']['kappa'])} "
               f"(95% CI {_e(ci_text(c['overall']['kappa_ci']))}, {_e(kappa_band(c['overall']['kappa']))}). Precision: of the "
               "labels trialmatch gave, the share the reviewers gave too. Recall: of the reviewers' labels, the share trialmatch "
               "found.</p></div></div>")
    out.append("<h3>Agreement table</h3>" + summary_table(a))
    out.append("<details><summary>Precision, recall and F1 per class, per criterion</summary><table class='data'><tr><th>criterion</th>")
    classes = c["overall"]["confusion"]["labels"]
    out.append("".join(f"<th class='num'>{_e(pretty(k))}: P / R / F1</th>" for k in classes) + "<th class='num'>macro F1</th></tr>")
    for b in [dict(c["overall"], criterion_id="all criteria")] + c["by_criterion"]:
        cells = "".join(f"<td class='num'>{pct(b['per_class'][k]['precision'])} / {pct(b['per_class'][k]['recall'])} / "
                        f"{num(b['per_class'][k]['f1'])} <span class='band'>(n {b['per_class'][k]['support']})</span></td>" for k in classes)
        out.append(f"<tr><td class='crit-id'>{_e(b['criterion_id'])}</td>{cells}<td class='num'>{num(b['macro_f1'])}</td></tr>")
    out.append("</table></details></section>")
    return "".join(out)


def _class_table(block: dict) -> str:
    rows = ["<table class='data'><tr><th>label</th><th class='num'>manual</th><th class='num'>trialmatch</th>"
            "<th class='num'>precision</th><th class='num'>recall</th><th class='num'>F1</th></tr>"]
    for k, m in block["per_class"].items():
        rows.append(f"<tr><td><span class='pill {_e(k)}'>{_e(pretty(k))}</span></td><td class='num'>{m['support']}</td>"
                    f"<td class='num'>{m['predicted']}</td><td class='num'>{pct(m['precision'])}</td>"
                    f"<td class='num'>{pct(m['recall'])}</td><td class='num'>{num(m['f1'])}</td></tr>")
    return "".join(rows) + "</table>"


def _reviewers_section(a) -> str:
    r = a.reviewers
    if len(r.get("names") or []) < 2:
        return ""
    out = ["<section><h2 class='sec'>Reviewers</h2><p class='lead'>Where two reviewers labelled the same item, how well they "
           "agree with each other, beside how well trialmatch agrees with each of them on those same items. "
           f"The reference for every other section is {_e(r['reference'])}'s label, then the next reviewer's where "
           f"{_e(r['reference'])} gave none.</p>"]
    out.append("<table class='data'><tr><th>reviewers</th><th>level</th><th class='num'>items both labelled</th>"
               "<th class='num'>κ between reviewers</th><th class='num'>κ trialmatch vs first</th><th class='num'>κ trialmatch vs second</th></tr>")
    for p in r["pairs"]:
        for level in ("verdict", "criteria"):
            x = p[level]
            if not x["n"]:
                continue
            out.append(f"<tr><td>{_e(p['a'])} &amp; {_e(p['b'])}</td><td>{_e(level)}</td><td class='num'>{x['n']}</td>"
                       f"<td class='num'>{num(x['inter_rater']['kappa'])} <span class='band'>({_e(ci_text(x['inter_rater']['kappa_ci']))})</span></td>"
                       f"<td class='num'>{num(x['tool_vs_a']['kappa'])} <span class='band'>vs {_e(p['a'])}</span></td>"
                       f"<td class='num'>{num(x['tool_vs_b']['kappa'])} <span class='band'>vs {_e(p['b'])}</span></td></tr>")
    out.append("</table><table class='data'><tr><th>reviewer</th><th class='num'>verdicts</th><th class='num'>criterion labels</th>"
               "<th class='num'>κ trialmatch vs reviewer (verdict)</th><th class='num'>κ trialmatch vs reviewer (criteria)</th></tr>")
    for name in r["names"]:
        counts, tv = r["labels"][name], r["tool_vs"].get(name, {})
        out.append(f"<tr><td>{_e(name)}</td><td class='num'>{counts['verdicts']}</td><td class='num'>{counts['criteria']}</td>"
                   f"<td class='num'>{num(tv.get('verdict', {}).get('kappa'))}</td><td class='num'>{num(tv.get('criteria', {}).get('kappa'))}</td></tr>")
    out.append("</table></section>")
    return "".join(out)


def _worklist_section(a) -> str:
    rows = a.disagreements
    out = ["<section><h2 class='sec'>Disagreements to adjudicate</h2>"]
    if not rows:
        out.append("<p class='lead'>None: trialmatch and the manual review agree on every compared item.</p></section>")
        return "".join(out)
    out.append("<p class='lead'>Overall verdicts first, then criteria in protocol order; contradictions (orange edge) before "
               "rows where one side was undecided (yellow edge). The same list is in <b>disagreements.csv</b>.</p>")
    out.append("<table class='data crit'><tr><th>#</th><th>patient</th><th>criterion</th><th>manual review</th>"
               "<th>trialmatch</th><th>trialmatch's reason and evidence</th></tr>")
    for d in rows:
        crit = "overall verdict" if d["level"] == "verdict" else d["criterion_id"]
        text = readable(d["criterion_text"], 140)
        manual_cls = d["manual"].replace(" ", "_")
        tool_cls = d["tool"].replace(" ", "_")
        who = f"{d['reviewer']}, row {d['manual_row']}, wrote “{d['manual_as_written']}”"
        others = f"<div class='who'>{_e(d['other_reviewers'])}</div>" if d["other_reviewers"] else ""
        detail = f"<div class='who'>{_e(d['manual_detail'])}</div>" if d["manual_detail"] else ""
        kind = "" if d["kind"] == "tool vs manual" else "<div class='who'><b>reviewers disagree</b></div>"
        evidence = "".join(f"<div class='more'>{_e(item.strip())}</div>" if item.startswith("(+") else f"<div class='ctx'>{_e(item.strip())}</div>"
                           for item in (d["tool_evidence"] or "").split(" | ") if item.strip())
        score = f" <span class='muted'>score {d['tool_score']:.2f}</span>" if d["tool_score"] is not None else ""
        out.append(f"<tr class='sev-{_e(d['severity'])}'><td class='num'>{d['rank']}</td><td>{_e(d['patient_id'])}</td>"
                   f"<td><span class='crit-id'>{_e(crit)}</span><div class='muted'>{_e(text)}</div></td>"
                   f"<td><span class='pill {_e(manual_cls)}'>{_e(d['manual'])}</span><div class='who'>{_e(who)}</div>{others}{detail}{kind}</td>"
                   f"<td><span class='pill {_e(tool_cls)}'>{_e(d['tool'])}</span>{score}</td>"
                   f"<td><div>{_e(d['tool_reason'])}</div>{evidence}</td></tr>")
    out.append("</table></section>")
    return "".join(out)


def _unmatched_section(a) -> str:
    out = ["<section><h2 class='sec'>Rows not compared</h2>"]
    if not a.unmatched and not a.input_errors:
        out.append("<p class='lead'>Every row of the manual review was matched and compared.</p></section>")
        return "".join(out)
    if a.unmatched:
        out.append("<p class='lead'>These rows of the manual review could not be matched to a result, a criterion or a known "
                   "label. Fix them in the sheet (or extend the label mapping with <code>--labels</code>) and run again. "
                   "They are also in <b>unmatched.csv</b>.</p><table class='data'><tr><th class='num'>row</th><th>reviewer</th>"
                   "<th>trial</th><th>patient</th><th>criterion</th><th>label</th><th>why not compared</th></tr>")
        for u in a.unmatched:
            out.append("<tr>" + "".join(f"<td>{_e(u[k])}</td>" for k in ("row", "reviewer", "trial_id", "patient_id", "criterion", "label", "reason")) + "</tr>")
        out.append("</table>")
    if a.input_errors:
        out.append("<h3>Unusable lines in the tool's results</h3><table class='data'><tr><th>source</th><th>where</th><th>reason</th></tr>")
        for e in a.input_errors:
            out.append(f"<tr><td>{_e(Path(str(e.get('source', ''))).name)}</td><td>{_e(e.get('location'))}</td><td>{_e(e.get('reason'))}</td></tr>")
        out.append("</table>")
    out.append("</section>")
    return "".join(out)


def _matches_section(a) -> str:
    if not a.criterion_matches:
        return ""
    out = ["<section><h2 class='sec'>Criteria written as text</h2><p class='lead'>Rows that named a criterion by its text "
           "were matched to the protocol's criteria (similarity 0–100). Check that each match is the criterion the reviewer meant.</p>"
           "<table class='data'><tr><th>written in the sheet</th><th>matched criterion</th><th class='num'>score</th>"
           "<th class='num'>rows</th><th>next best</th></tr>"]
    for m in a.criterion_matches:
        if m["criterion_id"]:
            target = f"<span class='crit-id'>{_e(m['criterion_id'])}</span> <span class='muted'>{_e(_short(m['criterion_text']))}</span>"
        else:
            target = f"<span class='pill unknown'>not matched</span> <span class='muted'>{_e(m['reason'])}</span>"
        runner = "" if m["runner_up_id"] is None else f"{_e(m['runner_up_id'])} ({m['runner_up_score']:.0f})"
        out.append(f"<tr><td>{_e(m['written'])}</td><td>{target}</td><td class='num'>{m['score']:.0f}</td>"
                   f"<td class='num'>{m['rows']}</td><td>{runner}</td></tr>")
    out.append("</table></section>")
    return "".join(out)


def _short(text, n: int = 90) -> str:
    return readable(text, n)


def _method_section(a) -> str:
    m = a.method
    items = [f"Reference standard: {m['reference']} (priority: {', '.join(m['reviewer_priority']) or 'none'}).",
             f"Confusion matrices: {m['confusion_matrix']}.", f"κ: {m['kappa']}; 95% CI: {m['kappa_ci']}.",
             f"Undefined values: {m['undefined']} (shown as –).", f"Work saved: {m['work_saved']}.",
             f"Criterion text matching: {m['criterion_text_matching']}."]
    items += [f"Note: {n}" for n in a.notes]
    words = m["labels"]
    label_lines = "; ".join(f"{pretty(k)}: {', '.join(v)}" for k, v in {**words["status"], **words["verdict"]}.items())
    out = ["<section><h2 class='sec'>Method</h2><ul class='note-list'>"]
    out += [f"<li>{_e(i)}</li>" for i in items]
    out.append(f"</ul><details><summary>Label words understood</summary><p class='muted'>{_e(label_lines)}</p>"
               f"<p class='muted'>pass / fail words (pass, include, eligible, fail, exclude, ineligible …) are read per criterion: "
               f"pass means met for an inclusion criterion and not met for an exclusion criterion.</p></details>")
    out.append("<p class='muted'>Generated by trialmatch review.</p></section>")
    return "".join(out)
