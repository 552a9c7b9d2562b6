"""Benchmark scripts (run them as scripts; archive.py is also importable)."""
