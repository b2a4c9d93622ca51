"""`assistant eval` and `assistant eval export-feedback`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from assistant.cli import common
from assistant.cli.common import FrenchArgumentParser
from assistant.config import Settings
from assistant.errors import UsageError
from assistant.evaluation.report import figure, milliseconds


def add_commands(subparsers) -> None:
    evaluation = subparsers.add_parser("eval", help="évaluer la recherche sur des jeux de questions")
    # --gold is checked by eval_command: required here, it would also be demanded by `eval export-feedback`.
    evaluation.add_argument("--gold", type=Path, action="append")
    evaluation.add_argument("--system", action="append", choices=["hybrid", "bm25", "dense", "naive", "constant"],
                            help="système évalué (plusieurs possibles) ; « constant » : les dix unités que le système par défaut renvoie le plus souvent sur ce jeu, pour toute question")
    evaluation.add_argument("--mode", choices=["default", "extractive", "generative"],
                            help="évaluer aussi les réponses (citations, faits, vérification) dans ce mode ; "
                                 "« default » : le mode par défaut de l'assistant (ASSISTANT_ANSWER_MODE)")
    evaluation.add_argument("--json", type=Path, dest="json_out")
    evaluation.add_argument("--report", type=Path)
    evaluation.set_defaults(handler=eval_command)
    eval_commands = evaluation.add_subparsers(parser_class=FrenchArgumentParser, metavar="action")
    export_feedback = eval_commands.add_parser(
        "export-feedback", help="réponses jugées insatisfaisantes (pouce baissé) → candidats JSONL à relire")
    export_feedback.add_argument("--out", type=Path, required=True, help="fichier JSONL à écrire")
    export_feedback.set_defaults(handler=export_feedback_command)



def eval_command(args, settings: Settings) -> int:
    from assistant.evaluation import runner as evaluate
    from assistant.evaluation.gold import load_gold
    from assistant.evaluation.report import markdown_report

    if not args.gold:
        raise UsageError("indiquez au moins un jeu de questions avec --gold (ou « assistant eval export-feedback »).")
    items = load_gold(args.gold)
    assistant = common.make_assistant(settings)  # one corpus, index and set of models for every system
    results = []
    for system in args.system or ["hybrid"]:
        # Each system embeds its questions itself: with the vectors of the previous system's
        # run still in memory, its latency would leave the embedding out.
        for embedding in assistant.embeddings.values():
            embedding.forget_questions()
        if args.mode and system == "hybrid":
            mode = settings.answer_mode if args.mode == "default" else args.mode
            results.append(evaluate.AnswerEvaluator(assistant, mode).run(items))
            print(answer_summary(results[-1]))
        else:
            results.append(evaluate.Evaluator(evaluate.searcher(assistant, system, items), system).run(items))
        print(retrieval_summary(results[-1]))
    # Every system read the version opened at the start, even if a build published another meanwhile.
    print(assistant.index.version_note(), file=sys.stderr)
    output = results[0] if len(results) == 1 else {"systems": results, **results[0]}
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(output, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(markdown_report(results, items), encoding="utf-8")
    return 0


def retrieval_summary(result: dict) -> str:
    r, a = result["retrieval"], result["abstention"]
    return (f"{result['system']} : hit@1 {figure(r['hit@1'])}, hit@5 {figure(r['hit@5'])}, recall@10 {figure(r['recall@10'])}, "
            f"mrr@10 {figure(r['mrr@10'])}, abstention {figure(a['accuracy'])}, "
            f"refus à tort {figure(a['false_refusal_rate'])}, p50 {milliseconds(result['latency_ms']['p50'])} ms")


def answer_summary(result: dict) -> str:
    c, v, t, a = result["citations"], result["verification"], result["latency_ms"], result["answers"]
    return (f"réponses ({result['mode']}) : première citation juste {figure(a['first_citation_accuracy'])}, "
            f"« En bref » {figure(a['lead_rate'])} (mots p50 {figure(a['lead_words_p50'], 'g')}), "
            f"mots p50 {figure(a['words_p50'], 'g')}, citations P {figure(c['precision'])} R {figure(c['recall'])} "
            f"F1 {figure(c['f1'])}, faits {figure(result['facts']['coverage'])}, "
            f"phrases non étayées {figure(v['unsupported_rate'])}, "
            # A draft's own check, else the reply written without a model (checked the same way).
            f"numéros inventés {figure(v['invented_article_numbers'] if v['generated_answers'] else a.get('invented_article_numbers'), 'd')}, "
            f"premier affichage p50 {milliseconds(t['first_token_p50'])} ms, total p50 {milliseconds(t['total_p50'])} ms")


def export_feedback_command(args, settings: Settings) -> int:
    from assistant.web import data_layer as feedback

    count = feedback.export_candidates(feedback.database_path(settings), args.out)
    print(f"{count} réponse(s) jugée(s) insatisfaisante(s) écrite(s) dans {args.out} : "
          "candidats à relire avant de les ajouter à eval/gold/.")
    return 0
