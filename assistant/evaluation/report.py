"""`assistant eval --report`: the eval JSON of each system as a Markdown page."""

from __future__ import annotations

from assistant.evaluation.gold import GoldItem

REFUSAL_NOTE = ("Une question répondable que l'assistant a refusée compte comme un échec : 0 en recherche "
                "(hit@k, rappel, MRR, nDCG), même si des passages pertinents ont été trouvés, et 0 en faits "
                "mentionnés (le message de refus n'est pas évalué comme une réponse).")


def markdown_report(results: list[dict], items: list[GoldItem]) -> str:
    """Systems side by side, then each question's outcome per system."""
    systems = [r["system"] for r in results]
    lines = ["# Évaluation de la recherche", "", f"{results[0]['n']} questions. {REFUSAL_NOTE} "
             "« n/a » : rien à mesurer (pas de question hors corpus, pas de citation attendue, "
             "aucune réponse générée en mode extractif).", "",
             "| métrique | " + " | ".join(systems) + " |", "|---|" + "---|" * len(systems)]
    for key in results[0]["retrieval"]:
        lines.append(f"| {key} | " + " | ".join(figure(r['retrieval'][key]) for r in results) + " |")
    for key in ("accuracy", "false_refusal_rate"):
        lines.append(f"| abstention {key} | " + " | ".join(figure(r['abstention'][key]) for r in results) + " |")
    for key in ("p50", "p95"):
        lines.append(f"| latence {key} (ms) | " + " | ".join(milliseconds(r['latency_ms'][key]) for r in results) + " |")
    lines += answer_rows(results)
    lines += family_section(results)
    lines += ["", "## Par question", "", "| id | attendu | " + " | ".join(systems) + " |",
              "|---|---|" + "---|" * len(systems)]
    per = [{q["id"]: q for q in r["per_question"]} for r in results]
    for item in items:
        cells = [outcome_cell(p[item.id]) for p in per]
        expected = ", ".join(item.expected) if item.answerable else "(hors corpus : s'abstenir)"
        lines.append(f"| {item.id} | {expected} | " + " | ".join(cells) + " |")
    lines += answer_section(results)
    return "\n".join(lines) + "\n"


def family_section(results: list[dict]) -> list[str]:
    """Misses per kind of situation, one column group per system (sets whose items have a family)."""
    if not results[0].get("families"):
        return []
    lines = ["", "## Échecs par famille de situations", "",
             "Pour chaque système : premier résultat faux / attendu absent du top 5 / abstention erronée.", "",
             "| famille | n | " + " | ".join(r["system"] for r in results) + " |", "|---|---|" + "---|" * len(results)]
    for family, row in results[0]["families"].items():
        cells = []
        for result in results:
            f = result["families"][family]
            cells.append(f"{f['first_wrong']} / {f['not_in_top5']} / {f['abstention_wrong']}")
        lines.append(f"| {family} | {row['n']} | " + " | ".join(cells) + " |")
    return lines


def answer_section(results: list[dict]) -> list[str]:
    """Each answer as written, with what verification flagged (runs with --mode)."""
    answered = next((r for r in results if "citations" in r), None)
    if answered is None:
        return []
    lines = ["", f"## Réponses ({answered['mode']})", ""]
    for question in answered["per_question"]:
        lines += [f"### {question['id']}", "", f"> {question['query']}", "",
                  question["answer"].strip() or "(vide)", "",
                  f"Citations : {', '.join(question['citations']) or '(aucune)'}"]
        lines += [f"- ⚠ non étayée : {s}" for s in question["unsupported"]]
        lines += [f"- ⚠ numéro inventé : {n}" for n in question["invented"]] + [""]
    return lines


def answer_rows(results: list[dict]) -> list[str]:
    """Answer metrics (runs with --mode), blank for retrieval-only systems."""
    if not any("citations" in r for r in results):
        return []
    rows = [("mode de réponse", lambda r: r["mode"]),
            ("première citation juste", lambda r: figure(r["answers"]["first_citation_accuracy"])),
            ("réponses avec « En bref »", lambda r: figure(r["answers"]["lead_rate"])),
            ("mots de l'« En bref » p50", lambda r: figure(r["answers"]["lead_words_p50"], "g")),
            ("mots de la réponse p50", lambda r: figure(r["answers"]["words_p50"], "g")),
            ("citations précision", lambda r: figure(r["citations"]["precision"])),
            ("citations rappel", lambda r: figure(r["citations"]["recall"])),
            ("citations F1", lambda r: figure(r["citations"]["f1"])),
            ("faits mentionnés", lambda r: figure(r["facts"]["coverage"])),
            ("phrases non étayées", lambda r: figure(r["verification"]["unsupported_rate"])),
            ("numéros d'article inventés (brouillons)", lambda r: figure(r["verification"]["invented_article_numbers"], "d")),
            ("numéros d'article inventés (réponse sans modèle)",
             lambda r: figure(r["answers"].get("invented_article_numbers"), "d")),
            ("premier affichage p50 (ms)", lambda r: milliseconds(r["latency_ms"]["first_token_p50"])),
            ("réponse complète p50 (ms)", lambda r: milliseconds(r["latency_ms"]["total_p50"]))]
    return [f"| {name} | " + " | ".join(cell(r) if "citations" in r else "" for r in results) + " |"
            for name, cell in rows]


def figure(value, spec: str = ".3f") -> str:
    """« n/a » for a figure that measured nothing (None in the JSON), never a zero."""
    return "n/a" if value is None else format(value, spec)


def milliseconds(value) -> str:
    """As rounded in the JSON (once, by the metrics), not rounded again."""
    return "n/a" if value is None else str(value)


def outcome_cell(question: dict) -> str:
    if not question["answerable"]:
        return "abstention ✔" if question["abstained"] else "répond ✘"
    rank = question["rank"]
    text = f"rang {rank}" if rank else "absent du top 10"
    return text + (" (abstention ✘)" if question["abstained"] else "")
