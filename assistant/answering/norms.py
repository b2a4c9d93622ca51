"""A structured reading of each unit: the rules it lays down (who it addresses, permission,
obligation, prohibition, penalty, definition or procedure, the action, its conditions, its
exceptions, the penalty), every part a verbatim fragment of the unit's text.

The reply's lead and its list of conditions are fixed French templates filled from these
fragments (assistant/answering/brief.py): nothing the reader sees as law is written by a model.
The reading is by rules on the law's own connectives (« peut », « est tenu », « sera puni »,
« soit lorsque », « sauf », « hors le cas où », 1°…). Units are read once per process, on first
use, and kept (about 0.2 ms a unit)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache

from assistant.corpus.model import Unit
from assistant.retrieval.retriever import INJECTION_RE

MODALITIES = ("permission", "obligation", "prohibition", "penalty", "definition", "procedure")

# The anchors of a rule, strongest first: a sentence holding several is read by the first kind
# found in this order (« Toute personne violant ce secret sera punie » is a penalty even though
# the article also says « peut »).
ANCHORS = (
    ("permission", re.compile(r"\bil n[’']y a pas d[’']infraction\b", re.I)),
    # « l'abstenant ne pourra être puni lorsque … »: an exemption, read like « il n'y a pas
    # d'infraction » (before « ne pourra », which is a prohibition).
    ("permission", re.compile(r"\bne (?:peut|peuvent|pourra|pourront) (?:pas )?être puni(?:e|s|es)?\b", re.I)),
    # « les peines seront celles prévues à l'alinéa 3 », « la peine sera la réclusion de cinq ans »,
    # « le maximum de la peine … sera doublé » (art. 410bis: an aggravation read as a procedure).
    ("penalty", re.compile(r"\b(?:ser(?:a|ont)|est|sont) puni(?:e|s|es)?\b|"
                           r"\b(?:la peine|les peines)\b[^.;]*?\b(?:est|sont) portée?s? à\b|"
                           r"\b(?:la peine|les peines) (?:sera|seront|sont) (?:celles?|la réclusion|l'emprisonnement|les suivantes)\b|"
                           r"\ble (?:minimum|maximum) de la peine\b[^.;]*?\bsera (?:doublé|augmenté|porté)", re.I)),
    ("prohibition", re.compile(r"\b(?:ne (?:peut|peuvent|pourra|pourront|doit|doivent)\b|(?:il )?est interdit|"
                               r"sont interdit(?:e)?s)", re.I)),
    ("obligation", re.compile(r"\b(?:doit|doivent|devra|devront|(?:est|sont) tenu(?:e|s|es)?|"
                              r"(?:est|sont) obligé(?:e|s|es)?|(?:a|ont) pour mission)\b", re.I)),
    ("permission", re.compile(r"\b(?:peut|peuvent|pourra|pourront|(?:est|sont) autorisé(?:e|s|es)?|"
                              r"(?:a|ont) (?:le )?droit)\b", re.I)),
    # « Celui qui … a méchamment imputé … est coupable de calomnie lorsque … » (art. 443) names an offence.
    ("definition", re.compile(r"\b(?:on entend par|il faut entendre par|(?:est|sont) considéré(?:e|s|es)? comme|"
                              r"(?:est|sont) coupables? d(?:e|')|"
                              r"se rend(?:ent)? coupables? d(?:e|'))\b|"
                              r"^(?:\([^)]*\)\s*)?Constitu(?:e|ent)\b", re.I)),
)
# « (NOTE: par son arrêt n°127/2013 … la Cour constitutionnelle a annulé …) »: Justel's own note.
EDITORIAL_NOTE_RE = re.compile(r"^\(?\s*NOTE\s*:", re.I)
# In a list of definitions (after « on entend par : »), each « terme : sa définition ».
TERM_RE = re.compile(r"^([^:;,.]{2,60}):\s+(\S.*)$")
# Where the law attaches a condition or an exception to a rule.
# A bare « soit » is not a cut: « que cette situation lui soit décrite » is a verb.
CONDITION_START = (r"soit lorsqu|soit qu|soit en vue|soit par|soit moyennant|soit pour|soit dans|lorsqu|"
                   r"si |s[’']il|s[’']ils|à condition|pour autant|dans la mesure où|dans les cas où|quand ")
EXCEPTION_START = r"sauf|hors le cas|hors les cas|excepté|à l[’']exception|sans préjudice"
CUT_RE = re.compile(rf"(?<!soit)(?<!sauf)(?<!excepté)(?:,\s*|\s+)(?=(?:{EXCEPTION_START}|{CONDITION_START}))", re.I)
EXCEPTION_RE = re.compile(rf"^(?:{EXCEPTION_START})", re.I)
ITEM_RE = re.compile(r"(?:^|\s)(?=\d+°\s)")
HEADING_RE = re.compile(r"^(?:Art(?:icle)?\.?\s*[\w/]+\.\s*)?(?:§\s*(\d+(?:er)?)\.?\s*)?")
# Not after an initial (« composée des présidents F. Daoût et A. Alen »: a judgment's bench was
# read as ten sentences, three of them quoted in a reply).
SENTENCE_END_RE = re.compile(r"(?<=\.)(?<!\bArt\.)(?<!\bart\.)(?<!\bal\.)(?<!\bn°)(?<!\b[A-ZÀ-Ý]\.)\s+(?=[A-ZÀ-Ý§(«])")
# A penalty stated first: « Sera puni de …, celui qui … » (the article's number and § are gone:
# `sentences` reads each line after its heading).
PENALTY_FIRST_RE = re.compile(r"^Ser(?:a|ont) puni", re.I)
# Where the offender starts in such a sentence.
OFFENDER_RE = re.compile(r"(?:,\s*|\s+)(?=(?:celui|celle|ceux|celles) qui\b|quiconque\b|toute personne qui\b)", re.I)
# A subject that is the offender, its conduct after it: « Quiconque aura … », « Celui qui, … ».
OFFENDER_START_RE = re.compile(r"^(?:quiconque|(?:celui|celle|ceux|celles|toute personne) qui)\b[\s,]*", re.I)
# The addressee is the head of the subject: cut before its long qualifications.
ADDRESSEE_CUT_RE = re.compile(r"\s+et (?:a|ont|qui)\s|,\s*qui\b|\s+qui a été|,\s*(?=hors|sauf|sans préjudice)", re.I)
# Long enough for art. 458's « Les médecins, …, par état ou par profession, des secrets qu'on leur
# confie » (23 words; at 20 the reply said « des secrets […] », who confides them cut off); the
# reply caps it again at a comma (answering/brief.py).
MAX_ADDRESSEE_WORDS = 30
# The cuts of ADDRESSEE_CUT_RE that open a restriction of the subject (not « , qui, hors le cas
# où … », an exception, nor « , qui … » before the conduct of a penalty).
SCOPE_CUT_RE = re.compile(r"\s+et (?:a|ont|qui)\s", re.I)
MIN_SCOPE_WORDS = 6
# A sentence saying what the offence just stated requires (« Le délit requiert que … »).
REQUIREMENT_RE = re.compile(r"^(?:Le délit|L[’']infraction|Le crime)\s+(?:requiert|suppose|exige)\s+que\b", re.I)
RELATIVE_RE = re.compile(r"\bqui\s+$", re.I)
# An opening adverbial clause is not the addressee: « Compte tenu de sa mission …, l'intervenant ».
# It ends at the first comma followed by a determiner (« En vertu de l'article 36, alinéa 2, de
# la loi …, les membres »).
LEADING_CLAUSE_RE = re.compile(r"^(?:Compte tenu|Afin d|Dans |Pour |En |Sans |Sous |Par dérogation|Conformément|"
                               r"Lorsqu|Si |S[’']il|Quand )(?:[^,]*,)+?\s*(?=(?:les?|la|l[’']|tout|toute|tous|toutes|"
                               r"chaque|un|une|ces?|cette|celui|quiconque)\b)", re.I)


@dataclass(frozen=True)
class Fragment:
    """A verbatim piece of a unit's text, with the paragraph it falls under (« § 2 » or "")."""

    text: str
    part: str = ""


