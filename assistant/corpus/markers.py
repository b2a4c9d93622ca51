"""Justel's amendment markers, read in every corpus unit's wording.

Justel marks each change in the text itself: `[1 new words ]1` brackets, inline notes
`<L 2017-07-06/24, art. 313, 124; En vigueur : 03-08-2017>` and numbered footnotes
`(1)<L …>` after a `----------` rule. The corpus keeps that wording verbatim (`Unit.text`);
from it come a reading version without markers (`plain_text`) and a structured `history`.
"""

from __future__ import annotations

import re

FOOTNOTE_RULE = "----------"
# `<L 2017-07-06/24, art. 313, 124; En vigueur : 03-08-2017>`, `<Inséré par L …>`, `<AR59 …>`.
# One marker in the Code closes with ")" instead of ">" at the end of its line (art. 22).
INLINE_MARKER_RE = re.compile(
    r"<(?=[^<>]*(?:\bart\.|\bvigueur|\d{2}-\d{2}-\d{4}))(?:[^<>]{3,400}>|[^<>\n]{3,400}\)$)", re.M
)
BRACKET_RE = re.compile(r"\[\d+\s|\]\d+")
# « Art. 442bis.(inséré par <L 1998-10-30/34, …>) Quiconque … »: once its marker is gone, the
# parenthesis says nothing, and the reply quoted « inséré par) Quiconque aura harcelé … ».
EMPTIED_NOTE_RE = re.compile(r"\(\s*(?:inséré|remplacé|modifié|rétabli)(?:\s+par)?\s*\)\s*", re.I)
FOOTNOTE_RE = re.compile(r"^\((\d+)\)\s*(<[^<>]+>)", re.M)
ACT_RE = re.compile(
    r"(?P<action>Inséré|inséré|Abrogé|abrogé|Rétabli|rétabli|Remplacé|remplacé|Modifié|modifié)?"
    r"(?:\s*par)?\s*(?P<act>(?:L|AR|AL|A\.R\.|Décret|DCF|DRW|ORD)\s?(?:\d+\s)?"
    r"(?:\d{4}-\d{2}-\d{2}/\d+|\d{2}-\d{2}-\d{4}))"
    r"(?:,\s*art\.\s*(?P<article>[^,;>]+))?"
)
IN_FORCE_RE = re.compile(r"En\s?vigueur\s*:\s*(?P<value>[^>(]*?\d{2}-\d{2}-\d{4}|indéterminée[^>]*)")
DATE_RE = re.compile(r"(\d{2})-(\d{2})-(\d{4})")


def iso_date(value: str) -> str:
    """`03-08-2017` → `2017-08-03`."""
    match = DATE_RE.search(value)
    return f"{match.group(3)}-{match.group(2)}-{match.group(1)}" if match else value


def plain_text(text: str) -> str:
    """Justel wording without its markers: no `[1 … ]1`, no `<L …>`, no footnotes."""
    body = text.split(FOOTNOTE_RULE)[0]
    body = INLINE_MARKER_RE.sub("", body)
    body = BRACKET_RE.sub("", body)
    body = EMPTIED_NOTE_RE.sub(" ", body)
    body = re.sub(r"[ \t]+", " ", body)
    body = re.sub(r" +([.,;:)\]])", r"\1", body)
    body = re.sub(r"\( +", "(", body)
    lines = [line.strip() for line in body.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def history(text: str) -> list[dict]:
    """Amendments recorded in the wording: amending act, its article, action, in-force date."""
    entries = []
    footnotes = text.split(FOOTNOTE_RULE, 1)[1] if FOOTNOTE_RULE in text else ""
    for ref, marker in FOOTNOTE_RE.findall(footnotes):
        entries.append(parse_marker(marker, ref))
    body = text.split(FOOTNOTE_RULE)[0]
    for match in INLINE_MARKER_RE.finditer(body):
        entries.append(parse_marker(match.group(0), None))
    return entries


def parse_marker(marker: str, ref: str | None) -> dict:
    """One `<L 2017-07-06/24, art. 313, 124; En vigueur : 03-08-2017>` note as a dict."""
    flat = " ".join(marker.split())
    act = ACT_RE.search(flat)
    return {
        "ref": ref,
        "act": act.group("act") if act else None,
        "act_date": act_date(act.group("act")) if act else None,
        "article": act.group("article").strip() if act and act.group("article") else None,
        "action": (act.group("action") or "modifié").lower() if act else "modifié",
        "in_force": in_force_date(flat),
        "marker": flat,
    }


def in_force_date(marker: str) -> str | None:
    """ISO date of "En vigueur : 03-08-2017"; Justel's words when undetermined; else None."""
    match = IN_FORCE_RE.search(marker)
    if not match:
        return None
    value = match.group("value").strip()
    return value if value.startswith("indéterminée") else iso_date(value)


def act_date(act: str) -> str | None:
    """Date of the amending act: `L 2017-07-06/24` → `2017-07-06`, `L 29-10-1919` → `1919-10-29`."""
    match = re.search(r"(\d{4}-\d{2}-\d{2})/", act)
    if match:
        return match.group(1)
    match = DATE_RE.search(act)
    return iso_date(match.group(0)) if match else None
