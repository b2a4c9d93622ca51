"""Scale-out on the loopback: two chat processes share one real Chroma server (`chroma run`,
ASSISTANT_CHROMA_URL) and one OpenAI-compatible model server (scripted here; vLLM or
eval/serve_llm.py in a deployment). Both answer, drafts included, and nobody's conversation
leaks into another's, whichever process serves it."""

from __future__ import annotations

import asyncio
import shutil
import threading
from pathlib import Path

import pytest

from assistant.index.store import collection_name

from assistant.index.pointer import read_pointer
from eval import bench_load
from tests.integration.test_chroma_server import chroma_server, server_client  # noqa: F401 (fixture)
from tests.integration.test_load import CountingModel, clean_env, model_url  # noqa: F401 (fixture)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def shared_index(small_index, chroma_server, tmp_path_factory) -> Path:
    """The small index published to the Chroma server: its vectors there, and on disk only
    what every process reads itself (pointer, passages, BM25), as after a build with
    ASSISTANT_CHROMA_URL set."""
    folder = tmp_path_factory.mktemp("shared") / "index"
    shutil.copytree(small_index.index_dir, folder, ignore=shutil.ignore_patterns("chroma"))
    pointer = read_pointer(folder)
    source = _embedded_client(small_index.index_dir)
    target = server_client(chroma_server)
    for model in pointer["models"]:
        name = collection_name(model, pointer["version"])
        found = source.get_collection(name).get(include=["embeddings", "metadatas", "documents"])
        copy = target.create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        copy.add(ids=found["ids"], embeddings=found["embeddings"], metadatas=found["metadatas"],
                 documents=found["documents"])
    return folder


def _embedded_client(index_dir: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))


@pytest.fixture(scope="module")
def two_processes(small_index, shared_index, chroma_server, model_url, tmp_path_factory):
    """Two `assistant chat` processes, started together, configured only by the environment."""
    servers, failures = [], []

    def start(number: int):
        home = tmp_path_factory.mktemp(f"app{number}")
        env = clean_env(ASSISTANT_HOME=str(home), ASSISTANT_CORPUS_DIR=str(small_index.corpus_dir),
                        ASSISTANT_INDEX_DIR=str(shared_index), ASSISTANT_CHROMA_URL=f"http://127.0.0.1:{chroma_server}",
                        ASSISTANT_LLM="openai-compatible", ASSISTANT_LLM_URL=model_url,
                        ASSISTANT_LLM_MODEL="qwen2.5-coder-1.5b-instruct")
        try:
            servers.append(bench_load.ChatProcess(env, home / "server.log"))
        except Exception as error:  # reported below, after the other one has started or failed too
            failures.append(error)

    threads = [threading.Thread(target=start, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    yield servers
    for server in servers:
        server.stop()
    assert not failures, failures
    for server in servers:
        assert "Traceback" not in server.log_path.read_text()


def test_two_processes_answer_through_the_shared_chroma_and_model_servers(two_processes, shared_index):
    assert len(two_processes) == 2
    CountingModel.requests.clear()
    urls = [server.url for server in two_processes]
    result = asyncio.run(bench_load.run_load(urls, 4, "generative", deadline=240,
                                             pids=[server.pid for server in two_processes]))
    assert result["errors"] == 0, result["error_details"]
    assert result["finished_per_server"] == {urls[0]: 2, urls[1]: 2}
    assert result["leaks"] == [] and result["own_marker_missing"] == []
    assert result["drafts"]["written"] == 4 and len(CountingModel.requests) == 4
    assert not (shared_index / "chroma").exists()  # nobody fell back to an embedded store
