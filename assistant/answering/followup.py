"""Conversation: turn a follow-up into one standalone question for retrieval.

The earlier question is read as a *frame*: its situation (« Une ado de 15 ans me dit que son
beau-père la frappe »), its legal point (« je peux prévenir le parquet ») and a hypothesis a
follow-up added (« si elle est majeure »). A follow-up changes one part of the frame:

- a changed fact (« et si elle a 17 ans ? », « et s'il est majeur ? ») replaces the age the
  situation gives, or becomes the hypothesis;
- another person (« et à la police ? », « même chose pour le directeur de l'école ? ») takes
  the place of the one the legal point names (addressee, requester, or the asker's role);
- a condition (« même sans son accord ? »), an elliptical question (« pourquoi ? », « je risque
  quoi ? ») or one about refusing (« et si je refuse ? ») is attached to the legal point;
- a new question leaning on the conversation (« je peux lui en parler ? », « dans ce cas, qui
  décide ? ») keeps the earlier situation and asks its own point.

A message that names its own situation and question is kept as typed. Deterministic, a few
regular expressions: no model, well under a millisecond.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from assistant.text import shorten

REWRITE_PROMPT = (
    "Réécris la dernière question de l'utilisateur en une seule question autonome, compréhensible sans "
    "la conversation, en français, en gardant ses mots et tout ce qu'elle demande. N'y réponds pas. "
    "Écris seulement la question réécrite."
)
MAX_SITUATION = 200  # characters of the earlier situation kept in front of the question


def key(text: str) -> str:
    """Lower case, accents off, ’ as ': one character for one, so that a match in the key is
    the same span in the text as typed."""
    out = []
    for char in text.replace("’", "'").replace("‘", "'"):
        base = unicodedata.normalize("NFD", char.lower())[:1] or char
        out.append(base if len(char.lower()) == 1 else char)
    return "".join(out)


# -- vocabulary (folded) ------------------------------------------------------------------------

MARKERS_RE = re.compile(
    r"^(?:et puis|et|mais|ok(?:ay)?|d'accord|alors|du coup|dans ce cas(?: la|-la)?|dans cette situation|"
    r"dans ces cas|sinon|puis|ah|euh|bon|bien|merci(?: beaucoup)?|super|parfait|aussi|encore|"
    r"(?:et )?(?:la )?meme chose|pareil|idem|plutot)(?=[\s,.;:!?]|$)[\s,.;:!-]*")
# Markers that point back at the earlier situation: the message is never standalone.
SAME_RE = re.compile(r"^(?:(?:et )?(?:la )?meme chose|pareil|idem|dans ce cas|dans cette situation|dans ces cas)\b")
# Words that announce another subject (« ok merci. autre chose : un conseiller veut lire un
# dossier… »): what follows is its own question, whatever its shape; glued to the earlier one it
# read « …leur fille de 8 ans, autre chose : un conseiller veut lire un dossier : je peux prévenir
# le parquet ? ».
NEW_TOPIC_RE = re.compile(r"^(?:(?:j'ai )?(?:une )?(?:autre|nouvelle|deuxieme|2e) (?:chose|question|situation|sujet|cas)|"
                          r"(?:rien a voir|changement de sujet|changeons de sujet|autre sujet)(?: avec [\w' ]+?)?)"
                          r"(?=[\s,.;:!?-]|$)[\s,.;:!?-]*")
# Who asks or demands, in « et si c'est le juge qui demande ? »: the requester changes. Any
# other verb (« et si c'est la maman qui frappe ? ») makes a hypothesis about the facts.
REQUEST_RE = re.compile(r"^qui (?:(?:me|nous|m') ?)?(?:(?:le|la|les|l'|lui|en) ?)?(?:demande|exige|reclame|veut|voudrait|appelle|telephone|"
                        r"interroge|convoque|ecrit|requiert)\b")
ARTICLE_RE = re.compile(r"\bart(?:icle)?s?\.?\s*\d")
AGE_RE = re.compile(r"\b(?:de |d'|a |âge de )?(\d{1,2}) ?ans\b")
# A person a situation is about: determiner, noun, and what qualifies it (« une ado de 15 ans »,
# « une personne âgée », « un mineur »).
PERSON_RE = re.compile(
    r"\b(?:un|une|le|la|l'|mon|ma|notre|cette|ce)\s*(?:jeune |petite? |vieille |vieux )?"
    r"(?:enfant|ado(?:lescente?)?|mineure?|fille(?:tte)?|garcon|gamine?|bebe|jeune|dame|monsieur|femme|homme|"
    r"personne(?: agee| handicapee| vulnerable| majeure| mineure)?|adulte|victime|residente?|patiente?|"
    r"usager(?:e)?|usagere|beneficiaire|eleve)(?: de \d{1,2} ans| \d{1,2} ans| agee?)?\b")
MAJORITY_RE = re.compile(r"\b(?:majeure?s?|mineure?s?|adultes?)\b")

# Where the legal point starts: a first-person modal (« je peux », « puis-je », « est-ce que
# je dois »), an inverted third person (« la police peut-elle »), a question word at a clause
# start (« que », « quelle », « qui »…).
SELF_MODAL = (r"(?:est[- ]ce (?:que |qu'))?(?:je |j'|on |nous |tu )(?:ne |n')?(?:peux|peut|pourrais|pourrait|"
              r"pouvons|dois|doit|devrais|devrait|devons|ai le droit|a le droit|avons le droit|"
              r"suis (?:oblige|tenu|cense)e?|ai l'obligation)"
              r"|(?:puis|peux|dois|devrais|pourrais|ai|aurais|suis)[- ](?:je|j')\b(?: le droit| l'obligation"
              r"| (?:oblige|tenu|cense)e?)?|(?:peut|doit|faut)[- ](?:il|on)(?= )(?<!faut-il)")
# A person or service named at the message's start: determiner and up to four words (« le juge
# d'instruction », « la directrice de l'école »).
NAMED = (r"(?:le|la|les|l'|un|une|mon|ma|mes|son|sa|ses|notre|nos|leur|leurs|ce|cette|ces) ?[\w'-]+"
         r"(?: (?:de |d'|du |des )?[\w'-]+){0,3}")
OTHER_MODAL = (r"(?:peut|doit|devrait|pourrait|a)[- ](?:t[- ])?(?:il|elle|on)\b|(?:peuvent|doivent|ont)[- ](?:ils|elles)\b"
               r"|faut[- ]il\b|y a[- ]t[- ]il\b"
               # Spoken French keeps the order: « la police, elle peut exiger le dossier ? », « le
               # juge peut me forcer à témoigner ? » ask their own question.
               r"|(?:il|elle|ils|elles) (?:ne |n')?(?:peut|peuvent|doit|doivent|pourrait|devrait|a le droit|ont le droit)\b"
               rf"|^{NAMED} (?:ne |n')?(?:peut|peuvent|doit|doivent|a le droit|ont le droit)\b")
# « c'est quoi » asks too: without it, « … une maman qu'on suivait et qui vit côté flamand. C'est
# quoi exactement ? » took the relative « qui vit … » for the question (situations-8, s8-014).
QUESTION_WORD = (r"(?:qu'est[- ]ce|est[- ]ce|que|qu'|quels?|quelles?|qui|comment|pourquoi|quand|combien|"
                 r"ou|a qui|dans quels? cas|lesquel(?:le)?s?|lequel|laquelle|c'est quoi|c quoi)\b")
SELF_RE = re.compile(rf"(?<![\w'-])(?:{SELF_MODAL})")
OTHER_RE = re.compile(rf"(?<![\w'-])(?:{OTHER_MODAL})")
CLAUSE_START = r"(?:^|[.:;!?,]\s*|\s[—–-]\s*|\s(?=(?:et|mais) ))"
QUESTION_RE = re.compile(rf"{CLAUSE_START}(?:(?:et|mais) )?({QUESTION_WORD})")
CLAUSE_BOUNDARY_RE = re.compile(r"[.:;!?,]\s+|\s[—–-]\s+")
SENTENCE_END_RE = re.compile(r"[?.!]")
# What follows the modal before the action: « de », adverbs (« je peux quand même prévenir »).
ACTION_LEAD_RE = re.compile(r"^(?:\s*(?:de |d'|quand meme |aussi |vraiment |legalement |toujours |"
                            r"moi[- ]meme |pas |ne ))*")

# A person named, then taken up by a pronoun that asks something of them (spoken French).
DISLOCATED_RE = re.compile(rf"^{NAMED}, (?:il|elle|ils|elles|lui|eux) \w")
IF_RE = re.compile(r"^(?:meme |seulement |sauf |mais )?(?:si |s'(?=ils?\b)|quand |lorsque? |lorsqu'|au cas ou |"
                   r"dans le cas ou |en cas d)")
SELF_IF_RE = re.compile(r"^(?:meme )?(?:si|quand|lorsque?) (?:je |j')|^(?:meme )?lorsqu'(?:je )")
REFUSE_RE = re.compile(r"^si je (?:refuse|ne veux pas|dis non)\s*$")
CONDITION_RE = re.compile(r"^(?:meme )?(?:sans |malgre |contre |a (?:son|leur|mon) insu|avec (?:son|leur|l')"
                          r" ?(?:accord|consentement|autorisation)|hors |en dehors )")
SUBJECT_PRONOUN_RE = re.compile(r"^(?:si |s')?(?:il|elle|ils|elles|ca|cela|c'est|c'etait)\b")
THIRD_PERSON_RE = re.compile(r"(?<![\w'-])(?:qu')?(?:il|elle|ils|elles|lui|eux)(?![\w'-])")
CLITIC_RE = re.compile(r"(?:\b(?:je|j'|on|tu|il|elle)|-(?:je|on|il|elle))\s*(?:ne |n')?(?:peux |peut |dois |doit |"
                       r"pourrais |devrais )?(?:lui|leur|le|la|les|l'|en|y)\b(?! (?:police|juge|parquet|procureur))"
                       # before an infinitive: « le droit d'y parler », « de lui en dire plus »
                       r"|\b(?:d'|de )(?:y|en|lui|leur)\s+(?:en\s+)?\w+(?:er|ir|re)\b")

# People and services a question names: who is told, who asks, who the asker is.
PARTIES = (
    "procureur du roi", "procureur", "parquet", "police", "policiers?", "agents? de (?:police|quartier)",
    "inspecteurs?", "juges? d'instruction", "juges? de la jeunesse", "juges?", "tribunal", "magistrats?",
    "sajs?", "spjs?", "service d'aide a la jeunesse", "service de protection de la jeunesse", "one",
    "directeur general", "directrice generale", "directeurs?", "directrices?", "ecoles?", "enseignante?s?",
    "instituteur", "institutrice", "professeure?s?", "centre pms", "pms", "psy", "medecins?", "infirmiere?s?",
    "psychologues?", "avocate?s?", "huissiers?", "conseill(?:er|ere)s?(?: de l'action sociale| cpas)?",
    "conseil de l'action sociale", "conseil", "presidente?s?(?: du cpas)?", "bourgmestre", "echevine?s?",
    "secretaire generale?", "mutuelle", "employeur", "proprietaire", "bailleur", "famille", "parents",
    "mere", "pere", "maman", "papa", "tuteur", "tutrice", "collegues?", "chef", "cheffe", "responsable",
    "superieure?", "hierarchie", "assistante?s? sociale?s?", "assistants? sociaux", "travailleu(?:r|se)s? sociale?s?",
    "travailleurs sociaux", "educat(?:eur|rice)s?", "stagiaires?", "benevoles?", "agents?", "onem", "forem",
    "office des etrangers", "commune", "administration", "fisc", "services? sociaux", "reseau",
    "partenaires?", "grands?[- ]parents?", "grand[- ]mere", "grand[- ]pere", "freres?", "soeurs?",
    "compagnon", "compagne", "mari", "epouse", "conjointe?", "ex",
)
ROLES = re.compile(r"^(?:conseill|president|assistant|travailleu|educat|psycholog|medecin|infirmi|stagiaire|"
                   r"benevole|directeur general|directrice generale|secretaire|agent|directeur|directrice)")
DET = r"(?:(?:le|la|les|un|une|des|son|sa|ses|mon|ma|mes|leur|leurs|ce|cette|ces|notre|nos|votre|vos) |l')"
PREP = r"(?:a |au |aux |avec |chez |pour |aupres d(?:u |es |e |')|vers |envers )"
COMPLEMENT = (r"(?: (?:du roi|de la jeunesse|d'instruction|de l'ecole|de l'action sociale|du cpas|de famille|"
              r"de la famille|generale?|sociale?|sociaux|scolaire|de police|de quartier|traitante?|de garde|"
              r"du travail|de l'enfant|de la victime|de l'usager|de l'usagere|de la personne|de service))*")
PARTY_RE = re.compile(rf"(?<![\w'-])({PREP})?({DET})?((?:{'|'.join(PARTIES)}){COMPLEMENT})(?![\w'-])")
TELL_RE = re.compile(r"(?:prevenir|informer|avertir|alerter|contacter|appeler|saisir|denoncer|"
                     r"previens|informe|avertis|alerte|contacte|appelle|saisis|denonce)\s+(?:en |l'en )?$")
ASKER_RE = re.compile(rf"\b(?:je suis|j'suis|en tant qu[e'])\s*({DET})?")
DIRECT_DET = {"au": "le", "aux": "les"}

# Words that say nothing about the situation (function words, modals, generic verbs).
STOP = set("""
a ai aie ait as au aux avec sous lors chez vers selon avez avons avoir c ca ce cela ces cet cette chose comme comment d dans de des du
elle elles en est et etre eu fait faire faut il ils j je l la le les leur leurs lui m ma mais me meme mes moi mon
n ne ni nos notre nous on ont ou par pas peu peut peux pour pourquoi pourrais pourrait puis puisse qu quand que
quel quelle quelles quels qui quoi s sa sans se ses si son sont suis sur t ta te tes toi ton tu un une vos votre
vous y dois doit devrais devrait droit oui non ok bon bien alors aussi encore cas dit dire parler risque risques
faire fais va vais quoi tout tous toute toutes plus moins tres trop vraiment ici la-bas apres avant donc
est-ce qu'est-ce c'est d'accord merci pareil idem obligatoire possible autorise permis interdit
""".split())
WORD_RE = re.compile(r"[\w'-]+")


@dataclass(frozen=True)
class Frame:
    """An earlier question as parts a follow-up can change."""

    situation: str  # the facts, as typed (may be empty)
    ask: str  # the legal point, without its question mark (« je peux prévenir le parquet »)
    condition: str = ""  # a hypothesis a follow-up added (« si elle est majeure »)
    self_ask: bool = False  # the asker asks about their own act (« je peux », « puis-je »)

    @property
    def core(self) -> str:
        if not self.condition:
            return self.ask
        glue = ", et " if " si " in f" {key(self.ask)} " and self.condition.startswith(("si ", "s'")) else " "
        return f"{self.ask}{glue}{self.condition}"

    def text(self) -> str:
        situation = tidy(self.situation)
        core = tidy(self.core)
        if situation:
            return finish(f"{capitalize(situation)} : {decapitalize(core)}")
        return finish(capitalize(core))


# -- public API (pipeline, evaluation runner) ---------------------------------------------------

def is_follow_up(question: str) -> bool:
    """Whether a message leans on the conversation (« Et si… ? », « Et pour un conseiller ? »,
    « je peux lui en parler ? ») rather than naming its own situation and question."""
    return kind_of(question)[0] not in ("standalone", "noise")


def previous_questions(history: list[dict] | None) -> list[str]:
    return [turn["content"] for turn in history or [] if turn.get("role") == "user" and turn.get("content")]


def earlier_question(history: list[dict] | None) -> str:
    """The conversation's last question before this one ("" when there is none)."""
    questions = previous_questions(history)
    return questions[-1] if questions else ""


