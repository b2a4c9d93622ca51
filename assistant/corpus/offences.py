"""The offences a code names in its headings: « CHAPITRE IVbis. - DU HARCELEMENT », « CHAPITRE III
ter. - DE LA TRAITE DES ETRES HUMAINS », « Section III. - De l'escroquerie et de la tromperie ».

A question that names one (« c'est de la traite des êtres humains, ça ? ») asks whether a conduct
is that offence, though it holds no penal word (« pénal », « puni », « infraction »). Read from
the corpus, so a code added or updated brings its own names."""

from __future__ import annotations

import re

from assistant.corpus.markers import plain_text
from assistant.corpus.model import Corpus
from assistant.text import fold

# « CHAPITRE II Iter. - », « Section 1re. [1 - », « Sous-section 2. [1 - »: the division, not its title.
DIVISION_RE = re.compile(r"^\s*(?:livre|titre|chapitre|section|sous-section)\b[^-\[(]*?(?:-|\[\d*|\()\s*", re.I)
INSERTION_RE = re.compile(r"\[\d*\s[^\]]*\]\d*|\[[^\]\d][^\]]*\]")
# Titles list several offences: « Des vols et des extorsions », « Du meurtre, de l'assassinat ».
PART_RE = re.compile(r",|\bet (?=(?:de |du |des |d'))")
ARTICLE_RE = re.compile(r"^\s*(?:de la |de l'|du |des |de |d')")
GENERAL_RE = re.compile(r"^(?:dispositions?|generale?s?)\b|\d")
STEM = 6  # « harcelement » / « harcelee », « traite » / « traites »: same word for this purpose
MIN_WORD = 4  # « des », « aux » are not what names an offence
# A title over more articles is a part of the code (« Des crimes et des délits contre les
# personnes », « Des infractions »), not one offence.
MAX_UNITS = 60


def stems(text: str) -> set[str]:
    return {word[:STEM] for word in re.findall(r"\w+", fold(text))}


def offence_names(corpus: Corpus) -> tuple[tuple[str, ...], ...]:
    """Each name as the stems of its words. A title split into its parts keeps only the parts of
    two words or more (« Des actions, des obligations, coupons … » names no offence « actions »);
    a title of one word is one (« Du harcèlement », « De la bigamie »)."""
    names: dict[tuple[str, ...], set[str]] = {}
    for document in corpus.documents.values():
        if document.meta.get("kind") != "code":
            continue
        for unit in document.units:
            for heading in unit.path:
                title = DIVISION_RE.sub("", heading)
                # A later insertion inside a title widens whom the offence protects (« De l'enlèvement
                # et du recel de mineurs [1 et de personnes vulnérables]1 »): not an offence's name.
                title = title[:1] + INSERTION_RE.sub(" ", title[1:])
                # Justel's markers (« <Inséré par L …> », « [1 … ]1 ») as in every unit's plain text.
                title = " ".join(fold(plain_text(title)).replace("(", " ").replace(")", " ").split()).strip(" .")
                parts = PART_RE.split(title)
                for part in parts:
                    # « DU HARCELEMENT. (inséré par <L …> »: the note's words stay once its marker is gone.
                    part = re.sub(r"\s*\.?\s*insere par.*$", "", ARTICLE_RE.sub("", part.strip())).strip(" .")
                    words = tuple(w[:STEM] for w in re.findall(r"\w+", part) if len(w) >= MIN_WORD)
                    if not words or GENERAL_RE.match(part) or "abroge" in part or (len(parts) > 1 and len(words) < 2):
                        continue
                    if len(words) >= 2 or len(part) >= 7:
                        names.setdefault(words, set()).add(unit.id)
    return tuple(name for name, units in names.items() if len(units) <= MAX_UNITS)


def named_offence(question: str, names: tuple[tuple[str, ...], ...]) -> tuple[str, ...] | None:
    """The first offence name whose every word the question holds, or None."""
    asked = stems(question)
    return next((name for name in names if all(word in asked for word in name)), None)
