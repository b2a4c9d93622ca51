"""Reading official files: PDF, saved web page, DOCX, plain text; refusals in French."""

from __future__ import annotations

import re

import pytest

from assistant.ingest.formats import TextExtractor, drop_running_lines
from assistant.ingest.importer import ImportFailure
from tests.helpers import official_fixtures as fx


@pytest.fixture
def extract():
    return TextExtractor().extract


@pytest.mark.unit
def test_justel_pdf_footers_dropped_and_pages_marked(tmp_path, extract):
    found = extract(fx.justel_pdf(tmp_path / "loi.pdf"))
    assert found.format == "pdf" and found.pages == 3
    assert "Copyright" not in found.text and "Page 2 de 3" not in found.text
    # The page break inside art. 2 is marked for the Justel parser, which joins the sentence.
    assert "inventées\n[— fin de la page 2/3 du PDF Justel —]\npour ce test." in found.text
    assert "secret profes-\nsionnel" in found.text  # lines as the PDF broke them: repaired later
    assert len(found.sha256) == 64 and found.sha256 == __import__("hashlib").sha256(
        (tmp_path / "loi.pdf").read_bytes()).hexdigest()


@pytest.mark.unit
def test_running_lines_repeated_on_most_pages_are_dropped_not_text():
    words = ["jardin", "arrosoir", "tulipe", "râteau"]
    pages = [f"Bulletin fictif n° {n}\nLe {word} de test.\nUne phrase sur le {word}.\nEncore le {word}.\n"
             f"Dernière ligne du {word}.\nBulletin fictif — {n}/4" for n, word in enumerate(words, start=1)]
    cleaned = drop_running_lines(pages)
    assert cleaned[0] == "Le jardin de test.\nUne phrase sur le jardin.\nEncore le jardin.\nDernière ligne du jardin."
    assert all("Bulletin fictif" not in page and page.count("\n") == 3 for page in cleaned)
    # Two pages are not enough to call a line « repeated »: only known footer shapes go.
    two = drop_running_lines(["Art. 1. Texte de test.\nPage 1 de 2", "Art. 2. Autre texte de test.\nPage 2 de 2"])
    assert two == ["Art. 1. Texte de test.", "Art. 2. Autre texte de test."]


@pytest.mark.unit
def test_html_page_text_without_scripts_and_with_line_breaks(tmp_path, extract):
    found = extract(fx.justel_html(tmp_path / "loi.html"))
    assert found.format == "html" and found.pages is None
    assert "tracking" not in found.text and "Art. 99" not in found.text  # script dropped
    assert "Premier mot" not in found.text  # navigation dropped
    assert "Art. 1er. Le travailleur social de test" in found.text  # anchor and text on one line
    assert re.search(r"de test\.\n+§ 2\. Le secret", found.text)  # <br> is a line break
    assert "(1)<L 2001-02-03/04, art. 5, 006; En vigueur : 01-03-2001>" in found.text  # entities decoded
    assert "Texte" in found.headings


@pytest.mark.unit
def test_html_in_the_declared_legacy_encoding_is_read(tmp_path, extract):
    found = extract(fx.justel_html(tmp_path / "loi.htm", encoding="cp1252", declared="windows-1252"))
    assert "Législation consolidée" in found.text and "présente loi de test" in found.text


@pytest.mark.unit
def test_docx_paragraphs_headings_and_tables(tmp_path, extract):
    found = extract(fx.circular_docx(tmp_path / "circulaire.docx"))
    assert found.format == "docx"
    assert "2.1. Les réunions du conseil" in found.headings
    assert "2.1. Les réunions du conseil\n\nLes réunions du conseil imaginaire" in found.text
    assert "Annexe de test | Modèle fictif" in found.text


@pytest.mark.unit
def test_plain_text_utf8_with_bom(tmp_path, extract):
    path = tmp_path / "loi.txt"
    path.write_bytes("\ufeffArt. 1er. Texte de test accentué.\r\n".encode("utf-8"))
    found = extract(path)
    assert found.text == "Art. 1er. Texte de test accentué." and found.format == "texte"


@pytest.mark.unit
@pytest.mark.parametrize("make, expected", [
    (lambda d: fx.blank_pdf(d / "vide.pdf"), "ce PDF ne contient aucun texte (1 page(s))"),
    (lambda d: fx.image_only_pdf(d / "scan.pdf"), "probablement un document scanné"),
    (lambda d: _write(d / "zero.pdf", b""), "le fichier est vide"),
    (lambda d: _write(d / "faux.pdf", "Art. 1er. Pas un PDF.".encode()), "ce n'est pas un PDF"),
    (lambda d: _write(d / "abime.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage"), "PDF illisible ou abîmé"),
    (lambda d: _write(d / "latin1.txt", "Art. 1er. Le secret de test est protégé.".encode("cp1252")),
     "n'est pas en UTF-8 (il semble être en Windows-1252 / Latin-1)"),
    (lambda d: fx.justel_html(d / "mojibake.html", encoding="utf-8", declared="iso-8859-1"), "texte mal décodé"),
    (lambda d: _write(d / "ancien.docx", b"\xd0\xcf\x11\xe0 vieux format Word"), "ce n'est pas un document Word"),
    (lambda d: _write(d / "texte.odt", b"PK\x03\x04"), "format non reconnu"),
    (lambda d: d / "absent.pdf", "fichier introuvable"),
    (lambda d: d, "est un dossier"),
    (lambda d: _write(d / "blanc.txt", b"   \n\n "), "le fichier est vide"),
    (lambda d: _write(d / "signes.txt", "§ ; : — …".encode()), "aucun texte lisible"),
])
def test_bad_files_refused_in_french(tmp_path, extract, make, expected):
    with pytest.raises(ImportFailure) as caught:
        extract(make(tmp_path))
    assert expected in str(caught.value)


def _write(path, data: bytes):
    path.write_bytes(data)
    return path
