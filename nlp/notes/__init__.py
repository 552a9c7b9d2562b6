"""Clinical note fact extraction: spaCy components that turn notes into contract ``Fact`` records.

See :mod:`nlp.pipeline` for the pipeline and the public entry points
(``load_pipeline``, ``extract_note``, ``extract_patients``).
"""