def standalone_question(question: str, history: list[dict] | None) -> str:
    """The question as retrieval should see it: a follow-up becomes one question that carries the
    earlier situation and legal point with its own change; anything else is kept as typed."""
    frame = None
    for turn in previous_questions(history)[-6:]:
        frame = follow(frame, turn)
    if frame is None:
        return question
    rewritten = rewrite(frame, question)
    return rewritten.text() if rewritten is not None else question


# -- reading a question -------------------------------------------------------------------------

def parse(question: str) -> Frame:
    """« Une ado de 15 ans me dit que son beau-père la frappe, je peux prévenir le parquet ? » →
    situation « Une ado de 15 ans me dit que son beau-père la frappe », ask « je peux prévenir le
    parquet »."""
    text = " ".join(question.split())
    folded = key(text)
    start, self_ask = ask_start(folded)
    end_match = SENTENCE_END_RE.search(folded, start)
    end = end_match.start() if end_match else len(text)
    ask = text[start:end].strip(" ,;:-—")
    situation = " ".join(part.strip(" ,;:-—.") for part in (text[:start], text[end + 1:]) if part.strip(" ,;:-—.?"))
    situation = re.sub(r"\s+(?:et|mais)$", "", situation)
    if not ask:
        return Frame("", situation or text.strip(" ?"))
    return Frame(situation, ask, "", self_ask)


