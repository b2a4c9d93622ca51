"""The corpus loader: hand-written minimal files (format of docs/corpus-format.md), every
problem reported as file:line with a French message, and the real corpus end to end."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.corpus.model import Corpus, CorpusError
from assistant.config import REPO_ROOT
from tests.conftest import CORPUS_DIR, SAMPLE_META, SOURCES_DIR

pytestmark = pytest.mark.unit

# The shared originals, beside the repository on the machines of this project; their copies in
# corpus/sources/ (committed) are what the verbatim check reads, so it runs everywhere.
SHARED_SOURCES = REPO_ROOT.parent / "shared" / "legal_corpus" / "sources"

HEADER = "---\nid: {id}\n" + SAMPLE_META.replace("{", "{{").replace("}", "}}") + "---\n"

BODY = """<!-- note de formateur : jamais lue comme du texte -->
# LIVRE 1. - Premier livre
## TITRE I. - Premier titre
### CHAPITRE I. - Premier chapitre
::: art-1
@note: Citation partielle.
Art. 1er. Premier article.
:::

::: art-2bis | Article deux bis
@partial: true
Art. 2bis. Deuxième article.
<!-- commentaire de formateur dans une unité -->
Suite du deuxième article.
## TITRE II. - Second titre
::: question | Question écrite
Texte de la question.
:::
"""

WHOLE = """::: (document)
Texte d'un document sans articles.
"""


def write_doc(directory: Path, doc_id: str = "doc", *, file: str | None = None,
              body: str = BODY, replace: dict | None = None) -> Path:
    """A valid document; `replace` breaks one thing (each old text must be there)."""
    text = HEADER.format(id=doc_id) + body
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new, 1)
    path = directory / f"{file or doc_id}.md"
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path: Path, fragment: str, occurrence: int = 1) -> int:
    numbers = [i for i, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if fragment in line]
    return numbers[occurrence - 1]


# -- a valid document -------------------------------------------------------------------

@pytest.fixture
def loaded(empty_corpus) -> Corpus:
    write_doc(empty_corpus)
    write_doc(empty_corpus, "whole", body=WHOLE)
    return Corpus.load(empty_corpus)


def test_valid_minimal_documents_load_without_problems(loaded):
    assert loaded.problems == []
    assert list(loaded.documents) == ["doc", "whole"]
    assert [u.id for u in loaded.units] == ["doc:art-1", "doc:art-2bis", "doc:question", "whole"]
    assert [u.kind for u in loaded.units] == ["article", "article", "section", "document"]
    assert [u.number for u in loaded.units] == ["1", "2bis", None, None]
    assert [u.title for u in loaded.units[:3]] == ["Art. 1", "Article deux bis", "Question écrite"]
    assert all(u.document == u.id.split(":")[0] for u in loaded.units)


def test_heading_path_and_deeper_levels_reset(loaded):
    art1, art2, question, whole = loaded.units
    first = ["LIVRE 1. - Premier livre", "TITRE I. - Premier titre", "CHAPITRE I. - Premier chapitre"]
    assert art1.path == first and art2.path == first
    assert question.path == ["LIVRE 1. - Premier livre", "TITRE II. - Second titre"]
    assert whole.path == []


def test_unit_text_attributes_and_comments(loaded):
    art1, art2, question, whole = loaded.units
    assert art1.text == "Art. 1er. Premier article."
    assert (art1.note, art1.partial) == ("Citation partielle.", False)
    # Closed by the next heading; the HTML comment line is not text.
    assert art2.text == "Art. 2bis. Deuxième article.\nSuite du deuxième article."
    assert (art2.note, art2.partial) == (None, True)
    assert question.text == "Texte de la question."
    assert whole.text == "Texte d'un document sans articles."
    assert not any("<!--" in u.text or "@" in u.text for u in loaded.units)


# -- every bad input gives one problem, at the right line, in French ----------------------

BAD_INPUTS = {
    # name: (write_doc keyword arguments, fragment of the faulty line or a line number, French word)
    "yaml illisible": (dict(replace={"label: Loi d'essai": "label: Loi: d'essai"}), "label:", "illisible"),
    "en-tête non fermé": (dict(replace={"complete: true\n---\n": "complete: true\n"}), 1, "non fermé"),
    "champ obligatoire absent": (dict(replace={"label: Loi d'essai\n": ""}), 1, "obligatoire"),
    "champ inconnu": (dict(replace={"kind: loi": "auteur: Moi\nkind: loi"}), "auteur:", "inconnu"),
    "nature invalide": (dict(replace={"kind: loi": "kind: roman"}), "kind:", "nature"),
    "niveau de pouvoir invalide": (dict(replace={"jurisdiction: fédéral": "jurisdiction: Bruxelles"}),
                                   "jurisdiction:", "pouvoir"),
    "date mal écrite": (dict(replace={'date: "2020-01-01"': "date: 01/01/2020"}), "date:", "date invalide"),
    # YAML reads an unquoted date itself: an impossible one must not crash the loader.
    "date impossible sans guillemets": (dict(replace={'date: "2020-01-01"': "date: 2024-13-45"}),
                                        "date:", "date invalide"),
    "date impossible entre guillemets": (dict(replace={'date: "2020-01-01"': 'date: "2024-02-30"'}),
                                         "date:", "date invalide"),
    "partiel sans missing": (dict(replace={"complete: true": "complete: false"}), 1, "manque"),
    "id différent du nom de fichier": (dict(file="autre"), "id:", "nom du fichier"),
    # `id: 2024` is a YAML number: the file must be reported, not silently dropped.
    "id qui n'est pas un texte": (dict(doc_id="2024"), "id:", "id"),
    "unité en double": (dict(replace={"::: question | Question écrite": "::: art-1"}), ("::: art-1", 2), "double"),
    "champ d'unité inconnu": (dict(replace={"@note: Citation partielle.": "@auteur: Moi"}), "@auteur", "inconnu"),
    "unité vide": (dict(body="::: art-1\n:::\n"), "::: art-1", "vide"),
    "texte hors d'une unité": (dict(replace={":::\n\n": ":::\nTexte perdu.\n"}), "Texte perdu.", "hors d'une unité"),
    "clé d'unité invalide": (dict(replace={"::: art-1": "::: Art-1"}), "::: Art-1", "invalide"),
    # An opening line with a space in the key must not silently join the previous unit's text.
    "clé d'unité avec espace": (dict(body="::: art-1\nArt. 1er. Un.\n::: art 2\nArt. 2. Deux.\n:::\n"),
                                "::: art 2", "invalide"),
    "replaced_by absent du corpus": (dict(replace={"complete: true": "complete: true\nreplaced_by: code-inconnu"}),
                                     "replaced_by:", "absent"),
}


@pytest.mark.parametrize("name", BAD_INPUTS)
def test_each_bad_input_gives_exactly_one_located_french_problem(empty_corpus, name):
    kwargs, where, word = BAD_INPUTS[name]
    path = write_doc(empty_corpus, **kwargs)
    line = where if isinstance(where, int) else line_of(path, *([where] if isinstance(where, str) else where))
    problems = Corpus.load(empty_corpus).problems
    assert [(p.file, p.line) for p in problems] == [(str(path), line)], problems
    assert word in problems[0].message


def test_missing_header(empty_corpus):
    path = empty_corpus / "doc.md"
    path.write_text(BODY, encoding="utf-8")
    corpus = Corpus.load(empty_corpus)
    assert [(p.file, p.line) for p in corpus.problems] == [(str(path), 1)]
    assert "en-tête manquant" in corpus.problems[0].message
    assert corpus.documents == {}


def test_file_that_is_not_utf8(empty_corpus):
    path = empty_corpus / "doc.md"
    path.write_bytes(b"\xff\xfe---\nid: doc\n" + "é".encode("latin-1"))
    corpus = Corpus.load(empty_corpus)
    assert [(p.file, p.line) for p in corpus.problems] == [(str(path), 1)]
    assert "UTF-8" in corpus.problems[0].message and "fichier" in corpus.problems[0].message


def test_same_document_id_in_two_files(empty_corpus):
    write_doc(empty_corpus, "doc")
    second = write_doc(empty_corpus, "doc", file="zz-copie")
    corpus = Corpus.load(empty_corpus)
    duplicates = [p for p in corpus.problems if "double" in p.message]
    assert [(p.file, p.line) for p in duplicates] == [(str(second), line_of(second, "id:"))]
    assert "doc.md" in duplicates[0].message
    assert corpus.documents["doc"].file.name == "doc.md"


# -- unit_dict and lookups ----------------------------------------------------------------

def test_unit_dict_keys_and_values(loaded):
    expected_keys = {"id", "document", "kind", "number", "title", "label", "path", "text", "plain_text",
                     "references", "history", "version", "complete", "note"}
    for unit in loaded.units:
        assert set(loaded.unit_dict(unit)) == expected_keys
    art1 = loaded.unit_dict(loaded.unit("doc:art-1"))
    assert art1["label"] == "Loi d'essai, art. 1"
    assert (art1["complete"], art1["note"], art1["version"], art1["history"]) == (True, "Citation partielle.", None, [])
    assert loaded.unit_dict(loaded.unit("doc:question"))["label"] == "Loi d'essai — Question écrite"


def test_partial_unit_is_incomplete_even_in_a_complete_document(loaded):
    assert loaded.documents["doc"].complete is True
    assert loaded.unit_dict(loaded.unit("doc:art-2bis"))["complete"] is False


def test_every_unit_of_a_partial_document_is_incomplete(empty_corpus):
    write_doc(empty_corpus, replace={"complete: true": "complete: false\nmissing: tout sauf l'art. 1er"})
    corpus = Corpus.load(empty_corpus)
    assert corpus.problems == []
    assert [corpus.unit_dict(u)["complete"] for u in corpus.units] == [False, False, False]


def test_unit_lookup_by_document_id_and_unknown_ids(loaded):
    assert loaded.unit("doc").id == "doc:art-1"
    assert loaded.unit("whole").id == "whole"
    for unknown in ("inconnu", "doc:art-99", "inconnu:art-1"):
        with pytest.raises(CorpusError, match="aucune unité"):
            loaded.unit(unknown)


# -- the real corpus ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def real():
    return Corpus.load(CORPUS_DIR)


def readme_rows() -> list[tuple[list[str], str]]:
    """(document ids, "what we have") for each row of the table of README-legal_corpus.md."""
    rows = []
    for line in (SOURCES_DIR / "README-legal_corpus.md").read_text(encoding="utf-8").split("\n"):
        cells = line.split("|")
        ids = re.findall(r"`([^`]+)`", cells[1]) if line.startswith("|") else []
        if ids:
            rows.append((ids, cells[3].strip()))
    return rows


@pytest.mark.integration
def test_real_corpus_has_no_problems(real):
    assert real.problems == []
    assert len(real.documents) == 13


@pytest.mark.integration
def test_every_document_of_the_sources_readme_is_in_the_corpus(real):
    ids = {doc_id for row_ids, _ in readme_rows() for doc_id in row_ids}
    assert len(ids) >= 13
    assert ids <= set(real.documents), ids - set(real.documents)


@pytest.mark.integration
def test_readme_completeness_matches_the_documents(real):
    for ids, what in readme_rows():
        for doc_id in ids:
            if what.startswith("partial"):
                assert real.documents[doc_id].complete is False, doc_id
            elif what.startswith("**complete**"):
                assert real.documents[doc_id].complete is True, doc_id


@pytest.mark.integration
def test_code_penal_1867_is_complete_and_replaced(real):
    code = real.documents["code-penal-1867"]
    assert sum(u.kind == "article" for u in code.units) >= 800
    assert code.complete is True
    assert code.meta["replaced_by"] == "code-penal-2024"
    note = code.meta["replaced_note"]
    assert "pas connus" in note or "inconnu" in note


@pytest.mark.integration
def test_partial_documents_say_what_is_missing(real):
    partial = [d for d in real.documents.values() if not d.complete]
    assert len(partial) >= 10
    for document in partial:
        assert document.meta["complete"] is False, document.id
        assert isinstance(document.meta.get("missing"), str) and document.meta["missing"].strip(), document.id


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.integration
def test_units_other_than_the_code_are_verbatim_from_the_shared_sources(real):
    files = sorted(p for p in SOURCES_DIR.glob("*.md") if not p.name.startswith("README"))
    assert len(files) >= 10, f"copies des sources officielles absentes de {SOURCES_DIR}"
    if SHARED_SOURCES.is_dir():  # the committed copies are the shared originals, byte for byte
        originals = {p.name: p.read_bytes() for p in SHARED_SOURCES.glob("*.md")}
        assert {p.name: p.read_bytes() for p in files} == originals
    sources = "\n".join(path.read_text(encoding="utf-8") for path in files)
    sources = re.sub(r"^[ \t]*> ?", "", sources, flags=re.M).replace("**", "").replace("*", "")
    sources = squash(sources)
    others = [d for d in real.documents.values() if d.id != "code-penal-1867"]
    assert len(others) == 12
    for document in others:
        assert document.units, document.id
        for unit in document.units:
            assert squash(unit.text) in sources, unit.id


@pytest.mark.integration
def test_research_notes_never_leak_into_units(real):
    for unit in real.units:
        lowered = unit.text.lower()
        assert "résumé, non verbatim" not in lowered and "non trouvé" not in lowered, unit.id
        assert "NON TROUVÉ" not in unit.text, unit.id
