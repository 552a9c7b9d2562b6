"""Human-readable views of criteria and results: text summaries, tables, HTML."""