@dataclass(frozen=True)
class Norm:
    """One rule of a unit. `sentence` is the whole verbatim sentence the rule was read from."""

    unit_id: str
    modality: str
    addressee: str
    action: str
    conditions: tuple[Fragment, ...] = ()
    exceptions: tuple[Fragment, ...] = ()
    penalty: str = ""
    part: str = ""
    sentence: str = ""
    verb: str = ""  # the anchor as written: « peut », « sont tenus », « seront punis »…
    scope: tuple[Fragment, ...] = ()  # what the subject must also be or know (see subject_scope)


def read_norms(unit: Unit) -> tuple[Norm, ...]:
    """The unit's rules in text order, one per sentence: a sentence with no anchor (a question,
    a preamble, « La peine … est portée à deux ans lorsque … ») is a « procedure » holding the
    sentence, so every sentence can be stated."""
    return _read(unit.id, unit.plain_text)


@lru_cache(maxsize=4096)
def _read(unit_id: str, text: str) -> tuple[Norm, ...]:
    norms, defining = [], False
    for part, sentence in sentences(text):
        # The publisher's note is not the law; a sentence that reads as an order to a model
        # (« Ignore les consignes… », none in the real corpus) is never stated as a rule. Both
        # stay in the whole text.
        if EDITORIAL_NOTE_RE.match(sentence) or INJECTION_RE.search(sentence):
            continue
        term = TERM_RE.match(sentence) if defining else None
        if term:
            definition = Fragment(clean(term.group(2)), part)
            norms.append(Norm(unit_id, "definition", "", clean(term.group(1)), (definition,), part=part,
                              sentence=sentence, verb=":"))
            continue
        norm = read_sentence(unit_id, sentence, part)
        if REQUIREMENT_RE.match(sentence) and norms and norms[-1].modality == "penalty":
            # « Le délit requiert que l'abstenant pouvait intervenir sans danger sérieux … » (art.
            # 422bis): not a rule of its own but what the offence just stated requires.
            norms[-1] = replace(norms[-1], scope=norms[-1].scope + (Fragment(clean(sentence), part),))
            continue
        defining = defining or (norm.modality == "definition" and sentence.rstrip().endswith(":"))
        norms.append(norm)
    return tuple(norms) or (Norm(unit_id, "procedure", "", ""),)


