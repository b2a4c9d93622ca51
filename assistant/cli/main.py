"""`assistant corpus|…` — a thin shell over the library; messages in French."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from assistant.corpus import model as corpus_module
from assistant.config import settings
from assistant.errors import UsageError


def main(argv: list[str] | None = None) -> int:
    tolerant_output()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except UsageError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0


def tolerant_output() -> None:
    """A terminal that cannot show « é » (PYTHONIOENCODING=ascii…) gets « ? », not a traceback."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="replace")
        except (AttributeError, ValueError, OSError):
            pass  # not a text stream that can be reconfigured: leave it


class FrenchArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse speaks English; users read French
        self.print_usage(sys.stderr)
        print(f"Erreur : arguments invalides ({message}). Voir « assistant --help ».", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchArgumentParser(prog="assistant", description="Assistant juridique « secret professionnel » pour les CPAS wallons.")
    commands = parser.add_subparsers(parser_class=FrenchArgumentParser, metavar="commande")
    corpus = commands.add_parser("corpus", help="textes du corpus : vérifier, lister, afficher, importer")
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
    add.add_argument("--kind", help="nature : " + ", ".join(sorted(corpus_module.KINDS)))
    add.add_argument("--jurisdiction", help="niveau de pouvoir : " + ", ".join(sorted(corpus_module.JURISDICTIONS)))
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

    index = commands.add_parser("index", help="index de recherche")
    index_commands = index.add_subparsers(parser_class=FrenchArgumentParser, metavar="action")
    build = index_commands.add_parser("build", help="construire ou mettre à jour l'index (incrémental)")
    build.add_argument("--force", action="store_true", help="tout recalculer")
    build.set_defaults(handler=index_build)

    ask = commands.add_parser("ask", help="poser une question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--k", type=int, default=5, help="nombre d'articles retenus (1 à 50)")
    ask.add_argument("--mode", choices=["extractive", "generative"], default=None,
                     help="extraits seuls, ou réponse rédigée par le modèle local (défaut : ASSISTANT_ANSWER_MODE)")
    ask.set_defaults(handler=ask_command)

    evaluation = commands.add_parser("eval", help="évaluer la recherche sur des jeux de questions")
    # --gold is checked by eval_command: required here, it would also be demanded by `eval export-feedback`.
    evaluation.add_argument("--gold", type=Path, action="append")
    evaluation.add_argument("--system", action="append", choices=["hybrid", "bm25", "dense", "naive"])
    evaluation.add_argument("--mode", choices=["extractive", "generative"],
                            help="évaluer aussi les réponses (citations, faits, vérification) dans ce mode")
    evaluation.add_argument("--json", type=Path, dest="json_out")
    evaluation.add_argument("--report", type=Path)
    evaluation.set_defaults(handler=eval_command)
    eval_commands = evaluation.add_subparsers(parser_class=FrenchArgumentParser, metavar="action")
    export_feedback = eval_commands.add_parser(
        "export-feedback", help="réponses jugées insatisfaisantes (pouce baissé) → candidats JSONL à relire")
    export_feedback.add_argument("--out", type=Path, required=True, help="fichier JSONL à écrire")
    export_feedback.set_defaults(handler=export_feedback_command)

    chat = commands.add_parser("chat", help="démarrer l'assistant dans le navigateur")
    chat.add_argument("--host", default=os.environ.get("ASSISTANT_CHAT_HOST", "127.0.0.1"),
                      help="adresse d'écoute (défaut : 127.0.0.1, ou ASSISTANT_CHAT_HOST)")
    chat.add_argument("--port", type=int, default=None,
                      help="port (défaut : 8000, ou ASSISTANT_CHAT_PORT)")
    chat.add_argument("--open", action="store_true", help="ouvrir le navigateur au démarrage")
    chat.set_defaults(handler=chat_command)

    password = commands.add_parser("password", help="chiffrer un mot de passe pour chat.yaml (comptes utilisateurs)")
    password.add_argument("name", nargs="?", default="nom", help="nom de l'utilisateur")
    password.set_defaults(handler=password_command)
    return parser


def load_corpus() -> corpus_module.Corpus:
    return corpus_module.Corpus.load(settings().corpus_dir)


def corpus_check(args) -> int:
    corpus = load_corpus()
    for problem in corpus.problems:
        print(problem)
    if corpus.problems:
        print(f"{len(corpus.problems)} problème(s) dans le corpus.", file=sys.stderr)
        return 1
    print(f"Corpus valide : {len(corpus.documents)} documents, {len(corpus.units)} unités.")
    return 0


def corpus_list(args) -> int:
    corpus = load_corpus()
    if args.json:
        json.dump([corpus.unit_dict(unit) for unit in corpus.units], sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        for unit in corpus.units:
            print(f"{unit.id}\t{corpus_module.unit_label(corpus.document_of(unit), unit)}")
    report_problems(corpus)
    return 0


def corpus_show(args) -> int:
    corpus = load_corpus()
    try:
        unit = corpus.unit(args.id)
    except corpus_module.CorpusError as error:
        raise UsageError(f"{error}. Voir « assistant corpus list ».") from None
    if args.json:
        print(json.dumps(corpus.unit_dict(unit), ensure_ascii=False, indent=1))
    else:
        print(corpus_module.describe(corpus, unit))
    return 0


def corpus_import_justel(args) -> int:
    from assistant.ingest import importer

    try:
        result = importer.import_justel(args.source, args.meta, settings().corpus_dir, stats=args.stats)
    except importer.ImportFailure as error:
        raise UsageError(str(error)) from None
    print(result)
    return 0


def corpus_add(args) -> int:
    from assistant.ingest.adder import CorpusAdder, DocumentInfo
    from assistant.ingest.importer import ImportFailure

    current = settings()
    info = DocumentInfo(args.id, args.title, args.label, args.kind, args.jurisdiction, args.date, args.version,
                        args.in_force, args.source, args.partial)
    try:
        result = CorpusAdder(current.corpus_dir, current.home / "corpus-backups").add(args.file, info, args.replace)
    except ImportFailure as error:
        raise UsageError(f"{error}\nLe corpus et l'index en service sont inchangés.") from None
    print(result.summary())
    return 0


def tolerance_text() -> str:
    from assistant.evaluation.gate import LOWER_IS_BETTER, TOLERANCE

    parts = [f"{metric} {'+' if metric in LOWER_IS_BETTER else '-'}{value:.2f}".replace(".", ",")
             for metric, value in TOLERANCE.items()]
    return "Tolérances (écart maximal toléré par jeu de questions, par rapport à la référence) : " + " ; ".join(parts) + "."


def corpus_update(args) -> int:
    from assistant.evaluation import gate as update

    try:
        gate = update.CorpusUpdate(settings(), gold=args.gold, baseline=args.baseline or update.BASELINE)
        report = gate.run(accept=args.accept, reason=args.reason)
    except update.UpdateError as error:
        raise UsageError(f"{error}\nL'index en service est inchangé.") from None
    print(report.text())
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(report.as_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
    return report.exit_code


def index_build(args) -> int:
    # A build only embeds in batches: spinning OpenMP threads are faster there (114 s vs
    # 132 s), while question answering wants them passive (see embeddings.py).
    os.environ.setdefault("OMP_WAIT_POLICY", "ACTIVE")
    from assistant import pipeline as engine

    from assistant.models.embeddings import EmbeddingConfigError

    try:
        print(engine.build_index(settings(), force=args.force).summary())
    except (engine.CorpusInvalid, engine.IndexUnavailable, EmbeddingConfigError) as error:
        raise UsageError(str(error)) from None
    except OSError as error:  # disk full, folder not writable…: the live index has not changed
        raise UsageError(f"écriture de l'index impossible ({error.strerror or error.__class__.__name__} : "
                         f"{error.filename or settings().index_dir}) ; l'index en service n'a pas changé.") from None
    return 0


def make_assistant():
    from assistant import pipeline as engine

    from assistant.models.embeddings import EmbeddingConfigError

    try:
        return engine.Assistant()
    except (engine.CorpusInvalid, engine.IndexUnavailable, EmbeddingConfigError) as error:
        raise UsageError(str(error)) from None


def ask_command(args) -> int:
    from assistant import pipeline as engine

    try:  # refused before minutes of loading, exit code 2
        question, k = engine.clean_question(args.question), engine.check_k(args.k)
    except engine.InvalidQuestion as error:
        raise UsageError(str(error)) from None
    from assistant.models.embeddings import EmbeddingConfigError

    mode = args.mode or engine.default_mode()
    assistant = make_assistant()
    try:  # the index or a model can fail after loading (Chroma server gone, model loaded lazily)
        reply = assistant.prepare(question, k=k)
    except (engine.IndexUnavailable, EmbeddingConfigError) as error:
        raise UsageError(str(error)) from None
    if args.json:
        for _ in assistant.stream_draft(reply) if mode == "generative" else ():
            pass
        print(json.dumps(reply_json(reply), ensure_ascii=False, indent=1))
        return 0
    if reply.standalone != question:
        print(f"Question comprise : {reply.standalone}\n")
    answer = reply.answer
    print(answer.message if answer.abstained else answer.passages_text(), flush=True)
    if mode == "generative" and not answer.abstained:
        stream_draft_to_stdout(assistant, reply)
    return 0


def stream_draft_to_stdout(assistant, reply) -> None:
    """The verbatim passages are already printed; the model's text follows as it is written."""
    from assistant.answering.extractive import DRAFT_TITLE, draft_text

    started = False
    for piece in assistant.stream_draft(reply):
        if not started:
            print(f"\n{DRAFT_TITLE}\n", flush=True)
            started = True
        print(piece, end="", flush=True)
    draft = reply.answer.draft
    if draft is None:
        return
    if draft.failure:
        print(f"\n\n{draft.failure}" if started else f"\n{draft.failure}")
        return
    # Then the checked version: citations to unknown extracts removed, sources, warnings.
    print(f"\n\nVersion vérifiée :\n{draft_text(draft).split(chr(10), 2)[-1].strip()}")


def reply_json(reply) -> dict:
    answer = reply.answer
    units = [{"id": h.unit_id, "score": round(h.score, 5), "text": reply.answer_unit_text(h.unit_id)}
             for h in reply.retrieval.hits] if not answer.abstained else []
    out = {"question": reply.question, "answer": answer.text(), "abstained": answer.abstained,
           "citations": answer.citations, "units": units, "notes": answer.notes}
    if reply.standalone != reply.question:
        out["standalone_question"] = reply.standalone
    draft = answer.draft
    if draft is not None:
        verification = draft.verification
        out["draft"] = {"text": verification.text if verification else draft.text, "failure": draft.failure,
                        "citations": draft.citations,
                        "warnings": verification.warnings() if verification else [],
                        "first_token_ms": round(draft.first_token_ms), "total_ms": round(draft.total_ms)}
    return out


def eval_command(args) -> int:
    from assistant.evaluation import runner as evaluate

    if not args.gold:
        raise UsageError("indiquez au moins un jeu de questions avec --gold (ou « assistant eval export-feedback »).")
    try:
        items = evaluate.load_gold(args.gold)
    except evaluate.GoldError as error:
        raise UsageError(str(error)) from None
    assistant = make_assistant()  # one corpus, index and set of models for every system
    results = []
    for system in args.system or ["hybrid"]:
        if args.mode and system == "hybrid":
            results.append(evaluate.AnswerEvaluator(assistant, args.mode).run(items))
            print(answer_summary(results[-1]))
        else:
            results.append(evaluate.Evaluator(evaluate.searcher(assistant, system), system).run(items))
        summary = results[-1]
        print(f"{system} : hit@5 {summary['retrieval']['hit@5']:.3f}, recall@10 {summary['retrieval']['recall@10']:.3f}, "
              f"mrr@10 {summary['retrieval']['mrr@10']:.3f}, abstention {summary['abstention']['accuracy']:.3f}, "
              f"refus à tort {summary['abstention']['false_refusal_rate']:.3f}, p50 {summary['latency_ms']['p50']:.0f} ms")
    output = results[0] if len(results) == 1 else {"systems": results, **results[0]}
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(output, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(evaluate.markdown_report(results, items), encoding="utf-8")
    return 0


def answer_summary(result: dict) -> str:
    c, v, t = result["citations"], result["verification"], result["latency_ms"]
    return (f"réponses ({result['mode']}) : citations P {c['precision']:.3f} R {c['recall']:.3f} F1 {c['f1']:.3f}, "
            f"faits {'n/a' if result['facts']['coverage'] is None else format(result['facts']['coverage'], '.3f')}, "
            f"phrases non étayées {v['unsupported_rate']:.3f}, "
            f"numéros inventés {v['invented_article_numbers']}, premier affichage p50 {t['first_token_p50']:.0f} ms, "
            f"total p50 {t['total_p50']:.0f} ms")


def chat_command(args) -> int:
    """Load the assistant (building the index first if missing), then serve the chat UI."""
    from assistant.web import accounts as chat_config
    from assistant.web.launch import announce_when_listening, serve

    port = args.port if args.port is not None else env_port()
    check_port(args.host, port)
    try:
        config = chat_config.load_chat_config(settings())
    except chat_config.ChatConfigError as error:
        raise UsageError(str(error)) from None
    for note in config.notes:
        print(f"Attention : {note}", file=sys.stderr)
    assistant = make_assistant()
    preload_local_model(assistant)
    where = f"http://{'localhost' if args.host in ('127.0.0.1', '::1') else args.host}:{port}"
    print(f"Démarrage du serveur ({len(assistant.corpus.documents)} documents, {len(assistant.corpus.units)} unités ; "
          f"historique des conversations : {'activé' if config.history else 'désactivé'} ; "
          f"connexion : {'par mot de passe' if config.auth else 'sans compte'})…", flush=True)
    announce_when_listening(args.host, port, f"Assistant prêt : ouvrez {where} dans votre navigateur "
                                             "(Ctrl+C pour arrêter).")
    serve(settings(), assistant, args.host, port, args.open, config.auth)
    return 0


def preload_local_model(assistant) -> None:
    """A server whose answers are drafted by the local model loads it before anyone connects:
    llama.cpp holds Python's lock while loading (12 s measured on a busy machine), which would
    freeze every conversation at the first draft."""
    from assistant.pipeline import default_mode
    from assistant.models.llm import LLMError

    if default_mode() == "generative" and assistant.settings.llm == "local":
        print("Chargement du modèle local…", file=sys.stderr, flush=True)
        llm = assistant.llm()
        try:
            if hasattr(llm, "load"):
                llm.load()
        except LLMError as error:  # each draft will say it; the passages still come
            print(f"Attention : {error}", file=sys.stderr)


def env_port() -> int:
    raw = os.environ.get("ASSISTANT_CHAT_PORT", "").strip() or "8000"
    if not raw.isdigit():
        raise UsageError(f"ASSISTANT_CHAT_PORT doit être un numéro de port (valeur reçue : « {raw} »).")
    return int(raw)


def check_port(host: str, port: int) -> None:
    """A busy port is said before minutes of loading, in French (uvicorn would say it in English)."""
    import socket

    if not 1 <= port <= 65535:
        raise UsageError("--port doit être compris entre 1 et 65535.")
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise UsageError(f"impossible d'écouter sur {host}:{port} ({error.strerror or error}) ; "
                         "le port est peut-être déjà utilisé : choisissez-en un autre avec --port.") from None


def password_command(args) -> int:
    """Prints the line to paste under « users: » in chat.yaml (the password is never stored)."""
    import getpass

    from assistant.web import accounts as chat_config

    if sys.stdin.isatty():
        first = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Encore une fois : ") != first:
            raise UsageError("les deux mots de passe diffèrent.")
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < 8:
        raise UsageError("le mot de passe doit compter au moins 8 caractères.")
    print(f"Ajoutez cette ligne sous « users: » dans {chat_config.config_path(settings())} :")
    print(f'  {args.name}: "{chat_config.hash_password(first)}"')
    return 0


def export_feedback_command(args) -> int:
    from assistant.web import data_layer as feedback

    count = feedback.export_candidates(feedback.database_path(settings()), args.out)
    print(f"{count} réponse(s) jugée(s) insatisfaisante(s) écrite(s) dans {args.out} : "
          "candidats à relire avant de les ajouter à eval/gold/.")
    return 0


def report_problems(corpus: corpus_module.Corpus) -> None:
    if corpus.problems:
        print(f"Attention : {len(corpus.problems)} problème(s) dans le corpus "
              "(voir « assistant corpus check »).", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
