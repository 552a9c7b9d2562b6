"""Protocol side: eligibility-criteria text -> structured criteria tree."""

from nlp.criteria.parser import parse_protocol

__all__ = ["parse_protocol"]
