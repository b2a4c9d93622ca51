"""The gold sets cite only what the corpus holds, and meet the minimums of the plan."""

import json

import pytest

from assistant.corpus.model import Corpus
from assistant.evaluation.gold import load_gold
from tests.conftest import CORPUS_DIR

pytestmark = pytest.mark.integration
ROOT = CORPUS_DIR.parent
GOLD = ROOT / "eval" / "gold" / "question-parlementaire.jsonl"
BSARD = ROOT / "eval" / "external" / "bsard-secret-professionnel.jsonl"


@pytest.fixture(scope="module")
def known_ids():
    corpus = Corpus.load(CORPUS_DIR)
    return {u.id for u in corpus.units} | set(corpus.documents)


@pytest.mark.parametrize("path", [*sorted((ROOT / "eval" / "gold").glob("*.jsonl")), BSARD], ids=lambda p: p.stem)
def test_every_expected_citation_exists_in_the_corpus(path, known_ids):
    for item in load_gold([path]):
        assert set(item.expected) <= known_ids, item.id
        assert item.answerable == bool(item.expected), item.id


def test_check_sets_cite_only_the_corpus(known_ids):
    """eval/checks: measurement-only sets (abstention, false refusals); citations optional."""
    paths = sorted((ROOT / "eval" / "checks").glob("*.jsonl"))
    assert paths
    for item in load_gold(paths):
        assert set(item.expected) <= known_ids, item.id
        assert item.answerable or not item.expected, item.id


def test_gold_set_has_the_planned_shape():
    items = load_gold([GOLD])
    keys = {frozenset(json.loads(line)) - {"note"} for line in GOLD.read_text(encoding="utf-8").splitlines() if line}
    assert keys == {frozenset({"id", "question", "history", "expected_citations", "answer_must_mention", "answerable"})}
    assert len(items) >= 30
    assert sum(not i.answerable for i in items) >= 6
    assert sum(bool(i.history) for i in items) >= 5
    assert len({i.id for i in items}) == len(items)


def test_bsard_copy_keeps_its_licence_notice():
    readme = (BSARD.parent / "README.md").read_text(encoding="utf-8")
    assert "CC BY-NC-SA 4.0" in readme and "Louis" in readme and "Spanakis" in readme