def ask_start(folded: str) -> tuple[int, bool]:
    """Where the legal point starts in a folded question, and whether the asker asks about their
    own act. The last question of the message wins."""
    candidates = [(m.start(), True) for m in SELF_RE.finditer(folded)]
    for match in OTHER_RE.finditer(folded):
        boundaries = [b.end() for b in CLAUSE_BOUNDARY_RE.finditer(folded, 0, match.start())]
        candidates.append((boundaries[-1] if boundaries else 0, False))
    candidates += [(m.start(1), False) for m in QUESTION_RE.finditer(folded)]
    if not candidates:
        # No modal, no question word (« … ils couchent ensemble. c'est considéré comme un abus
        # par la loi ? »): the last sentence asks; the ones before tell the situation.
        ends = [m.end() for m in re.finditer(r"[.!?]+\s+", folded.rstrip(" ?!.…"))]
        return (ends[-1] if ends else 0), False
    # A question word opening the clause of a modal (« est-ce que je peux ») belongs to it.
    start, self_ask = max(candidates)
    for other, other_self in candidates:
        if other_self and other == start:
            self_ask = True
    return start, self_ask


def action(frame: Frame) -> str:
    """What the asker asks to do: « je peux prévenir le parquet » → « prévenir le parquet »."""
    if not frame.self_ask:
        return ""
    folded = key(frame.ask)
    match = SELF_RE.match(folded)
    if not match:
        return ""
    lead = ACTION_LEAD_RE.match(folded[match.end():])
    return frame.ask[match.end() + (lead.end() if lead else 0):].strip()


