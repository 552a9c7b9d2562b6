"""Readers and writers: protocols, notes, results (one home for input and output formats)."""
