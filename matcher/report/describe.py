"""Short readable descriptions of constraints ("creatinine <= 2 x ULN (Gilbert syndrome: <= 3 x ULN)")."""

from __future__ import annotations

from nlp.grammar.numbers import format_number
from nlp.schema import Constraint, Criterion
from nlp.text import normalize

SYMBOL = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "==": "=", "between": "between"}


def readable(text: str, limit: int | None = None) -> str:
    """Protocol text for display: markdown escapes ("\\>"), odd spaces and line breaks removed,
    cut to ``limit`` characters. Results keep the exact protocol text; only pages show this."""
    text = " ".join(normalize(text or "").text.split())
    return text if limit is None or len(text) <= limit else text[:limit - 1] + "…"


def to_look_up(missing, limit: int) -> str:
    """The distinct things to look up, in worklist order ("a; b …"): two criteria that need the
    same report name it once."""
    items = list(dict.fromkeys(m.what for m in missing))
    return "; ".join(items[:limit]) + (" …" if len(items) > limit else "")


def describe_threshold(comparator, value, value2, unit) -> str:
    """"≥ 18 years", "between 18 and 75 years", "= any"."""
    if comparator is None:
        return ""
    unit_text = f" {unit}" if unit else ""
    if isinstance(value, str):
        return f"{SYMBOL[comparator]} {value}"
    if comparator == "between":
        return f"between {format_number(value)} and {format_number(value2)}{unit_text}"
    return f"{SYMBOL[comparator]} {format_number(value)}{unit_text}"


def describe_window(t) -> str:
    """"within 12 months after complete remission", "before study entry"."""
    relation = t.relation or ("before" if t.anchor else "")
    anchor = f" {relation} {t.anchor}" if t.anchor else (" ago" if relation == "before" else "")
    if t.value is None:
        return f"{relation} {t.anchor}".strip() if t.anchor else "time window"
    amount = describe_threshold(t.comparator, t.value, t.value2, t.unit)
    if t.comparator in ("<=", "<"):
        amount = "within " + amount[2:]
    return amount + anchor


def describe_constraint(c: Constraint) -> str:
    """One line for a constraint, with its window and exceptions."""
    parts = [("no " if c.negated else "") + c.concept.label]
    threshold = describe_threshold(c.comparator, c.value, c.value2, c.unit)
    if threshold:
        parts.append(threshold)
    if c.temporal:
        parts.append(f"({describe_window(c.temporal)})")
    for x in c.exceptions:
        rule = describe_threshold(x.comparator, x.value, x.value2, x.unit)
        parts.append(f"(except {x.condition.label}{': ' + rule if rule else ''})")
    return " ".join(parts)


def describe_criterion(node: Criterion) -> str:
    """The constraints of a node joined by its logic, or a note that it has none."""
    if not node.constraints:
        return "—" if node.children else "(no recognized requirement)"
    joiner = " OR " if node.logic == "any" else "; "
    return joiner.join(describe_constraint(c) for c in node.constraints)
