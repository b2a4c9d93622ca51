"""`assistant ask`: the answer on the terminal (passages, then the streamed draft) or as JSON."""

from __future__ import annotations

import json

from assistant.cli import common
from assistant.errors import UsageError


def add_commands(subparsers) -> None:
    ask = subparsers.add_parser("ask", help="poser une question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--k", type=int, default=5, help="nombre d'articles retenus (1 à 50)")
    ask.add_argument("--mode", choices=["extractive", "generative"], default=None,
                     help="extraits seuls, ou réponse rédigée par le modèle local (défaut : ASSISTANT_ANSWER_MODE)")
    ask.set_defaults(handler=ask_command)



def ask_command(args) -> int:
    from assistant import pipeline as engine

    try:  # refused before minutes of loading, exit code 2
        question, k = engine.clean_question(args.question), engine.check_k(args.k)
    except engine.InvalidQuestion as error:
        raise UsageError(str(error)) from None
    from assistant.models.embeddings import EmbeddingConfigError

    mode = args.mode or engine.default_mode()
    assistant = common.make_assistant()
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
