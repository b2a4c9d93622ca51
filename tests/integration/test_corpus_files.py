"""The committed corpus files: the Code pénal file is the parser's output, key articles exact."""

import pytest

from assistant.corpus.model import Corpus
from assistant.ingest.justel import JustelParser, to_corpus_file
from tests.conftest import CORPUS_DIR, SOURCES_DIR
from tests.unit.ingest.test_justel import oracle_articles, squash

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def corpus():
    return Corpus.load(CORPUS_DIR)


def test_committed_key_articles_equal_the_hand_separated_version(corpus):
    for number, text in oracle_articles().items():
        assert squash(corpus.unit(f"code-penal-1867:art-{number}").text) == squash(text), number


def test_titre_iter_heading_is_kept_with_its_marker(corpus):
    unit = corpus.unit("code-penal-1867:art-137")
    assert unit.path[1] == "TITRE Iter. - DES INFRACTIONS TERRORISTES. <Inséré par L 2003-12-19/34, art. 2; En vigueur : 08-01-2004>"


@pytest.mark.slow
def test_code_penal_file_matches_a_fresh_import_except_hand_fixes():
    """Hand fixes by trainers are allowed, but the file must still be the parser's layout."""
    import yaml

    raw = (SOURCES_DIR / "code-penal-1867.justel-2024-05-28.raw.txt").read_text(encoding="utf-8")
    meta = yaml.safe_load((SOURCES_DIR / "code-penal-1867.meta.yaml").read_text(encoding="utf-8"))
    fresh = to_corpus_file(JustelParser().parse(raw), meta).split("\n")
    committed = (CORPUS_DIR / "code-penal-1867.md").read_text(encoding="utf-8").split("\n")
    differing = [i for i, (a, b) in enumerate(zip(fresh, committed)) if a != b]
    assert len(fresh) == len(committed)
    assert len(differing) <= 20, differing[:5]


def test_plain_text_has_no_justel_markers(corpus):
    for unit in corpus.documents["code-penal-1867"].units:
        plain = unit.plain_text
        assert "<L " not in plain and "----------" not in plain, unit.id
        assert not any(f"[{n} " in plain for n in range(1, 10)), unit.id
