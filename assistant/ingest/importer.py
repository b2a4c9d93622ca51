"""Import an official text into the corpus as a reviewable file (never half-written)."""

from __future__ import annotations

from pathlib import Path

from assistant.files import write_atomically

import yaml

from assistant.corpus.markers import plain_text
from assistant.corpus.reader import DOC_ID_RE
from assistant.errors import AssistantError
from assistant.ingest.glue import out_of_lexicon
from assistant.ingest.justel import JustelParser, to_corpus_file


class ImportFailure(AssistantError):
    """The source cannot be imported; the message is for the user, in French."""


def import_justel(source: Path, meta_file: Path, corpus_dir: Path, stats: bool = False) -> str:
    """Parse a Justel extraction and write `corpus_dir/<id>.md`; returns a French summary."""
    raw = read_text(source)
    meta = read_meta(meta_file)
    document = JustelParser().parse(raw)
    if not document.articles:
        raise ImportFailure(f"{source} : aucun article (« Art. 1er. », « Article 2. ») trouvé ; "
                            "est-ce bien un texte Justel ?")
    target = corpus_dir / f"{meta['id']}.md"
    write_atomically(target, to_corpus_file(document, meta))
    summary = f"{target} écrit : {len(document.articles)} articles, {len(document.items) - len(document.articles)} intitulés."
    if stats:
        summary += "\n" + lexicon_report(raw, document)
    return summary


def lexicon_report(raw: str, document) -> str:
    """Out-of-lexicon word counts over the articles, before and after glue repair."""
    repaired = "\n".join(plain_text(a.text) for a in document.articles)
    unrepaired = JustelParser(repairer=_NoRepair()).parse(raw)
    before = "\n".join(plain_text(a.text) for a in unrepaired.articles)
    return (f"Mots hors lexique (texte des articles) : {len(out_of_lexicon(before))} avant réparation, "
            f"{len(out_of_lexicon(repaired))} après.")


class _NoRepair:
    def repair(self, text: str) -> str:
        return text


def read_text(source: Path) -> str:
    try:
        return source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportFailure(f"fichier introuvable : {source}") from None
    except UnicodeDecodeError:
        raise ImportFailure(f"{source} n'est pas un texte UTF-8 ; réenregistrez-le en UTF-8.") from None
    except IsADirectoryError:
        raise ImportFailure(f"{source} est un dossier, pas un fichier.") from None


def read_meta(meta_file: Path) -> dict:
    try:
        meta = yaml.safe_load(read_text(meta_file))
    except yaml.YAMLError as error:
        raise ImportFailure(f"{meta_file} : métadonnées YAML illisibles ({error.__class__.__name__}).") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("id"), str):
        raise ImportFailure(f"{meta_file} : les métadonnées doivent donner au moins « id: … ».")
    if not DOC_ID_RE.match(meta["id"]):
        raise ImportFailure(f"{meta_file} : id invalide « {meta['id']} » (minuscules, chiffres et tirets).")
    return meta
