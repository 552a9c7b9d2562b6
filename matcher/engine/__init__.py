"""Batch engines: local (multiprocessing, default) and Spark (optional extra)."""
