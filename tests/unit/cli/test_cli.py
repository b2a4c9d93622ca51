"""`assistant corpus …` end to end: exit codes, French messages, never a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from assistant.corpus.model import Corpus
from tests.conftest import CORPUS_DIR, SAMPLE_META, run_cli

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "assistant"
UNIT_KEYS = {"id", "document", "kind", "number", "title", "label", "path", "text", "plain_text",
             "references", "history", "version", "complete", "note"}


run = run_cli


def run_script(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, env=os.environ.copy(), timeout=300)


# -- corpus check -------------------------------------------------------------------------

def test_check_real_corpus(capsys):
    code, out, err = run(capsys, "corpus", "check")
    assert code == 0, out + err
    assert "Corpus valide" in out and "13 documents" in out


def test_check_real_corpus_with_the_console_script():
    done = run_script("corpus", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Corpus valide" in done.stdout


@pytest.fixture
def broken_corpus(corpus_copy) -> Path:
    path = corpus_copy / "qe-cassart-2025.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    path.write_text("---\nauteur: Caroline Cassart\n" + text[4:], encoding="utf-8")
    return path


def test_check_broken_corpus_lists_problems_as_file_line_message(capsys, broken_corpus):
    code, out, err = run(capsys, "corpus", "check")
    assert code == 1
    lines = out.strip().split("\n")
    assert lines and all(re.match(r"^.+\.md:\d+: .+$", line) for line in lines), lines
    assert f"{broken_corpus}:2: champ inconnu « auteur »" in out
    assert "problème" in err
    assert "Traceback" not in out + err


def test_check_broken_corpus_with_the_console_script(broken_corpus):
    done = run_script("corpus", "check")
    assert done.returncode == 1
    assert re.search(r"^.+qe-cassart-2025\.md:2: .*champ inconnu.*$", done.stdout, re.M), done.stdout
    assert "Traceback" not in done.stdout + done.stderr


# -- corpus list / show -------------------------------------------------------------------

def test_list_json_has_every_unit(capsys):
    code, out, err = run(capsys, "corpus", "list", "--json")
    assert code == 0, err
    units = json.loads(out)
    assert all(set(unit) == UNIT_KEYS for unit in units)
    assert [u["id"] for u in units] == [u.id for u in Corpus.load(CORPUS_DIR).units]
    by_id = {unit["id"]: unit for unit in units}
    refs = by_id["code-penal-1867:art-458ter"]["references"]
    for target in ("code-penal-1867:art-324bis", "code-penal-1867:art-458", "code-penal-1867:art-137"):
        assert target in refs  # art-137 through « Titre Iter du Livre II »


def test_list_text_shows_ids_and_labels(capsys):
    code, out, _ = run(capsys, "corpus", "list")
    assert code == 0
    assert "code-penal-1867:art-458ter\tCode pénal, art. 458ter" in out.split("\n")


def test_show_article(capsys):
    code, out, err = run(capsys, "corpus", "show", "code-penal-1867:art-458ter")
    assert code == 0, err
    assert out.startswith("Code pénal, art. 458ter\n")
    assert "Version à jour au 2024-05-28" in out
    assert re.search(r"^Remplacé par « Loi du 29 février 2024 \(livre II du Code pénal\) » depuis le 2026-04-09 : .*pas connus", out, re.M)
    assert "Art. 458ter. [1 § 1er." in out


def test_show_json(capsys):
    code, out, _ = run(capsys, "corpus", "show", "code-penal-1867:art-458ter", "--json")
    assert code == 0
    unit = json.loads(out)
    assert set(unit) == UNIT_KEYS
    assert (unit["id"], unit["label"], unit["version"], unit["complete"]) == (
        "code-penal-1867:art-458ter", "Code pénal, art. 458ter", "2024-05-28", True)
    assert "[1" not in unit["plain_text"] and unit["history"][0]["act"] == "L 2017-07-06/24"


def test_show_unknown_unit(capsys):
    code, out, err = run(capsys, "corpus", "show", "inconnu:art-1")
    assert code == 2
    assert out == ""
    assert err.startswith("Erreur : aucune unité « inconnu:art-1 »")
    assert "Traceback" not in err


def test_bad_arguments(capsys):
    code, out, err = run(capsys, "corpus", "list", "--bogus")
    assert code == 2
    assert "Erreur : arguments invalides" in err and "--bogus" in err
    assert "Traceback" not in out + err


# -- corpus import-justel -----------------------------------------------------------------

RAW = """JUSTEL - Législation consolidée
Table des matières
LIVRE 1. - DES ESSAIS. CHAPITRE I. - DES REGLES. Art. 1-2
Texte
LIVRE 1. - DES ESSAIS.
CHAPITRE I. - DES REGLES.
Art. 1. Toute personne qui fait un essai doit le dire
[— fin de la page 1/2 du PDF Justel —]
aux autorités compétentes.
Art. 2.[1 Les dépositaires de secrets peuvent en parler dans une concertation.]1
----------
(1)<L 2017-07-06/24, art. 313, 124; En vigueur : 03-08-2017>
"""

META = "id: essai-justel\n" + SAMPLE_META


@pytest.fixture
def inputs(tmp_path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "meta.yaml").write_text(META, encoding="utf-8")
    return folder


def import_justel(capsys, source: Path, folder: Path) -> tuple[int, str, str]:
    return run(capsys, "corpus", "import-justel", str(source), "--meta", str(folder / "meta.yaml"))


@pytest.mark.parametrize("content, word", [
    (None, "introuvable"),
    (b"\xff\xfeArt. 1. Texte\n", "UTF-8"),
    ("Texte\nCeci n'est pas un texte de loi.\n".encode(), "aucun article"),
])
def test_import_justel_refuses_bad_sources_without_writing(capsys, empty_corpus, inputs, content, word):
    source = inputs / "source.txt"
    if content is not None:
        source.write_bytes(content)
    code, out, err = import_justel(capsys, source, inputs)
    assert code == 2
    assert err.startswith("Erreur : ") and word in err
    assert "Traceback" not in out + err
    assert list(empty_corpus.iterdir()) == []


def test_import_justel_writes_a_valid_corpus_file(capsys, empty_corpus, inputs):
    source = inputs / "essai.raw.txt"
    source.write_text(RAW, encoding="utf-8")
    code, out, err = import_justel(capsys, source, inputs)
    assert code == 0, err
    assert "2 articles" in out
    assert [p.name for p in empty_corpus.iterdir()] == ["essai-justel.md"]

    code, out, err = run(capsys, "corpus", "check")
    assert code == 0, out + err
    assert "Corpus valide : 1 documents, 2 unités." in out

    code, out, _ = run(capsys, "corpus", "list", "--json")
    art1, art2 = json.loads(out)
    assert [art1["id"], art2["id"]] == ["essai-justel:art-1", "essai-justel:art-2"]
    assert art1["path"] == art2["path"] == ["LIVRE 1. - DES ESSAIS.", "CHAPITRE I. - DES REGLES."]
    assert art1["text"] == "Art. 1. Toute personne qui fait un essai doit le dire aux autorités compétentes."
    assert [(h["act"], h["in_force"]) for h in art2["history"]] == [("L 2017-07-06/24", "2017-08-03")]
    assert "[1" not in art2["plain_text"] and "]1" not in art2["plain_text"] and "<L" not in art2["plain_text"]
    assert "dépositaires de secrets" in art2["plain_text"]
    assert "[1 Les dépositaires" in art2["text"]


@pytest.mark.unit
def test_chat_preloads_the_local_model_only_when_it_drafts_by_default():
    """llama.cpp holds Python's lock while loading: done before serving, not at the first draft."""
    from types import SimpleNamespace

    from assistant.cli import chat as cli
    from assistant.models.llm import ModelUnavailable

    class Model:
        loads = 0

        def load(self):
            Model.loads += 1

    def assistant(llm: str, model=None, mode: str = "generative"):
        return SimpleNamespace(settings=SimpleNamespace(llm=llm, answer_mode=mode), llm=lambda: model or Model())

    cli.preload_local_model(assistant("local", mode="extractive"))
    cli.preload_local_model(assistant("openai-compatible"))
    assert Model.loads == 0
    cli.preload_local_model(assistant("local"))
    assert Model.loads == 1

    class Broken:
        def load(self):
            raise ModelUnavailable("Le modèle local n'a pas pu être chargé.")

    cli.preload_local_model(assistant("local", Broken()))  # said, not raised: the passages still come


