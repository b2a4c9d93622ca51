"""Reading and checking one corpus file: the YAML header (fields, dates, sources, provenance)
and the units opened by `::: key` lines. Every problem is appended as a `Problem` with its file and
line; nothing is raised (format: docs/corpus-format.md)."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import yaml

from assistant.corpus.model import Document, Problem, Unit

KINDS = {"code", "loi", "décret", "arrêté", "circulaire", "question parlementaire", "arrêt"}
JURISDICTIONS = {"fédéral", "Région wallonne", "Communauté française", "Communauté flamande"}
REQUIRED = ["id", "title", "label", "kind", "jurisdiction", "date", "sources", "complete"]
OPTIONAL = [
    "version", "in_force", "missing", "replaced_by", "replaced_on", "replaced_note", "aliases", "description",
    "provenance",
]
# Written by `assistant corpus add`: which file the text was taken from, and when.
PROVENANCE_KEYS = {"file", "sha256", "format", "pages", "added", "command"}
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
UNIT_ATTRIBUTES = {"title", "note", "partial"}
DATE_RE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
DOC_ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
UNIT_KEY_RE = re.compile(r"^(?:art-\d+[a-z]*(?:/\d+[a-z]*)*|[a-z][a-z0-9-]*)$")
UNIT_OPEN_RE = re.compile(r"^:::\s*(?P<key>[^|\s]*)\s*(?:\|\s*(?P<title>.*))?$")
WHOLE_DOCUMENT_KEY = "(document)"


class TextDateLoader(yaml.SafeLoader):
    """SafeLoader that leaves dates as written: we validate them ourselves, with a line."""


TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
INVALID = "invalid"
ATTRIBUTE_RE = re.compile(r"^@(?P<name>[A-Za-z_]+)\s*:\s*(?P<value>.*)$")


def read_document(path: Path, problems: list[Problem]) -> Document | None:
    """Parse one corpus file; append problems; None when the header is unusable."""
    name = str(path)
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        problems.append(Problem(name, 1, f"le fichier n'est pas en UTF-8 (octet {error.start})"))
        return None
    lines = content.lstrip("\ufeff").split("\n")
    meta, body_start = read_front_matter(name, lines, problems)
    if meta is None:
        return None
    doc_id = meta.get("id")
    check_meta(name, path, meta, problems)
    if not isinstance(doc_id, str) or not DOC_ID_RE.match(doc_id):
        return None
    document = Document(doc_id, meta, path)
    document.units = read_units(name, doc_id, lines, body_start, problems)
    return document


def read_front_matter(name: str, lines: list[str], problems: list[Problem]) -> tuple[dict | None, int]:
    """(metadata, index of the closing ---). Kept by hand rather than python-frontmatter (not in
    the pinned set): each problem must name its file and line, in French, and dates stay text."""
    if not lines or lines[0].strip() != "---":
        problems.append(Problem(name, 1, "en-tête manquant : le fichier doit commencer par une ligne « --- »"))
        return None, 0
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        problems.append(Problem(name, 1, "en-tête non fermé : ligne « --- » de fin introuvable"))
        return None, 0
    source = "\n".join(lines[1:end])
    try:
        node = yaml.compose(source, Loader=TextDateLoader)
        meta = yaml.load(source, Loader=TextDateLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        reason = getattr(error, "problem", None) or "syntaxe invalide"
        problems.append(Problem(name, line, f"en-tête YAML illisible : {reason}"))
        return None, end + 1
    if not isinstance(meta, dict):
        problems.append(Problem(name, 2, "en-tête YAML vide ou qui n'est pas une liste de champs « clé: valeur »"))
        return None, end + 1
    meta["__lines__"] = {key.value: key.start_mark.line + 2 for key, _ in node.value}
    meta["__lines__"].update({str(key.value): key.start_mark.line + 2 for key, _ in node.value})
    return meta, end + 1


def check_meta(name: str, path: Path, meta: dict, problems: list[Problem]) -> None:
    lines = meta["__lines__"]

    def report(key: str, message: str) -> None:
        problems.append(Problem(name, lines.get(key, 1), message))

    for key in meta:
        if key != "__lines__" and key not in REQUIRED and key not in OPTIONAL:
            report(key, f"champ inconnu « {key} » (champs admis : {', '.join(REQUIRED + OPTIONAL)})")
    for key in REQUIRED:
        if meta.get(key) in (None, ""):
            report(key, f"champ obligatoire manquant ou vide : « {key} »")
    doc_id = meta.get("id")
    if doc_id is not None and not isinstance(doc_id, str):
        report("id", f"l'id doit être un texte (« {doc_id} » lu comme un nombre : mettez-le entre guillemets)")
    if isinstance(doc_id, str):
        if not DOC_ID_RE.match(doc_id):
            report("id", f"id invalide « {doc_id} » : minuscules, chiffres et tirets seulement")
        elif path.stem != doc_id:
            report("id", f"l'id « {doc_id} » ne correspond pas au nom du fichier « {path.name} »")
    if meta.get("kind") and meta["kind"] not in KINDS:
        report("kind", f"nature inconnue « {meta['kind']} » (admises : {', '.join(sorted(KINDS))})")
    if meta.get("jurisdiction") and meta["jurisdiction"] not in JURISDICTIONS:
        report("jurisdiction", f"niveau de pouvoir inconnu « {meta['jurisdiction']} » "
                               f"(admis : {', '.join(sorted(JURISDICTIONS))})")
    for key in ("date", "version", "in_force", "replaced_on"):
        value = meta.get(key)
        if value is not None and not valid_date(str(value)):
            report(key, f"date invalide pour « {key} » : « {value} » (format AAAA-MM-JJ, date existante)")
        elif value is not None:
            meta[key] = str(value)
    for key in ("title", "label", "kind", "jurisdiction", "missing", "replaced_by", "replaced_note", "description"):
        if meta.get(key) is not None and not isinstance(meta[key], str):
            report(key, f"« {key} » doit être un texte")
    if "complete" in meta and not isinstance(meta["complete"], bool):
        report("complete", "« complete » doit valoir true ou false")
    if meta.get("complete") is False and not meta.get("missing"):
        report("missing", "document partiel : dites ce qui manque dans « missing »")
    check_sources(meta.get("sources"), report)
    if meta.get("provenance") is not None:
        check_provenance(meta["provenance"], lambda message: report("provenance", message))
    aliases = meta.get("aliases")
    if aliases is not None and not (isinstance(aliases, list) and all(isinstance(a, str) for a in aliases)):
        report("aliases", "« aliases » doit être une liste de textes")


def valid_date(value: str) -> bool:
    """AAAA, AAAA-MM or AAAA-MM-JJ, and a date that exists (no 30 February)."""
    if not DATE_RE.match(value):
        return False
    parts = [int(p) for p in value.split("-")] + [1, 1]
    try:
        datetime.date(*parts[:3])
    except ValueError:
        return False
    return True


def check_sources(sources, report) -> None:
    if sources is None:
        return
    # An empty list is allowed: some texts reached the project without an official address.
    if not isinstance(sources, list):
        report("sources", "« sources » doit être une liste d'adresses (url, note)")
        return
    for source in sources:
        url = source.get("url") if isinstance(source, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            report("sources", f"source sans adresse http(s) valide : {source!r}")


def check_provenance(provenance, report) -> None:
    """`provenance: {file, sha256, added, format, pages, command}` as `corpus add` writes it."""
    if not isinstance(provenance, dict):
        report("« provenance » doit être une liste de champs (file, sha256, added…)")
        return
    unknown = sorted(set(provenance) - PROVENANCE_KEYS)
    if unknown:
        report(f"champ inconnu dans « provenance » : {', '.join(unknown)} (admis : {', '.join(sorted(PROVENANCE_KEYS))})")
    if not isinstance(provenance.get("file"), str) or not provenance["file"]:
        report("« provenance.file » : nom du fichier d'origine manquant")
    if not SHA256_RE.match(str(provenance.get("sha256", ""))):
        report("« provenance.sha256 » : empreinte SHA-256 invalide (64 caractères hexadécimaux)")
    if not valid_date(str(provenance.get("added", ""))):
        report("« provenance.added » : date d'ajout invalide (format AAAA-MM-JJ)")
    else:
        provenance["added"] = str(provenance["added"])


def read_units(name: str, doc_id: str, lines: list[str], start: int, problems: list[Problem]) -> list[Unit]:
    units: list[Unit] = []
    headings: dict[int, str] = {}
    current: Unit | None = None
    body: list[str] = []
    in_attributes = False
    seen: dict[str, int] = {}

    def close() -> None:
        nonlocal current
        if current is None:
            return
        current.text = "\n".join(body).strip()
        if current.kind == INVALID:
            pass  # already reported; its text is not attributed to any unit
        elif not current.text:
            problems.append(Problem(name, current.line, f"unité vide : « {current.id} » n'a pas de texte"))
        else:
            units.append(current)
        current = None

    for number, line in enumerate(lines[start:], start=start + 1):
        stripped = line.strip()
        if stripped.startswith("<!--") and stripped.endswith("-->"):
            continue
        if stripped == ":::":
            close()
            in_attributes = False
            continue
        opened = UNIT_OPEN_RE.match(stripped) if stripped.startswith(":::") else None
        if stripped.startswith(":::"):
            close()
            body = []
            current = open_unit(name, doc_id, opened, stripped, number, headings, seen, problems)
            in_attributes = True
            continue
        if re.match(r"^#{1,6}\s", stripped):
            close()
            level = len(stripped) - len(stripped.lstrip("#"))
            headings = {k: v for k, v in headings.items() if k < level}
            headings[level] = stripped[level:].strip()
            continue
        if current is None:
            if stripped:
                problems.append(Problem(name, number, "texte hors d'une unité : ouvrez une unité par « ::: clé »"))
            continue
        attribute = ATTRIBUTE_RE.match(stripped) if in_attributes else None
        if attribute:
            set_attribute(name, number, current, attribute, problems)
            continue
        in_attributes = False
        body.append(line.rstrip())
    close()
    return units


def open_unit(name, doc_id, opened, line, number, headings, seen, problems) -> Unit:
    """The unit a `::: key | title` line opens; an INVALID placeholder (reported) otherwise."""
    key, title = (opened.group("key"), (opened.group("title") or "").strip()) if opened else ("", "")
    if key == WHOLE_DOCUMENT_KEY:
        key = ""
    elif not opened or not UNIT_KEY_RE.match(key):
        shown = key if opened else line
        problems.append(Problem(name, number, f"ouverture d'unité invalide « {shown} » : écrivez « ::: art-458ter », "
                                              "« ::: question | Titre » ou « ::: (document) »"))
        return Unit("", doc_id, INVALID, None, "", [], "", number)
    unit_id = f"{doc_id}:{key}" if key else doc_id
    if unit_id in seen:
        problems.append(Problem(name, number, f"id en double : « {unit_id} » (déjà ligne {seen[unit_id]})"))
    seen[unit_id] = number
    if key.startswith("art-"):
        kind, unit_number = "article", key[4:]
        title = title or f"Art. {unit_number}"
    else:
        kind, unit_number = ("section" if key else "document"), None
    path = [headings[level] for level in sorted(headings)]
    return Unit(unit_id, doc_id, kind, unit_number, title, path, "", number)


def set_attribute(name, number, unit, attribute, problems) -> None:
    key, value = attribute.group("name"), attribute.group("value").strip()
    if key not in UNIT_ATTRIBUTES:
        problems.append(Problem(name, number, f"champ d'unité inconnu « @{key} » "
                                              f"(admis : {', '.join('@' + a for a in sorted(UNIT_ATTRIBUTES))})"))
    elif key == "partial":
        if value not in ("true", "false"):
            problems.append(Problem(name, number, "« @partial » doit valoir true ou false"))
        unit.partial = value == "true"
    else:
        setattr(unit, key, value)
