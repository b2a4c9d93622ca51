"""Made-up official documents for the `corpus add` tests, written in the formats users have.

Every wording here is invented for the tests (« Loi de test du 1er janvier 2000 », jardins et
travailleurs imaginaires): no real legal text. The PDFs are drawn with fpdf2 the way the real
exports look: a Justel export (header, table of contents, « Texte », page footers « Page N
de M Copyright Moniteur belge », sentences and words cut across lines and pages), and a
circular with numbered sections.
"""

from __future__ import annotations

from pathlib import Path

JUSTEL_ARTICLES = [
    ("Art. 1er.", "Le travailleur social de test est tenu au secret professionnel relativement aux informations "
                  "imaginaires qu'il reçoit dans l'exercice de ses fonctions de test."),
    ("§ 2.", "Le secret ne s'applique pas à la concertation de test organisée par le conseil imaginaire."),
    ("Art. 2.", "Toute personne violant le secret de test sera punie d'une amende de test de vingt euros "
                "imaginaires, sans préjudice des sanctions disciplinaires inventées pour ce test."),
    ("Art. 2bis.", "Le jardinier communal de test arrose les plantes imaginaires chaque mardi."),
    ("Article 3.", "La présente loi de test entre en vigueur le jour de sa publication imaginaire."),
]
JUSTEL_HEADER = [
    "JUSTEL - Législation consolidée",
    "Dossier numéro : 2000-01-01/99",
    "Titre",
    "1er JANVIER 2000. - Loi de test relative au secret des travailleurs imaginaires",
    "Publication : Moniteur belge du 02-01-2000 page : 1",
    "Entrée en vigueur : 12-01-2000",
    "Table des matières",
    "CHAPITRE I. - Dispositions de test.",
    "Art. 1-3",
    "Texte",
]


def _pdf(footer: str | None = None):
    from fpdf import FPDF

    class Export(FPDF):
        def footer(self):
            if footer:
                self.set_y(-15)
                self.set_font("Helvetica", size=8)
                self.cell(0, 10, footer.format(page=self.page_no(), nb="{nb}"), align="C")

    pdf = Export()
    pdf.alias_nb_pages()
    pdf.set_auto_page_break(True, margin=20)
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    return pdf


def _line(pdf, text: str, height: float = 6) -> None:
    pdf.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")


def justel_pdf(path: Path) -> Path:
    """A Justel-like export over three pages: each article's text wraps over several lines,
    « profes-/sionnel » is hyphenated at a line end, and art. 2 runs across a page break."""
    pdf = _pdf("Page {page} de {nb} Copyright Moniteur belge 20-06-2024")
    for line in JUSTEL_HEADER:
        _line(pdf, line)
    pdf.add_page()
    _line(pdf, "CHAPITRE I. - Dispositions de test.")
    _line(pdf, "Art. 1er. Le travailleur social de test est tenu au secret profes-")
    _line(pdf, "sionnel relativement aux informations imaginaires qu'il reçoit dans")
    _line(pdf, "l'exercice de ses fonctions de test.")
    _line(pdf, "§ 2. Le secret ne s'applique pas à la concertation de test organisée par le conseil imaginaire.")
    pdf.set_y(262)  # the next article starts low: its end falls on the next page
    _line(pdf, "Art. 2. Toute personne violant le secret de test sera punie d'une amende de test de vingt")
    _line(pdf, "euros imaginaires, sans préjudice des sanctions disciplinaires inventées")
    _line(pdf, "pour ce test.")
    _line(pdf, "Art. 2bis. Le jardinier communal de test arrose les plantes imaginaires chaque mardi.")
    _line(pdf, "CHAPITRE II. - Dispositions finales de test.")
    _line(pdf, "Article 3. La présente loi de test entre en vigueur le jour de sa publication imaginaire.")
    pdf.output(str(path))
    return path


CIRCULAR_SECTIONS = [
    ("1. Introduction", ["La présente circulaire de test rappelle aux CPAS imaginaires les règles inventées du "
                         "secret professionnel de test, telles que les applique le service fictif."]),
    ("2. Le secret des conseillers", []),
    ("2.1. Les réunions du conseil", ["Les réunions du conseil imaginaire se tiennent à huis clos de test.",
                                      "Les conseillers de test ne discutent pas des dossiers avec un tiers :",
                                      "1° ni avec la presse imaginaire ;", "2° ni avec leur famille fictive."]),
    ("2.2. La consultation des dossiers", ["Le conseiller de test consulte les dossiers au secrétariat "
                                           "imaginaire, sans en prendre copie."]),
    ("3. Entrée en vigueur", ["La présente circulaire de test entre en vigueur le jour de sa signature fictive."]),
]


