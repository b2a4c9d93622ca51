"""Official texts in the formats users have → plain text, one reader per format.

PDF (pypdf: text PDFs such as Justel / Moniteur belge exports and circulars), web pages
saved from Justel, Wallex, Gallilex or etaamb (BeautifulSoup on lxml), Word DOCX
(python-docx) and plain text. Every refusal is an `ImportFailure` with a French message.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from assistant.ingest.importer import ImportFailure

FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html", ".xhtml": "html", ".docx": "docx",
           ".txt": "texte", ".text": "texte"}
ACCEPTED = "PDF (.pdf), page web enregistrée (.html, .htm), Word (.docx) ou texte (.txt)"
# The page footer the Justel parser knows how to remove (assistant/sources/justel.py).
PAGE_MARKER = "[— fin de la page {page}/{pages} du PDF Justel —]"
# Footers and headers printed on every page of official PDFs.
RUNNING_LINE_RE = re.compile(
    r"^(?:Page\s*\d+\s*(?:de|sur|/)\s*\d+.*|.*Copyright\s*Moniteur\s*belge.*|\d+\s*/\s*\d+|-\s*\d+\s*-|\d+"
    r"|.{0,60}\bpage\s*\d+(?:\s*(?:/|de|sur)\s*\d+)?)$", re.I)
BLOCK_TAGS = {"p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "table", "section", "article",
              "blockquote", "pre", "dd", "dt", "ul", "ol", "center", "hr", "td", "th", "main", "body"}
DROPPED_TAGS = ["script", "style", "noscript", "nav", "header", "footer", "form", "button", "select", "iframe",
                "head", "svg"]
MOJIBAKE_RE = re.compile(r"Ã[\u0080-\u00bf]|â€|Â[\u00a0-\u00bf]")


@dataclass
class ExtractedText:
    text: str
    format: str  # pdf | html | docx | texte
    sha256: str
    pages: int | None = None
    headings: list[str] = field(default_factory=list)  # lines the source styled as headings


class TextExtractor:
    """`extract(path)` → ExtractedText, or ImportFailure saying in French what is wrong."""

    def extract(self, path: Path) -> ExtractedText:
        data = read_bytes(path)
        kind = FORMATS.get(path.suffix.lower())
        if kind is None:
            raise ImportFailure(f"{path.name} : format non reconnu (« {path.suffix or 'sans extension'} ») ; "
                                f"formats acceptés : {ACCEPTED}.")
        reader = {"pdf": read_pdf, "html": read_html, "docx": read_docx, "texte": read_plain}[kind]
        text, pages, headings = reader(path, data)
        text = normalise(text)
        check_text(path, text)
        return ExtractedText(text, kind, hashlib.sha256(data).hexdigest(), pages, headings)


def read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImportFailure(f"fichier introuvable : {path}") from None
    except IsADirectoryError:
        raise ImportFailure(f"{path} est un dossier, pas un fichier.") from None
    except OSError as error:
        raise ImportFailure(f"{path} : lecture impossible ({error.strerror or error.__class__.__name__}).") from None
    if not data.strip():
        raise ImportFailure(f"{path.name} : le fichier est vide.")
    return data


# -- PDF ----------------------------------------------------------------------------------

def read_pdf(path: Path, data: bytes):
    if not data.lstrip().startswith(b"%PDF"):
        raise ImportFailure(f"{path.name} : ce n'est pas un PDF (l'en-tête « %PDF » manque).")
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise ImportFailure(f"{path.name} : PDF protégé par un mot de passe ; fournissez une version non protégée.")
        pages = [page.extract_text() or "" for page in reader.pages]
    except ImportFailure:
        raise
    except Exception as error:  # pypdf raises many kinds on damaged files
        raise ImportFailure(f"{path.name} : PDF illisible ou abîmé ({error.__class__.__name__}).") from None
    if not any(page.strip() for page in pages):
        raise ImportFailure(f"{path.name} : ce PDF ne contient aucun texte ({len(pages)} page(s)) : c'est "
                            "probablement un document scanné (des images). Il faut un PDF texte (export Justel ou "
                            "Moniteur belge, circulaire enregistrée en PDF), ou une reconnaissance de caractères "
                            "(OCR) faite avant l'ajout.")
    pages = drop_running_lines(pages)
    joined = "\n".join(f"{page}\n{PAGE_MARKER.format(page=n, pages=len(pages))}" for n, page in
                       enumerate(pages, start=1))
    return joined, len(pages), []


def drop_running_lines(pages: list[str]) -> list[str]:
    """Remove page headers and footers: known patterns (« Page 2 de 9 », « Copyright Moniteur
    belge »), and short lines repeated at the same edge of most pages (digits ignored)."""
    split = [[line.strip() for line in page.split("\n") if line.strip()] for page in pages]
    counts = Counter(key for lines in split for key in set(edge_keys(lines).values()))
    repeated = {key for key, count in counts.items() if len(pages) >= 3 and count >= len(pages) / 2}
    cleaned = []
    for lines in split:
        running = {n for n, key in edge_keys(lines).items()
                   if key in repeated or RUNNING_LINE_RE.match(lines[n])}
        cleaned.append("\n".join(line for n, line in enumerate(lines) if n not in running))
    return cleaned


def edge_keys(lines: list[str]) -> dict[int, tuple[str, str]]:
    """Position → (edge, shape) for the two first and two last short lines of a page."""
    positions = [(n, "haut") for n in range(min(2, len(lines)))]
    positions += [(n, "bas") for n in range(max(2, len(lines) - 2), len(lines))]
    return {n: (edge, shape(lines[n])) for n, edge in positions if len(lines[n]) <= 90}


def shape(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split()))


# -- web pages ------------------------------------------------------------------------------

def read_html(path: Path, data: bytes):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "lxml")  # encoding from the page's own declaration, else detected
    for tag in soup(DROPPED_TAGS):
        tag.decompose()
    headings = [" ".join(h.get_text(" ").split()) for h in soup(["h1", "h2", "h3", "h4", "h5", "h6"])]
    for tag in soup.find_all(BLOCK_TAGS):
        if tag.name == "br":
            tag.replace_with("\n")
            continue
        tag.insert_before("\n")
        tag.append("\n")
    return soup.get_text(), None, [h for h in headings if h]


# -- Word ----------------------------------------------------------------------------------------

def read_docx(path: Path, data: bytes):
    if not data.startswith(b"PK"):
        raise ImportFailure(f"{path.name} : ce n'est pas un document Word .docx (un ancien .doc doit d'abord être "
                            "enregistré au format .docx).")
    import io

    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:
        raise ImportFailure(f"{path.name} : document Word illisible ou abîmé ({error.__class__.__name__}).") from None
    paragraphs, headings = [], []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            paragraphs += [" | ".join(cell.text.strip() for cell in row.cells) for row in block.rows]
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "") or ""
        if text and style.lower().startswith(("heading", "titre", "title")):
            headings.append(text)
        paragraphs.append(text)
    # A Word paragraph is a real paragraph: keep them apart (reflow joins only broken lines).
    return "\n\n".join(paragraphs), None, headings


# -- plain text ----------------------------------------------------------------------------------

def read_plain(path: Path, data: bytes):
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), None, []
    try:
        return data.decode("utf-8-sig"), None, []
    except UnicodeDecodeError as error:
        guess = " (il semble être en Windows-1252 / Latin-1)" if looks_like_cp1252(data) else ""
        raise ImportFailure(f"{path.name} : le texte n'est pas en UTF-8{guess} : octet illisible en position "
                            f"{error.start}. Réenregistrez-le en UTF-8 (« Enregistrer sous… », encodage UTF-8), "
                            "puis relancez.") from None


def looks_like_cp1252(data: bytes) -> bool:
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return any(c in text for c in "éèàçêûôœ’")


# -- common ----------------------------------------------------------------------------------------

def normalise(text: str) -> str:
    """NFC, no soft hyphens, ligatures or control characters; spaces and blank lines tidied."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.replace("\u00ad", "").replace("\ufb01", "fi").replace("\ufb02", "fl").replace("\ufb00", "ff")
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")
    lines = [re.sub(r"[ \t\u00a0\u202f\u2009]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def check_text(path: Path, text: str) -> None:
    if not re.search(r"\w{2,}", text):
        raise ImportFailure(f"{path.name} : aucun texte lisible dans ce fichier.")
    bad = text.count("\ufffd")
    if bad:
        raise ImportFailure(f"{path.name} : {bad} caractère(s) illisible(s) (« \ufffd ») : l'encodage du fichier est "
                            "faux ou mal déclaré. Enregistrez le document en UTF-8, puis relancez.")
    found = MOJIBAKE_RE.search(text)
    if found:
        raise ImportFailure(f"{path.name} : texte mal décodé (« {found.group(0)} » au lieu d'une lettre accentuée) : "
                            "l'encodage déclaré ne correspond pas au fichier. Enregistrez-le en UTF-8, puis relancez.")
