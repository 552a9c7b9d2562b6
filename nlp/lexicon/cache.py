"""On-disk cache of the full concept index.

The full index (curated files + ICD-10-CM + HPO + drugs) takes a while to
build, so it is built once and pickled into the user cache directory
(``platformdirs``; ``TRIALMATCH_CACHE_DIR`` overrides it). The file name holds
a key made of the terminology package versions, a hash of every lexicon
resource file and a hash of the lexicon code, so a changed input never loads a
stale index, and an unchanged one is never rebuilt.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from importlib import resources
from importlib.metadata import version
from pathlib import Path
from typing import Callable, Optional

from nlp.lexicon.index import ConceptIndex

FORMAT = 1  # bump when the pickled shape changes


def cache_dir() -> Path:
    """Where cached indexes live."""
    override = os.environ.get("TRIALMATCH_CACHE_DIR")
    if override:
        return Path(override)
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("trialmatch"))


def resource_digest() -> str:
    """Hash of every file under ``nlp/resources/lexicon`` (curated lists, filters, tables)."""
    h = hashlib.sha256()
    folder = resources.files("nlp.resources").joinpath("lexicon")
    for ref in sorted(folder.iterdir(), key=lambda r: r.name):
        if ref.is_file():
            h.update(ref.name.encode())
            h.update(ref.read_bytes())
    return h.hexdigest()


def code_digest() -> str:
    """Hash of the lexicon's own source files (a loader change invalidates the cache)."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def cache_key(versions: Optional[dict[str, str]] = None) -> str:
    """Key of the full index for the installed packages and current files."""
    if versions is None:
        from nlp.lexicon.terminology import versions as term_versions
        versions = term_versions()
    parts = [f"format={FORMAT}", f"wordfreq={version('wordfreq')}"] + [f"{k}={v}" for k, v in sorted(versions.items())]
    parts += [resource_digest(), code_digest()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20]


def cache_path(key: str) -> Path:
    return cache_dir() / f"concept-index-{key}.pkl"


def load_or_build(build: Callable[[], ConceptIndex], key: Optional[str] = None) -> ConceptIndex:
    """The cached index for ``key``, building and saving it when absent or unreadable."""
    key = key or cache_key()
    path = cache_path(key)
    if path.exists():
        try:
            with open(path, "rb") as fh:
                index = pickle.load(fh)
            if isinstance(index, ConceptIndex):
                return index
        except Exception:  # noqa: BLE001 - a corrupt cache is rebuilt, never fatal
            pass
    index = build()
    index.cache_key = key
    save(index, path)
    return index


def save(index: ConceptIndex, path: Path) -> None:
    """Write atomically, then remove older cached indexes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pkl")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        if os.path.exists(tmp):
            os.unlink(tmp)
        return
    for old in path.parent.glob("concept-index-*.pkl"):
        if old != path:
            try:
                old.unlink()
            except OSError:
                pass