def content_words(text: str) -> list[str]:
    """Words that say something about the situation: « police », « dossier », « 17 »."""
    return [w for w in re.findall(r"\w+", key(text)) if w not in STOP and len(w) > 1]


def strip_markers(message: str) -> tuple[str, bool, bool]:
    """The message without « et », « mais », « même chose », …; whether there were any, and
    whether they said « the same »."""
    text = " ".join(message.split()).strip()
    had, same = False, False
    while True:
        folded = key(text)
        match = MARKERS_RE.match(folded)
        if not match or not match.end():
            break
        same = same or bool(SAME_RE.match(folded))
        had, text = True, text[match.end():].lstrip(" ,.;:!-")
    return text.strip(), had, same


def kind_of(message: str) -> tuple[str, str, bool]:
    """(kind, the message without its leading markers, same) — kind is one of standalone, noise,
    fact, self-if, condition, party, ellipsis, new-ask, own-point, add-fact."""
    rest, marked, same = strip_markers(message)
    body = rest.rstrip(" ?!.…").strip()
    topic = NEW_TOPIC_RE.match(key(body))
    if topic and re.search(r"\w", key(body)[topic.end():]):
        return "standalone", body[topic.end():], False
    folded = key(body)
    if not re.search(r"\w", folded):
        return "noise", body, same
    words = WORD_RE.findall(folded)
    content = content_words(body)
    own_ask = bool(SELF_RE.search(folded) or OTHER_RE.search(folded) or QUESTION_RE.search(folded))
    anaphoric = bool(SUBJECT_PRONOUN_RE.match(folded) or (CLITIC_RE.search(folded) and (len(content) < 4 or marked))
                     # « …, et comment ça se déroule ? »: « ça » after a question word is the earlier matter
                     or re.search(r"\b(?:comment|quand|ou|pourquoi|qui) (?:ca|cela)\b", folded)
                     or re.search(r"\b(?:ce cas|cette situation|cette personne|la meme chose|celui-ci|celle-ci|"
                                  # « les autres (participants) », « ce que j'ai dit (là-bas) »
                                  r"les autres|ce que (?:j'ai|je leur ai|je lui ai|on a) (?:dit|raconte|partage))\b",
                                  folded))
    if same:  # « même chose pour… », « dans ce cas, … »: it points back at the earlier question
        pass
    elif ARTICLE_RE.search(folded) and not marked:
        return "standalone", body, same
    elif own_ask and len(content) >= 3 and not anaphoric and not IF_RE.match(folded):
        return "standalone", body, same
    elif own_ask and IF_RE.match(folded) and "," in body and len(content) >= 4 \
            and not SUBJECT_PRONOUN_RE.match(folded[IF_RE.match(folded).end():]) and not dangling(body):
        return "standalone", body, same  # « Et si un usager me confie un vol, dois-je le dénoncer ? »
    elif not own_ask and not marked and not anaphoric and party_of(body) is None and not IF_RE.match(folded) \
            and (len(content) >= 4 or len(content) >= 2 and not (AGE_RE.search(folded) or MAJORITY_RE.search(folded))):
        return "standalone", body, same  # « Deuxième question sur la concertation ? »
    if DISLOCATED_RE.match(folded):
        return "new-ask", body, same  # « et le compagnon, il risque quoi ? »: its own point, the earlier facts
    if IF_RE.match(folded):
        if own_ask and "," in body:
            return "new-ask", body, same
        return ("self-if" if SELF_IF_RE.match(folded) else "fact"), body, same
    if CONDITION_RE.match(folded):
        return "condition", body, same
    if party_of(body) is not None:
        return "party", body, same
    if own_ask:
        if not SELF_RE.search(folded) and not OTHER_RE.search(folded) and len(words) <= 4 and len(content) <= 1:
            return "ellipsis", body, same
        return "new-ask", body, same
    if AGE_RE.search(folded) or MAJORITY_RE.search(folded) or (anaphoric and not rest.endswith("?")):
        return "add-fact", body, same
    if len(words) <= 6:
        return "ellipsis", body, same
    if (marked or anaphoric) and not same and rest.rstrip(" !.…").endswith("?"):
        # A question of its own in spoken order, without modal or question word (« ok et cette
        # circulaire, le ministre compte la revoir ? », « et la Wallonie elle l'a fait ce
        # décret ? »): it asks its point about the earlier one; read as an added fact, it kept
        # the earlier legal point as the question and lost its own.
        return "own-point", body, same
    return ("add-fact" if marked or anaphoric or same else "standalone"), body, same