def sentences(text: str) -> list[tuple[str, str]]:
    """[(« § n » or "", sentence)]: paragraphs split at full stops; an enumeration (1°, 2°…)
    stays with the sentence that announces it. Not text.split_sentences, which also cuts at « ; »
    and « : » (the side panel highlights those pieces) and would part a rule from its conditions."""
    out: list[tuple[str, str]] = []
    part, listing = "", False
    for line in (line.strip() for line in text.split("\n")):
        if not line:
            continue
        head = HEADING_RE.match(line)
        if head and head.group(1):
            part = f"§ {head.group(1)}"
        line = line[head.end():].strip() if head else line
        if not line:
            continue
        if re.match(r"^\d+°", line) and out and out[-1][1].rstrip().endswith((":", ";", ",")):
            out[-1] = (out[-1][0], f"{out[-1][1]} {line}")
            continue
        # Unnumbered offences after a penalty (« Sera puni … : / Celui qui aura fait … ; / Celui qui
        # aura adressé … »): art. 445's penalty stood alone, its offences read as two more sentences.
        # Not a list of definitions (« on entend par : / mineur: … ; »), read term by term.
        previous = out[-1][1].rstrip() if out else ""
        if previous.endswith(":") and PENALTY_FIRST_RE.match(previous) or listing and previous.endswith(";"):
            out[-1] = (out[-1][0], f"{out[-1][1]} {line}")
            listing = True
            continue
        listing = False
        out += [(part, s.strip()) for s in SENTENCE_END_RE.split(line) if s.strip()]
    return out


