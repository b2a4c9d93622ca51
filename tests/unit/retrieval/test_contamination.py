"""The example questions of scope.yaml and lexicon.yaml, and the cues of issues.yaml, must not be near-copies of an
evaluation question: an example that restates a measured question tunes the system on the
very set that is supposed to measure it (the abstention signal is a nearest-neighbour vote,
so a copied question is « covered » by construction)."""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

from assistant.retrieval.issues import cue_texts, load_issues
from assistant.retrieval.lexicon import LEXICON_FILE
from assistant.retrieval.scope import SCOPE_FILE, load_scope
from assistant.text import FrenchAnalyzer, fold

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[3]
EVAL_FILES = (
    "eval/gold/question-parlementaire.jsonl",
    "eval/gold/dans-le-sujet.jsonl",
    "eval/external/bsard-secret-professionnel.jsonl",
    "eval/checks/hors-sujet.jsonl",
    "eval/gold/situations.jsonl",
    "eval/gold/situations-reserve.jsonl",
    "eval/gold/situations-3.jsonl",
    "eval/gold/situations-4.jsonl",
    "eval/gold/situations-5.jsonl",
    "eval/gold/situations-6.jsonl",
    "eval/gold/situations-7.jsonl",
    "eval/gold/situations-8.jsonl",
    "eval/gold/situations-9.jsonl",
    "eval/gold/situations-10.jsonl",
    "eval/gold/situations-11.jsonl",
    "eval/gold/situations-12.jsonl",
    "eval/gold/situations-13.jsonl",
    "eval/gold/situations-14.jsonl",
)
# Two of the four (≥ 0.75) of the shorter question's distinctive words shared: a question of
# four words that shares three (« Un avocat peut-il participer à une concertation de cas ? » /
# « Est-ce que l'avocat peut participer à une concertation ? » shares all of its distinctive
# ones) is a rewording, while two questions on one topic share the topic's one or two
# nouns (« CSIL-R », « dossier social ») and stay below: measured on the shipped files, the
# topical pairs reach 0.67 and the copies 0.75 to 1.
OVERLAP = 0.75
MIN_SHARED = 2
# Words that occur in a tenth of the evaluation questions or more (« secret »,
# « professionnel », « CPAS », « peut ») say the corpus's topic, not which question it is.
TOPIC_SHARE = 0.10
# Five words in a row, three of them distinctive, is a quoted clause (« que risque un
# travailleur social ») rather than a shared turn of phrase (« sur le secret professionnel »).
RUN = 5
RUN_DISTINCTIVE = 3

analyse = FrenchAnalyzer()


def eval_questions() -> list[tuple[str, str]]:
    rows = []
    for name in EVAL_FILES:
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                item = json.loads(line)
                rows.append((item["id"], item["question"]))
    return rows


def lexicon_example(path: Path = LEXICON_FILE) -> str:
    """The everyday wording quoted in the header (the legal words it maps to left out)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = " ".join(itertools.takewhile(lambda line: line.startswith("#"), lines))
    legal = {fold(str(entry["legal"])) for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []}
    quoted = re.findall(r"[\"«]\s*([^\"»]+?)\s*[\"»]", header)
    return " ".join(q for q in quoted if not any(fold(q) in words for words in legal))


def yaml_examples() -> list[tuple[str, str]]:
    covered, outside = load_scope(SCOPE_FILE)
    examples = [("scope.yaml", q) for q in covered] + [("scope.yaml", q) for _, q in outside]
    example = lexicon_example()
    cues = [("issues.yaml", cue) for cue in cue_texts(load_issues())]
    return examples + cues + ([("lexicon.yaml", example)] if example else [])


def distinctive(text: str, topic: set[str]) -> set[str]:
    return {w for w in analyse(text) if len(w) > 1 and w not in topic}


def runs(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", fold(text))
    return {tuple(words[i:i + RUN]) for i in range(len(words) - RUN + 1)}


def topic_words(questions) -> set[str]:
    counts = Counter(w for _, q in questions for w in set(analyse(q)))
    return {w for w, n in counts.items() if n >= TOPIC_SHARE * len(questions)}


def near_duplicates(examples, questions, topic: set[str]) -> list[tuple[str, str, str, str]]:
    found = []
    for source, example in examples:
        mine = distinctive(example, topic)
        for qid, question in questions:
            theirs = distinctive(question, topic)
            shared = mine & theirs
            overlap = len(shared) / min(len(mine), len(theirs)) if mine and theirs else 0.0
            quoted = [r for r in runs(example) & runs(question)
                      if len(distinctive(" ".join(r), topic)) >= RUN_DISTINCTIVE]
            if (len(shared) >= MIN_SHARED and overlap >= OVERLAP) or quoted:
                found.append((source, example, qid, question))
    return found


def test_the_detector_sees_a_rewording_and_not_a_shared_topic():
    questions = [("x-1", "Que risque un travailleur social qui parle trop ?"),
                 ("x-2", "Est-ce que l'avocat peut participer à une concertation ?"),
                 ("x-3", "C'est quoi une CSIL-R ?"),
                 ("x-4", "Le secret professionnel s'applique-t-il aux stagiaires ?")]
    examples = [("t", "Que risque un travailleur social qui révèle un secret ?"),  # a quoted clause
                ("t", "Un avocat peut-il participer à une concertation de cas ?"),  # reworded
                ("t", "Que peut-on partager dans une CSIL-R sur une personne radicalisée ?"),
                ("t", "Le secret professionnel s'applique-t-il après la fin de l'aide ?")]
    pairs = near_duplicates(examples, questions, topic_words(eval_questions()))
    assert [qid for _, _, qid, _ in pairs] == ["x-1", "x-2"]


def test_the_lexicon_example_is_read_from_its_header(tmp_path):
    path = tmp_path / "lexicon.yaml"
    path.write_text('# a question about "prévenir le parquet" meets "informer le procureur du Roi".\n'
                    "- words: [parquet]\n  legal: informer le procureur du Roi\n"
                    "# an entry's own comment, not the example: « il viole le secret »\n"
                    "- words: [viol]\n  legal: atteinte à l'intégrité sexuelle\n", encoding="utf-8")
    assert lexicon_example(path) == "prévenir le parquet"


def test_no_yaml_example_is_a_near_copy_of_an_evaluation_question():
    questions = eval_questions()
    pairs = near_duplicates(yaml_examples(), questions, topic_words(questions))
    # The question's id only, not its text: whoever fixes the data file must not read the
    # questions of a blind set (session 14: a failure message showed three of them).
    close = [(source, example, qid) for source, example, qid, _ in pairs]
    if close:
        pytest.fail("exemples trop proches d'une question d'évaluation :\n" + "\n".join(
            f"  {source}: « {example} » ~ {qid}" for source, example, qid in close), pytrace=False)