def dangling(body: str) -> bool:
    """A third person taken up by a pronoun the message never introduces (« si je fais rien et
    qu'il lui arrive qqch ce soir, je risque quoi ? »): someone of the earlier situation."""
    folded = key(body)
    return bool(THIRD_PERSON_RE.search(folded)) and not PERSON_RE.search(folded) and party_of(body) is None


def party_of(body: str):
    """« à la police », « pour le directeur de l'école », « le juge » → (preposition, determiner,
    noun) as typed; None unless the message is that person and little else."""
    folded = key(body)
    folded = re.sub(r"\s+(?:aussi|egalement|alors|dans ce cas|du coup|non|par exemple)$", "", folded)
    match = PARTY_RE.fullmatch(folded)
    if match is None:
        loose = re.fullmatch(rf"({PREP})({DET})?([\w'-]+(?: [\w'-]+)?)", folded)
        if loose is None or re.match(QUESTION_WORD, loose.group(3)) or loose.group(1).strip() == "a" \
                and not loose.group(2):
            return None
        match = loose
    return tuple(body[match.start(i):match.end(i)].strip() if match.group(i) else "" for i in (1, 2, 3))


# -- applying a follow-up -----------------------------------------------------------------------

def follow(frame: Frame | None, message: str) -> Frame | None:
    """The frame after one user turn: a follow-up changes it, a new question replaces it."""
    if frame is None:
        kind = kind_of(message)[0]
        return None if kind == "noise" else parse(message)
    kind = kind_of(message)[0]
    if kind == "noise" or kind in ("ellipsis", "self-if"):
        return frame  # « pourquoi ? », « et si je refuse ? »: asked once, the earlier point stays
    rewritten = rewrite(frame, message)
    return parse(message) if rewritten is None else rewritten


