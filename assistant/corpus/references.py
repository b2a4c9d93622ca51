"""Cross-references between units: "article 324bis", "articles 417/7 à 417/22",
"Titre Iter du Livre II", "l'article précédent", "l'article 458ter du Code pénal".

Only references whose target is in the corpus are kept, as unit or document ids.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from assistant.text import fold

if TYPE_CHECKING:  # pragma: no cover
    from assistant.corpus.model import Corpus, Document, Unit

NUMBER = r"\d+(?:er)?[a-z]*(?:/\d+[a-z]*)*(?![.,]?\d)"
SEPARATOR = r"\s*(?:,|\bet\b|\bà\b|\bou\b)\s*"
ARTICLES_RE = re.compile(
    rf"\b(?:articles?|art\.)\s+(?P<list>{NUMBER}(?:{SEPARATOR}{NUMBER})*)", re.IGNORECASE
)
NUMBER_RE = re.compile(rf"{NUMBER}|\bà\b")
# What may follow the numbers before the name of another act: "§ 4, de la loi du …".
QUALIFIERS = r"(?:\s*,?\s*(?:§+\s*\d+(?:er)?|alinéas?\s+(?:\d+(?:er)?|premier)|al\.\s*\d+|\d+°))*"
EXTERNAL_RE = re.compile(
    QUALIFIERS + r"\s*,?\s*(?:de la|du|de l'|des|de)\s+(?P<act>(?:loi|code|arrêté|décret|ordonnance|"
    r"convention|constitution|règlement|directive|titre préliminaire|traité|accord)\b.{0,120})",
    re.IGNORECASE,
)
SAME_ACT_RE = re.compile(QUALIFIERS + r"\s*,?\s*du présent code", re.IGNORECASE)
NEIGHBOUR_RE = re.compile(r"\barticle\s+(?P<which>précédent|suivant)\b", re.IGNORECASE)
DIVISION_RE = re.compile(
    r"\b(?P<kind>titre|chapitre|section)\s+(?P<num>[IVXLC]+|\d+)(?P<suffix>[a-z]*)\s+du\s+"
    r"(?P<parent_kind>livre|titre)\s+(?P<parent_num>[IVXLC]+|\d+)(?P<parent_suffix>[a-z]*)\b",
    re.IGNORECASE,
)
ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
MAX_DIVISION_UNITS = 100


def resolve_all(corpus: "Corpus") -> None:
    """Fill `unit.references` for every unit of the corpus."""
    aliases = alias_table(corpus)
    for document in corpus.documents.values():
        for unit in document.units:
            found = extract(unit.plain_text, unit, document, corpus, aliases)
            unit.references = [ref for ref in dict.fromkeys(found) if ref not in (unit.id, document.id)]


def cited_in(text: str, unit: "Unit", corpus: "Corpus", aliases: list | None = None) -> list[str]:
    """The units a fragment of `unit` refers to (« des peines prévues à l'article précédent »).
    `aliases`: alias_table(corpus), when the caller keeps it."""
    found = extract(text, unit, corpus.document_of(unit), corpus, alias_table(corpus) if aliases is None else aliases)
    return [ref for ref in dict.fromkeys(found) if ref != unit.id]


def extract(text: str, unit: "Unit", document: "Document", corpus: "Corpus", aliases: list) -> list[str]:
    refs: list[str] = []
    for match in ARTICLES_RE.finditer(text):
        numbers = parse_list(match.group("list"))
        after = text[match.end():]
        target = target_document(after, document, corpus, aliases)
        if target is not None:
            refs += article_ids(corpus.documents[target], numbers, cited_by=document.id)
    refs += neighbours(text, unit, document)
    refs += divisions(text, document)
    refs += mentioned_documents(text, document, aliases)
    return refs


def parse_list(listing: str) -> list[tuple[str, str | None]]:
    """`417/7 à 417/22, 433quater/1 et 435` → [(417/7, 417/22), (433quater/1, None), (435, None)]."""
    tokens = NUMBER_RE.findall(listing)
    items, i = [], 0
    while i < len(tokens):
        if i + 2 < len(tokens) and tokens[i + 1] == "à":
            items.append((clean(tokens[i]), clean(tokens[i + 2])))
            i += 3
        elif tokens[i] == "à":
            i += 1
        else:
            items.append((clean(tokens[i]), None))
            i += 1
    return items


def clean(number: str) -> str:
    return re.sub(r"^(\d+)er$", r"\1", number)


def target_document(after: str, document: "Document", corpus: "Corpus", aliases: list) -> str | None:
    """Which document the numbers belong to: this one, another by its name, or none."""
    if SAME_ACT_RE.match(after):
        return document.id
    external = EXTERNAL_RE.match(after)
    if not external:
        return document.id
    named = fold(external.group("act"))
    for alias, doc_id in aliases:
        if named.startswith(alias):
            return doc_id
    return None


def article_ids(document: "Document", numbers: list[tuple[str, str | None]], cited_by: str) -> list[str]:
    order = [u for u in document.units if u.kind == "article"]
    position = {u.number: i for i, u in enumerate(order)}
    ids = []
    for first, last in numbers:
        if last is None:
            if first in position:
                ids.append(order[position[first]].id)
            elif not order and document.units and document.id != cited_by:
                ids.append(document.id)  # the act is in the corpus, its article is not
        elif first in position and last in position and position[first] <= position[last]:
            ids += [u.id for u in order[position[first]: position[last] + 1]]
        else:
            ids += [order[position[n]].id for n in (first, last) if n in position]
    return ids


def neighbours(text: str, unit: "Unit", document: "Document") -> list[str]:
    if unit.kind != "article":
        return []
    articles = [u for u in document.units if u.kind == "article"]
    index = next(i for i, u in enumerate(articles) if u.id == unit.id)
    refs = []
    for match in NEIGHBOUR_RE.finditer(text):
        step = -1 if match.group("which").lower() == "précédent" else 1
        if 0 <= index + step < len(articles):
            refs.append(articles[index + step].id)
    return refs


def divisions(text: str, document: "Document") -> list[str]:
    """"Titre Iter du Livre II" → the articles placed under that heading."""
    refs = []
    for match in DIVISION_RE.finditer(text):
        child = division_key(match.group("kind"), match.group("num"), match.group("suffix"))
        parent = division_key(match.group("parent_kind"), match.group("parent_num"), match.group("parent_suffix"))
        inside = [u.id for u in document.units
                  if u.kind == "article" and parent in path_keys(u.path) and child in path_keys(u.path)]
        refs += inside[:MAX_DIVISION_UNITS]
    return refs


def path_keys(path: list[str]) -> set[tuple[str, str]]:
    keys = set()
    for heading in path:
        match = re.match(r"\(?(livre|titre|chapitre|section)\s+([IVXLC]+|\d+)([a-z]*)", heading, re.IGNORECASE)
        if match:
            keys.add(division_key(*match.groups()))
    return keys


def division_key(kind: str, number: str, suffix: str) -> tuple[str, str]:
    """("TITRE", "I", "ter") and ("titre", "1", "ter") both → ("titre", "1ter")."""
    value = roman_to_int(number.upper()) if not number.isdigit() else int(number)
    return kind.lower(), f"{value}{suffix.lower()}"


def roman_to_int(roman: str) -> int:
    total = 0
    for char, following in zip(roman, roman[1:] + " "):
        value = ROMAN[char]
        total += -value if following in ROMAN and ROMAN[following] > value else value
    return total


def alias_table(corpus: "Corpus") -> list[tuple[str, str]]:
    """(folded alias, document id), longest first, so "nouveau code pénal" wins over "code pénal"."""
    table = []
    for document in corpus.documents.values():
        for alias in document.meta.get("aliases") or []:
            if isinstance(alias, str) and alias.strip():
                table.append((fold(alias), document.id))
    return sorted(table, key=lambda item: len(item[0]), reverse=True)


def mentioned_documents(text: str, document: "Document", aliases: list) -> list[str]:
    """Other documents named in the text by one of their aliases (longest name first)."""
    return [doc_id for doc_id in named_documents(text, aliases) if doc_id != document.id]


KIND_WORDS = {"décret": "decret", "loi": "loi", "circulaire": "circulaire", "arrêt": "arret", "code": "code"}
KIND_REACH = 6  # words between « décret » and what tells which one (« le décret maltraitance de 2004 »)
AUTHOR_RE = re.compile(r"^question (?:ecrite|parlementaire) (?:de )?([a-z-]+)")
# The minister a parliamentary question is put to, in its title: « … de Christophe Bastin à
# Christophe Collignon — « … » », « … Cassart, Députée, à François Desquesnes, Vice-Président … ».
ADDRESSEE_RE = re.compile(r"\ba [a-z-]+ ([a-z-]{4,})(?=,| —| -)")
NOT_DISTINCTIVE = {"janvier", "fevrier", "mars", "avril", "juillet", "juin", "septembre", "octobre", "novembre",
                   "decembre", "livre", "penal", "communaute", "francaise",
                   "cpas"}  # « la loi permet au CPAS de… » names no law: every question names the CPAS


def designations(corpus: "Corpus") -> list[tuple[str, set[str], str]]:
    """(kind word, what tells the document apart, document id): how a practitioner names a text
    without its title: « le décret maltraitance de 2004 », « la loi de 2018 », « le décret
    flamand », « la question de Bastin ». The year of its date and the words of its short label
    (« Décret flamand du 29 mars 2024 (Refuges) ») tell it apart; a parliamentary question is
    named by its author or by the minister it is put to."""
    out = []
    for document in corpus.documents.values():
        meta, label = document.meta, fold(document.label)
        years = set(re.findall(r"\b(?:19|20)\d\d\b", f"{meta.get('date') or ''} {label}"))
        author = AUTHOR_RE.match(label)
        if author:
            # « qu'a répondu le ministre Collignon en 2022 ? »: the minister asked names it too.
            minister = ADDRESSEE_RE.search(fold(str(meta.get("title") or "")))
            out.append(("", {author.group(1)} | ({minister.group(1)} if minister else set()) | years, document.id))
            continue
        kind = KIND_WORDS.get(str(meta.get("kind") or ""))
        if kind is None:
            continue
        words = set(re.findall(r"[a-z][a-z-]{3,}", label)) - set(KIND_WORDS.values()) - NOT_DISTINCTIVE
        out.append((kind, words | years | regional(meta.get("jurisdiction")), document.id))
    return out


def regional(jurisdiction) -> set[str]:
    """« la circulaire wallonne », « le décret flamand »: a region or community named by its
    adjective tells a text apart (« fédéral » does not: most of the corpus is federal, and the
    French Community's adjective is the language's)."""
    words = set(re.findall(r"[a-z]+", fold(str(jurisdiction or "")))) - {"region", "communaute", "federal", "francaise"}
    return words | {re.sub(r"n?e$", "", w) if w.endswith("nne") else w[:-1] for w in words if w.endswith("e")}


def spoken_of(corpus: "Corpus", unit_id: str) -> set[str]:
    """The documents a unit is part of or refers to: the parliamentary answer that speaks of the
    circular « speaks of » it, for a question that names the circular."""
    return {u.split(":")[0] for u in [unit_id, *corpus.unit(unit_id).references]}


def loosely_named(text: str, table: list[tuple[str, set[str], str]]) -> list[str]:
    """Documents a question names by kind and year or subject, or by author (`designations`)."""
    words = re.findall(r"[\w-]+", fold(text))
    asked_years = {w for w in words if re.fullmatch(r"(?:19|20)\d\d", w)}
    found = []
    for kind, marks, doc_id in table:
        if not kind:
            # « la question de Bastin de 2022 »: the author, and the year when one is given
            hit = any(w in marks for w in words if w not in asked_years) and (not asked_years or asked_years & marks)
        else:
            hit = any(w == kind and any(m in marks for m in words[i + 1:i + 1 + KIND_REACH]) for i, w in enumerate(words))
        if hit and doc_id not in found:
            found.append(doc_id)
    return found


def named_documents(text: str, aliases: list) -> list[str]:
    """Documents named in the text by one of their aliases, each once (longest name first)."""
    folded, found = fold(text), []
    for alias, doc_id in aliases:
        pattern = rf"(?<!\w){re.escape(alias)}(?!\w)"
        if re.search(pattern, folded):
            folded = re.sub(pattern, " ", folded)  # "nouveau code pénal" is not "code pénal" too
            if doc_id not in found:
                found.append(doc_id)
    return found
