"""`assistant corpus add`: made-up official files in each format → reviewed corpus files; bad
files refused in French with the corpus and the live index left byte for byte as they were."""

from __future__ import annotations

import datetime
import hashlib
import shutil
from pathlib import Path

import pytest

from assistant.corpus.model import Corpus
from tests.conftest import SAMPLE_META, run_cli
from tests.helpers import official_fixtures as fx

pytest.register_assert_rewrite("tests.helpers.retrieval_fixtures")

NEW = ["--title", "1er JANVIER 2000. - Loi de test", "--kind", "loi", "--jurisdiction", "fédéral",
       "--date", "2000-01-01", "--source", "https://example.org/loi-de-test"]
CIRCULAR = ["--title", "Circulaire de test du 1er janvier 2000", "--label", "Circulaire de test", "--kind",
            "circulaire", "--jurisdiction", "Région wallonne", "--date", "2000-01-01"]
PARTIAL = f"""---
id: loi-test-2000
{SAMPLE_META.replace("complete: true", "complete: false")}missing: "Tout sauf l'art. 2."
aliases: ["loi de test"]
description: Notes de recherche de test.
---

::: art-2
@partial: true
Art. 2. Toute personne violant le secret de test […]
:::
"""


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under the folder and its SHA-256: equal snapshots mean byte-identical trees."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def corpus_dir(tmp_path, monkeypatch) -> Path:
    """A small corpus with one partial made-up document."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "loi-test-2000.md").write_text(PARTIAL, encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(folder))
    return folder


def added(corpus_dir: Path, doc_id: str):
    corpus = Corpus.load(corpus_dir)
    assert corpus.problems == []
    return corpus.documents[doc_id]


@pytest.mark.integration
def test_justel_pdf(tmp_path, corpus_dir, capsys):
    source = fx.justel_pdf(tmp_path / "loi-test.pdf")
    code, out, err = run_cli(capsys, "corpus", "add", str(source), "--id", "loi-test-2000-bis", *NEW)
    assert code == 0, err
    assert "4 article(s), 2 intitulé(s)" in out and "assistant corpus update" in out
    document = added(corpus_dir, "loi-test-2000-bis")
    assert [u.id for u in document.units] == [f"loi-test-2000-bis:art-{n}" for n in ("1", "2", "2bis", "3")]
    art1, art2, _, art3 = document.units
    assert art1.text == ("Art. 1er. Le travailleur social de test est tenu au secret professionnel relativement "
                         "aux informations imaginaires qu'il reçoit dans l'exercice de ses fonctions de test.\n\n"
                         "§ 2. Le secret ne s'applique pas à la concertation de test organisée par le conseil "
                         "imaginaire.")
    # A sentence cut by the page break, without the footer.
    assert art2.text == ("Art. 2. Toute personne violant le secret de test sera punie d'une amende de test de vingt "
                         "euros imaginaires, sans préjudice des sanctions disciplinaires inventées pour ce test.")
    assert art1.path == ["CHAPITRE I. - Dispositions de test."]
    assert art3.path == ["CHAPITRE II. - Dispositions finales de test."] and art3.text.startswith("Article 3.")
    meta = document.meta
    assert meta["complete"] is True and meta["in_force"] == "2000-01-12"  # read in the Justel header
    assert meta["sources"] == [{"url": "https://example.org/loi-de-test"}]
    assert meta["provenance"] == {
        "file": "loi-test.pdf", "sha256": hashlib.sha256(source.read_bytes()).hexdigest(), "format": "pdf",
        "pages": 3, "added": datetime.datetime.now(datetime.timezone.utc).date().isoformat(),
        "command": "assistant corpus add"}
    code, out, _ = run_cli(capsys, "corpus", "check")
    assert code == 0 and "Corpus valide : 2 documents" in out


@pytest.mark.integration
@pytest.mark.parametrize("make", [fx.circular_pdf, fx.circular_docx], ids=["pdf", "docx"])
def test_circular_numbered_sections(tmp_path, corpus_dir, capsys, make):
    source = make(tmp_path / ("circulaire.pdf" if make is fx.circular_pdf else "circulaire.docx"))
    code, out, err = run_cli(capsys, "corpus", "add", str(source), "--id", "circulaire-test-2000", *CIRCULAR)
    assert code == 0, err
    document = added(corpus_dir, "circulaire-test-2000")
    units = {u.id.split(":")[1]: u for u in document.units}
    assert list(units) == ["preambule", "point-1", "point-2-1", "point-2-2", "point-3"]
    assert units["point-2-1"].title == "2.1. Les réunions du conseil"
    assert units["point-2-1"].path == ["2. Le secret des conseillers"]
    assert units["point-2-1"].text == ("2.1. Les réunions du conseil\n\nLes réunions du conseil imaginaire se "
                                       "tiennent à huis clos de test.\n\nLes conseillers de test ne discutent pas des "
                                       "dossiers avec un tiers :\n\n1° ni avec la presse imaginaire ;\n\n2° ni avec "
                                       "leur famille fictive.")
    assert "Circulaire de test - page" not in units["point-3"].text  # the PDF's footer
    assert document.meta["provenance"]["format"] == source.suffix[1:]
    assert document.label == "Circulaire de test"


@pytest.mark.integration
def test_justel_web_page(tmp_path, corpus_dir, capsys):
    source = fx.justel_html(tmp_path / "loi-test.html")
    code, _, err = run_cli(capsys, "corpus", "add", str(source), "--id", "loi-test-2000-web", *NEW)
    assert code == 0, err
    document = added(corpus_dir, "loi-test-2000-web")
    assert [u.number for u in document.units] == ["1", "2", "3"]
    art2, art3 = document.units[1], document.units[2]
    assert art2.plain_text == ("Art. 2. Toute personne violant le secret de test sera punie d'une amende de test de "
                               "vingt euros imaginaires.")  # Justel markers kept in the text, out of the reading
    assert art2.history[0]["act"] == "L 2001-02-03/04" and art2.history[0]["in_force"] == "2001-03-01"
    assert art3.text == "Art. 3. La présente loi de test entre en vigueur le jour de sa publication imaginaire."


@pytest.mark.integration
def test_replacing_a_partial_document_keeps_its_id(tmp_path, corpus_dir, capsys, monkeypatch):
    before = (corpus_dir / "loi-test-2000.md").read_text(encoding="utf-8")
    source = tmp_path / "loi.txt"
    source.write_text(fx.law_text(), encoding="utf-8")
    code, _, err = run_cli(capsys, "corpus", "add", str(source), "--id", "loi-test-2000")
    assert code == 2 and "existe déjà" in err and "--replace" in err
    assert (corpus_dir / "loi-test-2000.md").read_text(encoding="utf-8") == before

    code, out, err = run_cli(capsys, "corpus", "add", str(source), "--id", "loi-test-2000", "--replace")
    assert code == 0, err
    document = added(corpus_dir, "loi-test-2000")
    assert "loi-test-2000:art-2" in [u.id for u in document.units]  # citations of the partial text still resolve
    assert not document.units[1].partial
    meta = document.meta
    assert meta["complete"] is True and meta["missing"] is None
    assert meta["label"] == "Loi d'essai" and meta["aliases"] == ["loi de test"]  # carried over
    assert meta["sources"] == [{"url": "https://example.org/essai"}]
    assert meta["provenance"]["format"] == "texte"
    backups = list((Path(str(tmp_path)) / "home" / "corpus-backups").glob("loi-test-2000.*.md"))
    assert len(backups) == 1 and backups[0].read_text(encoding="utf-8") == before
    assert str(backups[0]) in out


@pytest.mark.integration
def test_partial_text_says_what_is_missing(tmp_path, corpus_dir, capsys):
    source = tmp_path / "extrait.txt"
    source.write_text(fx.law_text(fx.JUSTEL_ARTICLES[:2]), encoding="utf-8")
    code, _, err = run_cli(capsys, "corpus", "add", str(source), "--id", "loi-test-extrait", *NEW,
                           "--partial", "seul l'art. 1er")
    assert code == 0, err
    corpus = Corpus.load(corpus_dir)
    document = corpus.documents["loi-test-extrait"]
    assert document.meta["complete"] is False and document.meta["missing"] == "seul l'art. 1er"
    assert corpus.unit_dict(document.units[0])["complete"] is False


BAD_INPUTS = {
    "pdf vide": (lambda d: fx.blank_pdf(d / "vide.pdf"), NEW, "ce PDF ne contient aucun texte"),
    "pdf scanné": (lambda d: fx.image_only_pdf(d / "scan.pdf"), NEW, "document scanné"),
    "mauvais encodage": (lambda d: _write(d / "loi.txt", fx.law_text().encode("cp1252")), NEW, "pas en UTF-8"),
    "article en double": (lambda d: _write(d / "loi.txt", fx.law_text(fx.JUSTEL_ARTICLES + [
        ("Art. 2.", "Une seconde version inventée de l'article 2.")]).encode()), NEW, "art. 2 (2 fois)"),
    "fichier absent": (lambda d: d / "absent.pdf", NEW, "fichier introuvable"),
    "extension inconnue": (lambda d: _write(d / "loi.rtf", b"{\\rtf1 Art. 1er.}"), NEW, "format non reconnu"),
    "nouveau document sans intitulé": (lambda d: fx.justel_pdf(d / "loi.pdf"), ["--kind", "loi"],
                                       "indiquez aussi --title, --jurisdiction, --date"),
    "date impossible": (lambda d: fx.justel_pdf(d / "loi.pdf"), NEW[:-4] + ["--date", "2000-02-30"],
                        "ne passe pas « corpus check »"),
    "nature inconnue": (lambda d: fx.justel_pdf(d / "loi.pdf"), NEW[:2] + ["--kind", "roman"] + NEW[4:],
                        "nature inconnue « roman »"),
}


@pytest.mark.integration
@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_refused_and_nothing_changes(tmp_path, corpus_dir, capsys, monkeypatch, small_index, name):
    monkeypatch.setenv("ASSISTANT_INDEX_DIR", str(small_index.index_dir))
    make, options, expected = BAD_INPUTS[name]
    source = make(tmp_path)
    corpus_before, index_before = snapshot(corpus_dir), snapshot(small_index.index_dir)
    code, out, err = run_cli(capsys, "corpus", "add", str(source), "--id", "loi-test-2000-bis", *options)
    assert code == 2 and out == ""
    assert err.startswith("Erreur : ") and expected in err and "Traceback" not in err
    assert "Le corpus et l'index en service sont inchangés." in err
    assert snapshot(corpus_dir) == corpus_before
    assert snapshot(small_index.index_dir) == index_before


@pytest.mark.integration
def test_invalid_id_refused(tmp_path, corpus_dir, capsys):
    source = fx.justel_pdf(tmp_path / "loi.pdf")
    code, _, err = run_cli(capsys, "corpus", "add", str(source), "--id", "Loi Test", *NEW)
    assert code == 2 and "id invalide « Loi Test »" in err
    assert snapshot(corpus_dir) == {"loi-test-2000.md": hashlib.sha256(PARTIAL.encode()).hexdigest()}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.integration
@pytest.mark.slow
def test_raw_justel_extraction_gives_the_same_code_penal_as_import_justel(tmp_path, monkeypatch, capsys):
    """The plain-text path reuses the Justel parser: same 883 articles, wording and headings."""
    from tests.conftest import CORPUS_DIR, SOURCES_DIR

    folder = tmp_path / "corpus"
    folder.mkdir()
    for name in ("code-penal-1867.md", "code-penal-2024.md"):  # the old Code names the new one
        shutil.copy(CORPUS_DIR / name, folder / name)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(folder))
    code, out, err = run_cli(capsys, "corpus", "add", str(SOURCES_DIR / "code-penal-1867.justel-2024-05-28.raw.txt"),
                             "--id", "code-penal-1867", "--replace")
    assert code == 0, err
    assert "883 article(s), 175 intitulé(s)" in out
    imported = Corpus.load(CORPUS_DIR).documents["code-penal-1867"]
    added_again = added(folder, "code-penal-1867")
    assert [(u.id, u.path, u.text) for u in added_again.units] == [(u.id, u.path, u.text) for u in imported.units]
    assert added_again.meta["version"] == "2024-05-28" and added_again.meta["replaced_by"] == "code-penal-2024"


@pytest.mark.integration
def test_kind_and_level_of_power_as_a_trainer_types_them(tmp_path, corpus_dir, capsys):
    source = tmp_path / "extrait.txt"
    source.write_text(fx.law_text(fx.JUSTEL_ARTICLES[:2]), encoding="utf-8")
    code, _, err = run_cli(capsys, "corpus", "add", str(source), "--id", "decret-test-2001", "--title",
                           "Décret de test du 2 février 2001", "--kind", "DECRET", "--jurisdiction", "wallonie",
                           "--date", "2001-02-02")
    assert code == 0, err
    meta = added(corpus_dir, "decret-test-2001").meta
    assert (meta["kind"], meta["jurisdiction"]) == ("décret", "Région wallonne")