def rewrite(frame: Frame, message: str) -> Frame | None:
    """The frame a follow-up asks about; None when the message is not a follow-up."""
    kind, body, same = kind_of(message)
    if kind in ("standalone", "noise"):
        return None
    lowered = decapitalize(body)
    if kind == "fact":
        who = re.match(r"(?:meme )?si c'est ", key(body))
        clause = re.search(r"\s+(qui\b.*)$", key(body)[who.end():]) if who else None
        asking = clause is None or REQUEST_RE.match(clause.group(1))
        party = party_of(re.sub(r"\s+qui\b.*$", "", body[who.end():])) if who and asking else None
        if party is not None and not party[0]:  # « et si c'est le juge d'instruction (qui demande) ? »
            return with_party(frame, party, body, requester=True)
        changed = with_person(frame, body[who.end():]) if who and clause is None else None
        if changed is not None:
            return changed
        return with_fact(frame, elide(lowered))
    if kind == "add-fact":
        changed = with_age(frame, body)
        if changed is not None:
            return changed
        return replace(frame, situation=f"{frame.situation.rstrip(' .,')}, {lowered}" if frame.situation
                       else lowered)
    if kind == "condition":
        return replace(frame, condition=lowered)
    if kind == "self-if":
        todo = action(frame)
        if REFUSE_RE.match(key(lowered)) and todo:
            return Frame(frame.situation, f"que se passe-t-il si je refuse {de(todo)}", frame.condition)
        return replace(frame, ask=f"{frame.core}, et {elide(lowered)}", condition="")
    number = re.fullmatch(r"(?:(?:l'|le |la )?art(?:icle)?\.? ?|le |l')(\d+(?:er)?[a-z]*(?:/\d+)?)", key(body))
    old_number = re.search(r"\bart(?:icle)?s?\.? ?(\d+(?:er)?[a-z]*(?:/\d+)?)", key(frame.ask))
    if number and old_number:  # « et le 458bis ? » after « Que dit l'article 458 ? »
        return replace(frame, ask=frame.ask[:old_number.start(1)] + body[number.start(1):] +
                       frame.ask[old_number.end(1):])
    if kind == "party":
        return with_party(frame, party_of(body), body)
    if kind == "ellipsis":
        return replace(frame, ask=f"{frame.core}, {lowered}", condition="")
    if kind == "own-point":  # the earlier question whole, then the new point, which is asked
        situation, core = frame.situation.rstrip(" ?.,"), frame.core.rstrip(" ?.")
        # « Un agent de CPAS » + « peut-il participer … »: the inverted verb follows its subject.
        glue = " " if re.match(r"(?:peut|peuvent|doit|doivent|a|ont)-", key(core)) else ", "
        context = f"{situation}{glue}{decapitalize(core)}" if situation else core
        return Frame(capitalize(context), lowered, "", bool(SELF_RE.search(key(lowered))))
    # new-ask: the earlier situation (or, without one, what was asked) gives its pronouns a meaning
    context = frame.situation or capitalize(action(frame) or frame.core)
    return Frame(context, lowered, "", bool(SELF_RE.search(key(lowered))))


def with_fact(frame: Frame, fact: str) -> Frame:
    """A changed age goes into the situation; any other fact becomes the hypothesis."""
    changed = with_age(frame, fact)
    if changed is not None:
        return changed
    if MAJORITY_RE.search(key(fact)):  # « et s'il est majeur ? »: the earlier age no longer holds
        frame = replace(frame, situation=drop_age(frame.situation), ask=drop_age(frame.ask))
    return replace(frame, condition=fact)


def with_person(frame: Frame, person: str) -> Frame | None:
    """« et si c'est une personne âgée ? » after « un enfant est frappé chez lui » → « une personne
    âgée est frappé chez lui »: the person the situation (or the legal point) names is replaced,
    as an age is; the hypothesis would contradict it (« un enfant … si c'est une personne âgée »)."""
    new = person.strip(" ?!.")
    if not PERSON_RE.fullmatch(key(new)):
        return None
    for part in ("situation", "ask"):
        text = getattr(frame, part)
        old = PERSON_RE.search(key(text))
        if old:
            return replace(frame, **{part: text[:old.start()] + new + text[old.end():]})
    return None


