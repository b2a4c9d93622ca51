"""What only the chat shows (no Chainlit here): the corpus listing, the starters file, the
waiting and error texts. Replies themselves are rendered by assistant/render.py, shared with
the CLI and the export.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.corpus.model import Corpus
from assistant.render import escape_markdown, french_date
from assistant.text import shorten

MODE_LABELS = {"generative": "rédigée par le modèle local", "extractive": "tirée des textes, sans modèle"}
CORPUS_COMMAND = "Textes du corpus"


# -- the corpus listing ---------------------------------------------------------------------

def corpus_listing_markdown(corpus: Corpus) -> str:
    """Every document with its completeness and version (« Textes du corpus »)."""
    rows = ["| Texte | Complet ? | Version à jour au | À savoir |", "|---|---|---|---|"]
    for document in sorted(corpus.documents.values(), key=lambda d: d.label.lower()):
        meta = document.meta
        complete = "oui" if document.complete else "**partiel**"
        version = french_date(meta["version"]) if meta.get("version") else "non précisée"
        remarks = []
        if not document.complete and meta.get("missing"):
            remarks.append("manque : " + shorten(" ".join(str(meta["missing"]).split()), 140))
        if meta.get("replaced_by"):
            target = corpus.documents.get(meta["replaced_by"])
            remarks.append(f"remplacé par « {target.label if target else meta['replaced_by']} »"
                           + (f" depuis le {french_date(meta['replaced_on'])}" if meta.get("replaced_on") else ""))
        remarks.append(f"{len(document.units)} unité(s)")
        cells = [escape_markdown(document.label), complete, version, escape_markdown(" ; ".join(remarks))]
        rows.append("| " + " | ".join(cells) + " |")
    return (f"**Textes du corpus** ({len(corpus.documents)} documents, {len(corpus.units)} unités)\n\n"
            + "\n".join(rows)
            + "\n\nL'assistant ne répond qu'à partir de ces textes. Un texte partiel peut ne pas contenir "
              "la disposition utile : vérifiez sur le lien officiel.")



def is_corpus_command(text: str) -> bool:
    return " ".join(text.lower().split()).strip(" /!?.") in {CORPUS_COMMAND.lower(), "textes", "corpus"}


# -- starters (one plain file that trainers edit) ---------------------------------------------

@dataclass(frozen=True)
class Starter:
    title: str
    question: str


def load_starters(path: Path) -> tuple[list[Starter], list[str]]:
    """(starters, problems in French) from `settings.starters` (ASSISTANT_STARTERS, else
    workshop/starters.yaml). A broken entry is skipped, never fatal: the chat starts."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError:
        return [], [f"{path} : fichier des questions de départ introuvable"]
    except yaml.YAMLError as error:
        line = getattr(getattr(error, "problem_mark", None), "line", -1) + 1
        return [], [f"{path}:{line} : YAML invalide"]
    if not isinstance(raw, list):
        return [], [f"{path} : le fichier doit être une liste d'entrées « titre » + « question »"]
    starters, problems = [], []
    for number, entry in enumerate(raw, start=1):
        title = str(entry.get("titre") or "").strip() if isinstance(entry, dict) else ""
        question = str(entry.get("question") or "").strip() if isinstance(entry, dict) else ""
        if not title or not question:
            problems.append(f"{path} : entrée n° {number} ignorée (il faut « titre » et « question »)")
            continue
        starters.append(Starter(title, question))
    return starters, problems


def waiting_text(position: int) -> str:
    """Shown under the draft title while another participant's answer is being written."""
    ahead = "une autre réponse" if position <= 1 else f"{position} autres réponses"
    return f"*En attente… le modèle local rédige {ahead} avant la vôtre (une à la fois).*"


LOADING_TEXT = "*Chargement des textes et des modèles (quelques secondes, la première fois seulement)…*"
EMPTY_EXPORT_TEXT = "Rien à exporter pour l'instant : posez d'abord une question."
ERROR_TEXT = ("Une erreur inattendue est survenue et la réponse n'a pas pu être affichée. Réessayez ; si "
              "cela se reproduit, signalez-le à la personne qui gère l'assistant.")
STOPPED_TEXT = "Réponse interrompue."
