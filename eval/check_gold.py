"""Vérifie un fichier gold JSONL (eval/gold/*.jsonl) contre le corpus.

Usage : .venv/bin/python eval/check_gold.py [eval/gold/question-parlementaire.jsonl]

Contrôles : chaque ligne est un objet JSON ; clés exactes (« note » et « family » facultatives) ;
types ; ids uniques ; historique bien formé ; items non répondables sans citations ni
mentions ; chaque citation existe (id d'unité ou id de document) ; chaque groupe de
« answer_must_mention » a au moins une alternative présente (casse et accents ignorés)
dans le texte simple des unités citées. Affiche les effectifs et sort en erreur si les
minimums de question-parlementaire.jsonl (34 items, 6 non répondables, 5 suivis, 3 adversariaux) ne sont pas atteints.
"""

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {"id", "question", "history", "expected_citations", "answer_must_mention", "answerable"}
OPTIONAL = {"note", "family"}
MINIMUMS = {"items": 34, "non répondables": 6, "suivis (history)": 5, "adversariaux": 3}


def norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", s.replace("’", "'").replace("«", '"').replace("»", '"'))
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return re.sub(r"\s+", " ", s).strip()


def load_units():
    out = subprocess.run([str(ROOT / ".venv/bin/assistant"), "corpus", "list", "--json"],
                         cwd=ROOT, check=True, capture_output=True, text=True).stdout
    units = json.loads(out)
    by_id = {u["id"]: u for u in units}
    by_doc = {}
    for u in units:
        by_doc.setdefault(u["document"], []).append(u)
    return by_id, by_doc


def main(path: Path) -> int:
    by_id, by_doc = load_units()
    errors, items = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{n}"
        if not line.strip():
            errors.append(f"{where}: ligne vide")
            continue
        try:
            it = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"{where}: JSON invalide ({e})")
            continue
        if not isinstance(it, dict):
            errors.append(f"{where}: pas un objet")
            continue
        keys = set(it)
        if not REQUIRED <= keys or keys - REQUIRED - OPTIONAL:
            errors.append(f"{where}: clés {sorted(keys)} (manque {sorted(REQUIRED - keys)}, en trop {sorted(keys - REQUIRED - OPTIONAL)})")
            continue
        items.append((where, it))
        if not re.fullmatch(r"[a-z][a-z0-9]*-\d{3}", str(it["id"])):
            errors.append(f"{where}: id {it['id']!r} hors format préfixe-NNN")
        if not isinstance(it["question"], str) or not it["question"].strip():
            errors.append(f"{where}: question vide")
        if not isinstance(it["answerable"], bool):
            errors.append(f"{where}: answerable n'est pas un booléen")
        if "note" in it and not isinstance(it["note"], str):
            errors.append(f"{where}: note n'est pas une chaîne")
        hist = it["history"]
        if not isinstance(hist, list):
            errors.append(f"{where}: history n'est pas une liste")
        else:
            for k, turn in enumerate(hist):
                if not (isinstance(turn, dict) and set(turn) == {"role", "content"}
                        and turn["role"] in ("user", "assistant")
                        and isinstance(turn["content"], str) and turn["content"].strip()):
                    errors.append(f"{where}: history[{k}] mal formé")
                elif turn["role"] != ("user" if k % 2 == 0 else "assistant"):
                    errors.append(f"{where}: history[{k}] : alternance user/assistant rompue")
        cites, groups = it["expected_citations"], it["answer_must_mention"]
        if not (isinstance(cites, list) and all(isinstance(c, str) for c in cites)):
            errors.append(f"{where}: expected_citations mal formé")
            continue
        if not (isinstance(groups, list) and all(
                isinstance(g, list) and g and all(isinstance(a, str) and a.strip() for a in g) for g in groups)):
            errors.append(f"{where}: answer_must_mention mal formé")
            continue
        if it["answerable"] is False:
            if cites or groups:
                errors.append(f"{where}: non répondable mais citations/mentions non vides")
            continue
        if not cites:
            errors.append(f"{where}: répondable sans citation")
        if not 1 <= len(groups) <= 3:
            errors.append(f"{where}: {len(groups)} groupes de mentions (attendu 1 à 3)")
        texts = []
        for c in cites:
            if c in by_id:
                texts.append(by_id[c]["plain_text"] or by_id[c]["text"])
            elif c in by_doc:
                texts.extend(u["plain_text"] or u["text"] for u in by_doc[c])
            else:
                errors.append(f"{where}: citation inconnue {c!r}")
        if len(set(cites)) != len(cites):
            errors.append(f"{where}: citation en double")
        blob = norm(" ".join(texts))
        for g in groups:
            if not any(norm(a) in blob for a in g):
                errors.append(f"{where}: aucune alternative de {g} dans le texte des unités citées")

    ids = [it["id"] for _, it in items]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        errors.append(f"ids en double : {sorted(dup)}")
    qs = [norm(it["question"]) for _, it in items]
    if len(set(qs)) != len(qs):
        errors.append("questions en double")

    counts = {
        "items": len(items),
        "répondables": sum(it["answerable"] is True for _, it in items),
        "non répondables": sum(it["answerable"] is False for _, it in items),
        "suivis (history)": sum(bool(it["history"]) for _, it in items),
        "adversariaux": sum("adversarial" in it.get("note", "").lower() for _, it in items),
    }
    cited = {}
    for _, it in items:
        for c in it["expected_citations"]:
            cited[c] = cited.get(c, 0) + 1
    for name, val in counts.items():
        print(f"{name:>18} : {val}")
    print("citations attendues (nombre d'items) :")
    for c, k in sorted(cited.items(), key=lambda x: (-x[1], x[0])):
        print(f"  {k:3d}  {c}")
    for name, low in MINIMUMS.items():
        if path.name == "question-parlementaire.jsonl" and counts[name] < low:  # the set they were planned for
            errors.append(f"{name} : {counts[name]} < {low}")
    for e in errors:
        print("ERREUR", e, file=sys.stderr)
    print("OK" if not errors else f"{len(errors)} erreur(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "eval/gold/question-parlementaire.jsonl"))