def read_sentence(unit_id: str, sentence: str, part: str = "") -> Norm:
    """The rule of one sentence; a « procedure » holding the sentence when it has no anchor."""
    for modality, anchor in ANCHORS:
        # Not inside a relative clause: « déterminent au moins qui peut participer ».
        match = next((m for m in anchor.finditer(sentence) if not RELATIVE_RE.search(sentence[:m.start()])), None)
        if match:
            break
    else:
        return Norm(unit_id, "procedure", "", clean(sentence), part=part, sentence=sentence)
    norm = _read_parts(unit_id, sentence, part, modality, match)
    return replace(norm, verb=match.group(0))


def _read_parts(unit_id: str, sentence: str, part: str, modality: str, match: re.Match) -> Norm:
    subject, rest = sentence[:match.start()].strip(" ,("), sentence[match.end():].strip()
    penalty = ""
    if modality == "penalty":
        if not subject and (offender := OFFENDER_RE.search(rest)):  # « Sera puni de …, celui qui … »
            penalty, subject_and_act = rest[:offender.start()], rest[offender.end():]
            addressee, action, conditions, exceptions = split_clauses(subject_and_act, part)
            action = re.sub(r"^(?:celui|celle|ceux|celles|toute personne) qui\s+|^quiconque\s+", "", action, flags=re.I)
            return Norm(unit_id, modality, addressee, action, conditions, exceptions, clean(penalty), part,
                        sentence)
        penalty = clean(cut_at_markers(rest))
        # « La peine … est portée à deux ans lorsque la personne … est mineure d'âge »
        _, _, conditions, more = split_clauses(rest, part, has_subject=False)
        # « Les … dépositaires …, qui, hors le cas où …, les auront révélés, seront punis »
        addressee, exceptions, action = split_subject(subject, part)
        if not action and (offender := OFFENDER_START_RE.match(subject)):
            # « Quiconque aura, alors qu'il connaissait la situation de faiblesse …, frauduleusement
            # abusé de cette faiblesse … » : the subject is the conduct (cut at 30 words as an
            # addressee, art. 442quater lost the abuse itself).
            addressee, action = offender.group(0).strip(" ,"), clean(subject[offender.end():])
        return Norm(unit_id, modality, addressee, action, conditions, exceptions + more, penalty, part, sentence)
    if match.group(0).lower().startswith("il n"):  # « Il n'y a pas d'infraction lorsqu'une personne … »
        body = re.sub(r"^lorsqu[’']\s*", "", rest, flags=re.I)
        addressee, action, conditions, exceptions = split_clauses(body, part, comma_split=True)
        return Norm(unit_id, modality, addressee, action, conditions, exceptions, "", part, sentence)
    subject, leading = leading_conditions(subject, part)
    addressee, exceptions, _ = split_subject(subject, part)
    _, action, conditions, more = split_clauses(rest, part, has_subject=False)
    scope = () if exceptions else subject_scope(subject, part)
    return Norm(unit_id, modality, addressee, action, leading + conditions, exceptions + more, penalty, part,
                sentence, scope=scope)


def subject_scope(subject: str, part: str) -> tuple[Fragment, ...]:
    """The subject's qualification cut off the addressee, when it restricts who the rule is for:
    « Toute personne qui … est dépositaire de secrets » + « et a de ce fait connaissance d'une
    infraction prévue aux articles …, qui a été commise sur un mineur ou sur une personne qui est
    vulnérable … » (art. 458bis: the victims the permission is for, its first condition)."""
    cut = SCOPE_CUT_RE.search(subject, 12)
    if not cut:
        return ()
    text = clean(subject[cut.start():])
    return (Fragment(text, part),) if len(text.split()) >= MIN_SCOPE_WORDS else ()


def leading_conditions(subject: str, part: str) -> tuple[str, tuple[Fragment, ...]]:
    """« Lorsqu'il n'a pas constaté …, l'abstenant » → (« l'abstenant », the condition); an opening
    clause of purpose or frame (« Compte tenu de … ») is dropped from the addressee."""
    conditions = []
    while (match := LEADING_CLAUSE_RE.match(subject)) and match.end() < len(subject):
        clause = clean(match.group(0))
        if re.match(rf"^(?:{CONDITION_START})", clause, re.I):
            conditions.append(Fragment(clause, part))
        subject = subject[match.end():]
    return subject, tuple(conditions)