def with_age(frame: Frame, fact: str) -> Frame | None:
    """« elle a 17 ans » with a situation « Une ado de 15 ans … » → « Une ado de 17 ans … »."""
    new = AGE_RE.search(key(fact))
    if new is None:
        return None
    for part in ("situation", "ask", "condition"):
        text = getattr(frame, part)
        old = AGE_RE.search(key(text))
        if old:
            changed = text[:old.start(1)] + new.group(1) + text[old.end(1):]
            return replace(frame, **{part: changed})
    return None


def drop_age(text: str) -> str:
    return re.sub(r"\s+(?:de |d'|âgée? de )?\d{1,2} ?ans\b", "", text)


def with_party(frame: Frame, party, body: str, requester: bool = False) -> Frame:
    """Another person in the place of the one the earlier question named: the one told (« et à
    la police ? »), the one who asks or acts (« et le juge ? » after « La police peut-elle… »,
    « et si c'est le juge ? » after « La police me demande… »), or the asker's role (« et pour
    un conseiller ? » after « Je suis assistante sociale »)."""
    prep, det, noun = party
    phrase = " ".join(p for p in (DIRECT_DET.get(key(prep), det), noun) if p).replace("' ", "'")
    role_noun = bool(ROLES.match(key(noun)))
    asker = ASKER_RE.search(key(frame.situation))
    targets = parties_in(frame.ask)
    addressees = [t for t in targets if t[2] == "addressee"]
    subjects = [t for t in targets if t[2] == "subject"]
    told = key(prep).strip() in ("a", "au", "aux", "avec", "chez", "vers", "envers") or key(prep).startswith("aupres")
    if asker and role_noun and not told and PARTY_RE.match(key(frame.situation), asker.end()):
        return replace(frame, situation=with_asker(frame.situation, asker, noun, det))
    if addressees and not requester and (told or not subjects or not role_noun and not same_kind(subjects[0], noun)):
        return replace(frame, ask=put(frame.ask, addressees[-1], phrase))
    situation_subject = PARTY_RE.match(key(frame.situation))
    if requester and not subjects and situation_subject and not situation_subject.group(1):
        target = (0, situation_subject.end(), "subject", situation_subject.group(3), "")
        return replace(frame, situation=put(frame.situation, target, phrase))
    if subjects and not told:
        return replace(frame, ask=agree(put(frame.ask, subjects[0], phrase), det))
    if addressees:
        return replace(frame, ask=put(frame.ask, addressees[-1], phrase))
    acting = as_actor(frame.ask, phrase, det) if role_noun and not told else None
    if acting:  # « et pour un conseiller ? » after « Puis-je partager… ? »: « Un conseiller peut-il partager… »
        return replace(frame, ask=acting, self_ask=False)
    return replace(frame, ask=f"{frame.core}, et {decapitalize(body)}", condition="")


ACTOR_MODALS = (("peut", r"(?:est[- ]ce (?:que |qu'))?(?:je |j'|on )(?:peux|peut)|(?:puis|peux)-je|peut-on"),
                ("doit", r"(?:est[- ]ce (?:que |qu'))?(?:je |j'|on )(?:dois|doit)|dois-je|doit-on"),
                ("a-t-il le droit", r"(?:j'|on )a(?:i)? le droit|ai-je le droit"))


def as_actor(ask: str, phrase: str, det: str) -> str | None:
    """« Puis-je partager des informations… » with « un conseiller » → « Un conseiller peut-il
    partager des informations… »; None when the asker's modal is not one of these."""
    folded = key(ask)
    for verb, pattern in ACTOR_MODALS:
        match = re.match(pattern, folded)
        if match:
            inverted = verb if "-" in verb else f"{verb}-il"
            return agree(f"{capitalize(phrase)} {inverted}{ask[match.end():]}", det or "le")
    return None


def same_kind(target, noun: str) -> bool:
    return bool(ROLES.match(key(target[3]))) == bool(ROLES.match(key(noun)))


def parties_in(ask: str) -> list[tuple[int, int, str, str, str]]:
    """(start, end, role, noun, preposition) of each person the legal point names."""
    folded = key(ask)
    found = []
    opener = SELF_RE.match(folded) or OTHER_RE.search(folded) or QUESTION_RE.match(folded)
    for match in PARTY_RE.finditer(folded):
        prep = (match.group(1) or "").strip()
        if prep in ("pour", "de", "du", "des"):
            continue
        if prep or TELL_RE.search(folded[:match.start()]):
            role = "addressee"
        elif match.start() == 0 or (opener and match.end() <= opener.start()):
            role = "subject"
        else:
            continue
        found.append((match.start(), match.end(), role, match.group(3), prep))
    return found


