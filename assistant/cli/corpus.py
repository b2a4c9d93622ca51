"""`assistant corpus check|list|show|import-justel|add|update`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.cli.common import FrenchArgumentParser, load_corpus, report_problems
from assistant.config import Settings
from assistant.corpus import model as corpus_module
from assistant.corpus.reader import JURISDICTIONS, KINDS
from assistant.errors import UsageError


def add_commands(subparsers) -> None:
    corpus = subparsers.add_parser("corpus", help="textes du corpus : vérifier, lister, afficher, importer")
    corpus_commands = corpus.add_subparsers(parser_class=FrenchArgumentParser, metavar="action")

    check = corpus_commands.add_parser("check", help="valider tous les fichiers du corpus")
    check.set_defaults(handler=corpus_check)

    listing = corpus_commands.add_parser("list", help="lister les unités (articles, sections)")
    listing.add_argument("--json", action="store_true", help="sortie JSON complète")
    listing.set_defaults(handler=corpus_list)

    show = corpus_commands.add_parser("show", help="afficher une unité")
    show.add_argument("id", help="id de l'unité, p. ex. code-penal-1867:art-458ter")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=corpus_show)

    justel = corpus_commands.add_parser("import-justel", help="importer un texte consolidé Justel (extraction texte du PDF)")
    justel.add_argument("source", type=Path)
    justel.add_argument("--meta", type=Path, required=True, help="métadonnées du document (YAML)")
    justel.add_argument("--stats", action="store_true", help="compter les mots hors lexique avant et après réparation")
    justel.set_defaults(handler=corpus_import_justel)

    add = corpus_commands.add_parser(
        "add", help="ajouter ou remplacer un texte officiel (PDF, page web HTML, DOCX, texte)",
        description="Lit le fichier, découpe les articles (« Art. 1er. », « Article 3. ») ou, pour une circulaire, "
                    "les sections numérotées, et écrit corpus/ID.md à relire. L'index en service ne change pas : "
                    "publiez ensuite avec « assistant corpus update ». Codes de sortie : 0 fichier écrit, "
                    "2 fichier refusé (rien n'est écrit).")
    add.add_argument("file", type=Path, help="le fichier officiel : .pdf, .html/.htm, .docx ou .txt (UTF-8)")
    add.add_argument("--id", required=True, help="id du document, p. ex. circulaire-2022-06-02")
    add.add_argument("--replace", action="store_true",
                     help="remplacer le document qui porte déjà cet id (p. ex. un texte partiel par le texte complet)")
    add.add_argument("--title", help="intitulé officiel")
    add.add_argument("--label", help="nom court pour les citations (défaut : l'intitulé)")
    add.add_argument("--kind", help="nature : " + ", ".join(sorted(KINDS)))
    add.add_argument("--jurisdiction", help="niveau de pouvoir : " + ", ".join(sorted(JURISDICTIONS)))
    add.add_argument("--date", help="date officielle AAAA-MM-JJ")
    add.add_argument("--version", help="« version à jour au » (consolidation), AAAA-MM-JJ")
    add.add_argument("--in-force", dest="in_force", help="entrée en vigueur, AAAA-MM-JJ")
    add.add_argument("--source", action="append", default=[], help="adresse officielle (répétable)")
    add.add_argument("--partial", metavar="CE_QUI_MANQUE", help="le texte est partiel : dites ce qui manque")
    add.set_defaults(handler=corpus_add)

    update = corpus_commands.add_parser(
        "update", help="publier les changements du corpus, seulement si l'évaluation ne recule pas",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Vérifie le corpus, construit un index candidat (sans toucher à l'index en service), le passe "
                    "sur les jeux de questions, compare avec eval/baseline.json, affiche les unités ajoutées, "
                    "modifiées, retirées et les écarts par métrique et par question, puis met le candidat en "
                    "service ou le supprime.\n\n" + tolerance_text() + "\n\nCodes de sortie :\n  0  publié (ou rien à publier)\n  2  entrée invalide (corpus, jeu de "
                    "questions, référence, options) : rien n'a changé\n  3  refusé par l'évaluation : l'index en "
                    "service reste le même")
    update.add_argument("--accept", action="store_true",
                        help="publier même si des métriques baissent, et enregistrer ce résultat comme nouvelle "
                             "référence (exige --reason ; gardé dans eval/CHANGELOG.md)")
    update.add_argument("--reason", help="pourquoi la référence change (avec --accept)")
    update.add_argument("--gold", type=Path, action="append",
                        help="jeu de questions (répétable ; défaut : eval/gold/question-parlementaire.jsonl et "
                             "eval/external/bsard-secret-professionnel.jsonl)")
    update.add_argument("--baseline", type=Path, help="référence (défaut : eval/baseline.json)")
    update.add_argument("--json", type=Path, dest="json_out", help="écrire aussi le rapport en JSON")
    update.set_defaults(handler=corpus_update)



def corpus_check(args, settings: Settings) -> int:
    corpus = load_corpus(settings)
    for problem in corpus.problems:
        print(problem)
    if corpus.problems:
        print(f"{len(corpus.problems)} problème(s) dans le corpus.", file=sys.stderr)
        return 1
    print(f"Corpus valide : {len(corpus.documents)} documents, {len(corpus.units)} unités.")
    return 0


def corpus_list(args, settings: Settings) -> int:
    corpus = load_corpus(settings)
    if args.json:
        json.dump([corpus.unit_dict(unit) for unit in corpus.units], sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for unit in corpus.units:
            print(f"{unit.id}\t{corpus_module.unit_label(corpus.document_of(unit), unit)}")
    report_problems(corpus)
    return 0


def corpus_show(args, settings: Settings) -> int:
    corpus = load_corpus(settings)
    try:
        unit = corpus.unit(args.id)
    except corpus_module.CorpusError as error:
        raise UsageError(f"{error}. Voir « assistant corpus list ».") from None
    if args.json:
        print(json.dumps(corpus.unit_dict(unit), ensure_ascii=False, indent=1))
    else:
        print(corpus_module.describe(corpus, unit))
    return 0


def corpus_import_justel(args, settings: Settings) -> int:
    from assistant.ingest import importer

    print(importer.import_justel(args.source, args.meta, settings.corpus_dir, stats=args.stats))
    return 0


def corpus_add(args, settings: Settings) -> int:
    from assistant.ingest.adder import CorpusAdder, DocumentInfo
    from assistant.ingest.importer import ImportFailure

    info = DocumentInfo(args.id, args.title, args.label, args.kind, args.jurisdiction, args.date, args.version,
                        args.in_force, args.source, args.partial)
    try:
        result = CorpusAdder(settings.corpus_dir, settings.home / "corpus-backups").add(args.file, info, args.replace)
    except ImportFailure as error:
        raise UsageError(f"{error}\nLe corpus et l'index en service sont inchangés.") from None
    print(result.summary())
    return 0


def tolerance_text() -> str:
    from assistant.evaluation.gate_report import LOWER_IS_BETTER, TOLERANCE

    parts = [f"{metric} {'+' if metric in LOWER_IS_BETTER else '-'}{value:.2f}".replace(".", ",")
             for metric, value in TOLERANCE.items()]
    return "Tolérances (écart maximal toléré par jeu de questions, par rapport à la référence) : " + " ; ".join(parts) + "."


def corpus_update(args, settings: Settings) -> int:
    from assistant.evaluation import gate as update

    try:
        gate = update.CorpusUpdate(settings, gold=args.gold, baseline=args.baseline or update.BASELINE)
        report = gate.run(accept=args.accept, reason=args.reason)
    except update.UpdateError as error:
        raise UsageError(f"{error}\nL'index en service est inchangé.") from None
    print(report.text())
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    return report.exit_code