def circular_pdf(path: Path) -> Path:
    pdf = _pdf("Circulaire de test - page {page}")
    _line(pdf, "SERVICE PUBLIC DE TEST - Direction des CPAS imaginaires")
    _line(pdf, "Circulaire de test du 1er janvier 2000 relative au secret professionnel fictif")
    _line(pdf, "Aux présidents des CPAS imaginaires")
    for heading, paragraphs in CIRCULAR_SECTIONS:
        if heading.startswith("3."):
            pdf.add_page()
        pdf.ln(3)
        _line(pdf, heading)
        for paragraph in paragraphs:
            _line(pdf, paragraph)
    pdf.output(str(path))
    return path


def blank_pdf(path: Path) -> Path:
    """A PDF page with nothing on it."""
    _pdf().output(str(path))
    return path


def image_only_pdf(path: Path) -> Path:
    """A « scanned » page: one drawn image, no text layer."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (600, 800), "white")
    draw = ImageDraw.Draw(image)
    for y in range(80, 760, 24):
        draw.rectangle([60, y, 540, y + 10], fill="black")  # lines of « text » as pixels
    pdf = _pdf()
    pdf.image(image, x=10, y=10, w=190)
    pdf.output(str(path))
    return path


JUSTEL_HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>LOI - WET</title>
<script>var tracking = "Art. 99. ceci n'est pas un article";</script>
<style>.t { color: black }</style></head>
<body>
<nav><a href="#">Début</a> <a href="#">Premier mot</a> <a href="#">Dernier mot</a></nav>
<div class="header"><p>JUSTEL - Législation consolidée</p>
<p>Dossier numéro : 2000-01-01/99</p>
<p>Titre</p><p><b>1er JANVIER 2000. - Loi de test relative au secret des travailleurs imaginaires</b></p>
<p>Publication : Moniteur belge du 02-01-2000 page : 1</p><p>Entrée en vigueur : 12-01-2000</p></div>
<h2>Table des matières</h2>
<p><a href="#LNK0001">CHAPITRE I. - Dispositions de test.</a><br><a href="#Art.1er">Art. 1-3</a></p>
<h2>Texte</h2>
<div class="text">
<p><a name="LNK0001">CHAPITRE I.</a> - Dispositions de test.</p>
<p><a name="Art.1er">Art.</a> 1er. Le travailleur social de test est tenu au secret professionnel relativement
aux informations imaginaires qu'il reçoit dans l'exercice de ses fonctions de test.<br>
§ 2. Le secret ne s'applique pas à la concertation de test organisée par le conseil imaginaire.</p>
<p><a name="Art.2">Art.</a> 2. [1 Toute personne violant le secret de test sera punie d'une amende de test de
vingt euros imaginaires.]1<br>----------<br>(1)&lt;L 2001-02-03/04, art. 5, 006; En vigueur : 01-03-2001&gt;</p>
<p><a name="Art.3">Art.</a> 3. La présente loi de test entre en vigueur le jour de sa publication imaginaire.</p>
</div>
<h2>Signatures</h2><p>Le Ministre de test, A. Imaginaire.</p>
<h2>Modification(s)</h2><p>Art. 2. modifié par une loi de test.</p>
<footer>Copyright Moniteur belge</footer>
</body></html>
"""


def justel_html(path: Path, encoding: str = "utf-8", declared: str = "utf-8") -> Path:
    path.write_bytes(JUSTEL_HTML.replace('charset="utf-8"', f'charset="{declared}"').encode(encoding))
    return path


def circular_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Circulaire de test du 1er janvier 2000", level=1)
    document.add_paragraph("Aux présidents des CPAS imaginaires")
    for heading, paragraphs in CIRCULAR_SECTIONS:
        document.add_heading(heading, level=heading.count("."))
        for paragraph in paragraphs:
            document.add_paragraph(paragraph)
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "Annexe de test", "Modèle fictif"
    document.save(str(path))
    return path


def law_text(articles: list[tuple[str, str]] = JUSTEL_ARTICLES) -> str:
    lines = ["Loi de test du 1er janvier 2000 relative aux travailleurs imaginaires", ""]
    for start, text in articles:
        lines += [f"{start} {text}", ""]
    return "\n".join(lines)