def put(ask: str, target, phrase: str) -> str:
    """Replace a person, keeping the preposition the verb wants (« au procureur » → « à la
    police », « prévenir le parquet » → « prévenir la police »)."""
    start, end, _role, _noun, prep = target
    if prep in ("a", "au", "aux"):
        phrase = contract("à", phrase)
    elif prep:
        word = ask[start:start + len(prep)]
        phrase = contract(word[:-1] if word.endswith("'") else word, phrase) if prep.startswith("aupres") \
            else f"{word} {phrase}"
    if start == 0:
        phrase = capitalize(phrase)
    return ask[:start] + phrase + ask[end:]


def contract(prep: str, phrase: str) -> str:
    folded = key(phrase)
    if key(prep) in ("a", "aupres de", "aupres d", "aupres du", "aupres des"):
        head = "à" if key(prep) == "a" else "auprès"
        if folded.startswith("le "):
            return ("au " if head == "à" else "auprès du ") + phrase[3:]
        if folded.startswith("les "):
            return ("aux " if head == "à" else "auprès des ") + phrase[4:]
        if head == "auprès":
            return ("auprès d'" if re.match(r"[aeiouyh]", folded) else "auprès de ") + phrase
        return f"à {phrase}"
    return f"{prep} {phrase}"


def agree(ask: str, det: str) -> str:
    """« Le juge peut-elle » → « Le juge peut-il » after the subject changed."""
    det = key(det).strip()
    pronoun = {"le": "il", "un": "il", "mon": "il", "ce": "il", "la": "elle", "une": "elle", "ma": "elle",
               "cette": "elle"}.get(det)
    if pronoun is None:
        return ask
    return re.sub(r"-(?:t-)?(?:il|elle)\b", lambda m: m.group(0).rsplit("-", 1)[0] + "-" + pronoun, ask, count=1)


def with_asker(situation: str, asker: re.Match, noun: str, det: str) -> str:
    """« Je suis assistante sociale » → « Je suis conseiller »."""
    rest = key(situation)[asker.end():]
    match = PARTY_RE.match(rest)
    if match is None or match.start() != 0:
        return situation
    start = asker.start(1) if asker.group(1) else asker.end()
    possessive = det and key(det).strip() not in ("un", "une", "le", "la", "l'", "les", "des")
    return situation[:start] + (f"{det} {noun}".replace("' ", "'") if possessive else noun) + \
        situation[asker.end() + match.end():]


# -- French text --------------------------------------------------------------------------------

def de(action_text: str) -> str:
    return ("d'" if re.match(r"[aeiouyhâàéèêëîïôûù]", key(action_text)) else "de ") + action_text


def elide(text: str) -> str:
    """« si il » → « s'il »."""
    return re.sub(r"\b([Ss])i (ils?)\b", r"\1'\2", text)


def capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def decapitalize(text: str) -> str:
    """Lower the first letter unless the first word is an acronym (« CPAS », « SAJ »)."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[:2].isupper():
        return text
    return text[:1].lower() + text[1:]


def tidy(text: str) -> str:
    text = " ".join(text.split()).strip(" ,;:")
    return shorten(text, MAX_SITUATION)


def finish(text: str) -> str:
    text = re.sub(r"\s+([,;])", r"\1", text)
    text = re.sub(r"[\s?!.…]+$", "", text)
    return f"{text} ?"


class FollowUpRewriter:
    """`rewrite(question, history)`: the model rewrites follow-ups; any doubt → the heuristic."""

    def __init__(self, llm):
        self.llm = llm

    def rewrite(self, question: str, history: list[dict] | None) -> str:
        fallback = standalone_question(question, history)
        if fallback == question:
            return question  # not a follow-up: nothing to rewrite
        try:
            written = self._ask(question, history)
        except Exception:  # the heuristic is always there: a model failure costs nothing
            return fallback
        return written if plausible(written, question) else fallback

    def _ask(self, question: str, history: list[dict]) -> str:
        from llama_index.core.llms import ChatMessage

        turns = "\n".join(f"{'Utilisateur' if t['role'] == 'user' else 'Assistant'} : {shorten(t['content'], 300)}"
                          for t in history[-4:] if t.get("content"))
        content = f"Conversation :\n{turns}\n\nDernière question : {question}\n\nQuestion réécrite :"
        messages = [ChatMessage(role="system", content=REWRITE_PROMPT), ChatMessage(role="user", content=content)]
        return str(self.llm.chat(messages).message.content or "").strip().strip('"«» ')


def plausible(written: str, question: str) -> bool:
    """One question, not an answer, not a citation, not much longer than the conversation needs."""
    return (10 <= len(written) <= max(300, 3 * len(question)) and "[" not in written and "\n" not in written
            and written.endswith("?") and not re.match(r"(?i)(oui|non)\b", written))