def split_clauses(text: str, part: str, comma_split: bool = False, has_subject: bool = True):
    """(addressee, action, conditions, exceptions) of « <who> <does what>, soit lorsque …, sauf … ».
    Without a subject, the text starts at the action (after the modal verb)."""
    pieces = [p.strip(" ,;.") for p in CUT_RE.split(text)]
    head, clauses = "", []
    for piece in pieces:
        if not piece:
            continue
        if EXCEPTION_RE.match(piece) or re.match(rf"^(?:{CONDITION_START})", piece, re.I):
            clauses.append(piece)
        elif not head and not clauses:
            head = piece
        elif clauses and EXCEPTION_RE.match(clauses[-1]) and not head:
            # « peut, sans préjudice de …, en informer » : the action comes after the exception.
            last = clauses.pop()
            exception, _, after = last.partition(", ")
            clauses.append(exception)
            head = f"{after} {piece}".strip() if after else piece
        else:
            clauses[-1 if clauses else 0:] = [f"{clauses[-1]} {piece}" if clauses else piece]
    if clauses and EXCEPTION_RE.match(clauses[0]) and not head and ", " in clauses[0]:
        exception, _, after = clauses[0].partition(", ")
        clauses[0:1] = [exception]
        head = after
    conditions = tuple(Fragment(c, part) for c in expand_items(clauses) if not EXCEPTION_RE.match(c))
    exceptions = tuple(Fragment(c, part) for c in clauses if EXCEPTION_RE.match(c))
    addressee, action = "", head
    if has_subject:
        if comma_split and ", " in head:
            addressee, _, action = head.rpartition(", ")
        else:
            addressee, action = short_addressee(head), head
    return addressee, clean(action), conditions, exceptions


def split_subject(subject: str, part: str) -> tuple[str, tuple[Fragment, ...], str]:
    """(addressee, exceptions, conduct) of a subject such as « Les médecins …, qui, hors le cas où
    …, les auront révélés »: the conduct is what follows the subject's last comma."""
    exceptions: tuple[Fragment, ...] = ()
    conduct = ""
    found = re.search(rf"(?:{EXCEPTION_START})", subject, re.I)
    if found:
        tail = subject[found.start():]
        exception, _, conduct = tail.rpartition(", ")
        exception = exception or tail
        exceptions = (Fragment(clean(exception), part),)
    elif re.search(r",\s*qui\b", subject):
        conduct = subject[re.search(r",\s*qui\b", subject).end():].strip(" ,")
    return short_addressee(subject), exceptions, clean(conduct)


def short_addressee(subject: str) -> str:
    """The head of the subject, verbatim: « Toute personne qui, par état ou par profession, est
    dépositaire de secrets » out of a subject of eighty words."""
    cut = ADDRESSEE_CUT_RE.search(subject, 12)
    head = subject[:cut.start()] if cut else subject
    words = head.split()
    if len(words) > MAX_ADDRESSEE_WORDS:
        head = " ".join(words[:MAX_ADDRESSEE_WORDS])
    return clean(head)


def expand_items(clauses: list[str]) -> list[str]:
    """An enumeration inside a clause (« 1° …; 2° … ») is one condition per item."""
    out = []
    for clause in clauses:
        items = [i.strip(" ;,.") for i in ITEM_RE.split(clause) if i.strip(" ;,.")]
        out += items if len(items) > 1 and all(re.match(r"^\d+°", i) for i in items[1:]) else [clause]
    return out


def cut_at_markers(text: str) -> str:
    match = CUT_RE.search(text)
    return text[:match.start()] if match else text


def clean(fragment: str) -> str:
    """Outer spaces and punctuation off; the words stay as the law wrote them."""
    return " ".join(fragment.split()).strip(" ,;:.")