@pytest.mark.unit
def test_eval_says_in_one_line_when_the_index_is_replaced_during_the_run(capsys, monkeypatch, tmp_path):
    """Another process published a new index mid-run: one French line and exit code 2, no traceback."""
    from types import SimpleNamespace

    from assistant.errors import IndexUnavailable

    message = "l'index a été remplacé pendant l'évaluation : relancez la commande."

    def retrieve(query, k):
        raise IndexUnavailable(message)

    assistant = SimpleNamespace(retriever=SimpleNamespace(system="hybrid", retrieve=retrieve), embeddings={})
    monkeypatch.setattr("assistant.cli.common.make_assistant", lambda *args: assistant)
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "g-1", "question": "Le secret professionnel s'applique-t-il au CPAS ?",
                                "expected_citations": ["code-penal-1867:art-458"]}) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "eval", "--gold", str(gold))
    assert (code, out, err) == (2, "", f"Erreur : {message}\n")


@pytest.mark.unit
def test_every_error_a_user_can_meet_is_an_assistant_error():
    """The CLI and the chat catch AssistantError once: a class outside it would end in a traceback."""
    from assistant.corpus.model import CorpusError
    from assistant.errors import AssistantError
    from assistant.evaluation.gate import UpdateError
    from assistant.evaluation.gold import GoldError
    from assistant.ingest.importer import ImportFailure
    from assistant.models.embeddings import EmbeddingConfigError
    from assistant.web.accounts import ChatConfigError

    for error in (CorpusError, UpdateError, GoldError, ImportFailure, EmbeddingConfigError, ChatConfigError):
        assert issubclass(error, AssistantError) and error("x").exit_code == 2, error


@pytest.mark.unit
def test_chat_reads_host_and_port_from_the_settings_and_refuses_a_bad_port(capsys, monkeypatch):
    """Both checked before any loading, with the same French messages as always."""
    monkeypatch.setenv("ASSISTANT_CHAT_PORT", "huit-mille")
    code, _, err = run(capsys, "chat")
    assert (code, err) == (2, "Erreur : ASSISTANT_CHAT_PORT doit être un numéro de port "
                              "(valeur reçue : « huit-mille »).\n")
    # A port this test holds: the bind fails and the message says which address was used.
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setenv("ASSISTANT_CHAT_PORT", str(port))
        monkeypatch.setenv("ASSISTANT_CHAT_HOST", "localhost")
        code, _, err = run(capsys, "chat")
        assert code == 2 and err.startswith(f"Erreur : impossible d'écouter sur localhost:{port} ("), err
        code, _, err = run(capsys, "chat", "--host", "127.0.0.1")  # the option wins over the variable
        assert code == 2 and err.startswith(f"Erreur : impossible d'écouter sur 127.0.0.1:{port} ("), err
