"""The on-disk cache of the full index: keyed, reused, invalidated."""

import pickle

import pytest

from nlp.lexicon import build_curated_index, cache


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("TRIALMATCH_CACHE_DIR", str(tmp_path))
    return tmp_path


def _counting_builder():
    calls = []

    def build():
        calls.append(1)
        return build_curated_index()
    return build, calls


def test_index_is_built_once_then_loaded(cache_dir):
    build, calls = _counting_builder()
    first = cache.load_or_build(build, key="k1")
    second = cache.load_or_build(build, key="k1")
    assert len(calls) == 1
    assert [m.entry.id for m in second.find("relapsed AML")] == [m.entry.id for m in first.find("relapsed AML")]
    assert list(cache_dir.glob("concept-index-*.pkl")) == [cache_dir / "concept-index-k1.pkl"]


def test_new_key_rebuilds_and_removes_the_stale_file(cache_dir):
    build, calls = _counting_builder()
    cache.load_or_build(build, key="old")
    cache.load_or_build(build, key="new")
    assert len(calls) == 2
    assert [p.name for p in cache_dir.glob("concept-index-*.pkl")] == ["concept-index-new.pkl"]


def test_key_depends_on_package_versions_and_resource_files(monkeypatch):
    base = cache.cache_key({"icd10cm": "simple-icd-10-cm 1.5.0", "hpo": "hpo3 1.5.1"})
    assert base == cache.cache_key({"icd10cm": "simple-icd-10-cm 1.5.0", "hpo": "hpo3 1.5.1"})
    assert base != cache.cache_key({"icd10cm": "simple-icd-10-cm 1.6.0", "hpo": "hpo3 1.5.1"})
    monkeypatch.setattr(cache, "resource_digest", lambda: "a curated file changed")
    assert base != cache.cache_key({"icd10cm": "simple-icd-10-cm 1.5.0", "hpo": "hpo3 1.5.1"})


def test_resource_digest_sees_every_lexicon_file():
    digest = cache.resource_digest()
    assert len(digest) == 64 and digest == cache.resource_digest()


def test_corrupt_cache_is_rebuilt(cache_dir):
    build, calls = _counting_builder()
    (cache_dir / "concept-index-k2.pkl").write_bytes(b"not a pickle")
    index = cache.load_or_build(build, key="k2")
    assert len(calls) == 1 and index.get("aml") is not None
    with open(cache_dir / "concept-index-k2.pkl", "rb") as fh:
        assert pickle.load(fh).get("aml") is not None


def test_packed_entries_survive_the_round_trip():
    index = build_curated_index()
    index.find("AML")  # touch
    again = pickle.loads(pickle.dumps(index))
    assert again.get("aml").label == index.get("aml").label
    assert again.get("aml").codes == index.get("aml").codes
    assert len(again.entries) == len(index.entries)
