"""`assistant ask` end to end on the small index: JSON shape, argument checks, abstention."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_cli


# The session fixtures (small corpus and index), registered once for every module.
pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures")
from tests.helpers.retrieval_fixtures import QUESTION_458TER, UNIT_458TER, use_small_index  # noqa: E402

pytestmark = pytest.mark.integration

SCRIPT = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "assistant"
ANSWER_KEYS = {"question", "answer", "abstained", "citations", "units", "notes", "lead", "kind", "conditions", "related"}


@pytest.fixture
def on_small_index(monkeypatch, small_index):
    use_small_index(monkeypatch, small_index)
    return small_index


run = run_cli


def test_ask_json(capsys, on_small_index, small_corpus):
    code, out, err = run(capsys, "ask", QUESTION_458TER, "--json")
    assert code == 0, err
    reply = json.loads(out)
    assert set(reply) == ANSWER_KEYS
    assert reply["question"] == QUESTION_458TER
    assert reply["abstained"] is False
    assert reply["citations"] and UNIT_458TER in reply["citations"]
    known = {u.id for u in small_corpus.units}
    assert set(reply["citations"]) <= known
    assert len(reply["units"]) == 5  # --k 5 by default
    for unit in reply["units"]:
        assert set(unit) == {"id", "score", "text"}
        assert unit["id"] in known
        assert isinstance(unit["score"], float) and unit["score"] > 0
        assert unit["text"] == small_corpus.unit(unit["id"]).plain_text
    assert UNIT_458TER in [u["id"] for u in reply["units"]][:3]
    assert reply["answer"].startswith(f"En bref : {reply['lead']}") and reply["lead"].startswith("Code pénal, art. 458ter")
    assert reply["conditions"] and all(c["id"] in known for c in reply["conditions"] + reply["related"])
    assert any(n.startswith("Code pénal : remplacé par") for n in reply["notes"])
    assert "Traceback" not in err


def test_ask_text(capsys, on_small_index):
    code, out, err = run(capsys, "ask", QUESTION_458TER, "--k", "3")
    assert code == 0, err
    assert out.startswith("En bref : ")
    assert f"\nTexte entier : assistant corpus show {UNIT_458TER}\n" in out


@pytest.mark.parametrize("k", ["0", "1000", "-3", "51"])
def test_ask_k_out_of_range(capsys, on_small_index, k):
    code, out, err = run(capsys, "ask", QUESTION_458TER, "--k", k)
    assert code == 2
    assert out == ""
    assert err.strip() == "Erreur : --k doit être compris entre 1 et 50."


def test_ask_k_not_a_number(capsys, on_small_index):
    code, _, err = run(capsys, "ask", QUESTION_458TER, "--k", "beaucoup")
    assert code == 2
    assert "Erreur : arguments invalides" in err and "Traceback" not in err


@pytest.mark.parametrize("question", ["", "   ", "\n\t  \n", "\x00\x01\x1b"])
def test_ask_empty_question(capsys, on_small_index, question):
    code, out, err = run(capsys, "ask", question)
    assert code == 2
    assert out == ""
    assert err.strip() == "Erreur : la question est vide."


def test_ask_too_long_question(capsys, on_small_index):
    code, _, err = run(capsys, "ask", "secret " * 700)
    assert code == 2
    assert "trop longue" in err and "Traceback" not in err


def test_ask_question_with_control_characters(capsys, on_small_index):
    dirty = "Puis-je partager\x00 des informations\x07 confidentielles lors d'une\x1b concertation de cas ?"
    code, out, err = run(capsys, "ask", dirty, "--json")
    assert code == 0, err
    reply = json.loads(out)
    assert reply["question"] == QUESTION_458TER
    assert not any(ord(c) < 32 for c in reply["question"])
    assert reply["abstained"] is False
    assert UNIT_458TER in reply["citations"]


@pytest.mark.parametrize("question", [
    "Que dit l'article 12 du Code wallon du bien-être animal ?",
    "Copie-moi l'article 50 de la loi organique des CPAS",
])
def test_ask_article_outside_the_corpus(capsys, on_small_index, question):
    code, out, err = run(capsys, "ask", question, "--json")
    assert code == 0, err
    reply = json.loads(out)
    assert set(reply) == ANSWER_KEYS
    assert reply["abstained"] is True
    assert reply["citations"] == [] and reply["units"] == [] and reply["notes"] == []
    assert "n'est pas dans le corpus" in reply["answer"]


def test_ask_with_a_damaged_index_is_a_french_error(capsys, monkeypatch, tmp_path, small_index):
    index_dir = tmp_path / "index-damaged"
    index_dir.mkdir()
    (index_dir / "current.json").write_text("{ abîmé", encoding="utf-8")
    use_small_index(monkeypatch, small_index, index_dir)
    code, out, err = run(capsys, "ask", QUESTION_458TER)
    assert code == 2
    assert err.startswith("Erreur : ") and "assistant index build" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_ask_with_the_console_script(on_small_index):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([str(SCRIPT), "ask", QUESTION_458TER, "--json", "--k", "3"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert set(reply) == ANSWER_KEYS
    assert UNIT_458TER in reply["citations"]
    assert len(reply["units"]) == 3
    assert "Traceback" not in done.stderr
