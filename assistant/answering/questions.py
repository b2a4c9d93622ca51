"""What kind of answer a question asks for: may I, must I, what do I risk, who decides, what is,
what does the minister or the circular say (in French or in English). The lead
(assistant/answering/brief.py) states the rule of the kind asked for first. Read from the
question's own words (accents and case folded)."""

from __future__ import annotations

import re

from assistant.text import fold

# Checked in this order: « qu'est-ce que je risque si je dois… » asks about the risk. « Il faut
# quoi comme base légale ? » or « que faut-il ? » ask what is needed, not whether one must.
KINDS = (
    ("authority", r"\b(?:circulaire|ministre|question (?:ecrite|parlementaire)|gouvernement wallon|"
                  r"selon (?:la|le) (?:tutelle|region))\b"),
    ("risk", r"\b(?:risqu\w*|sanction\w*|puni\w*|peine\w*|amende\w*|prison|poursuivi\w*|poursuites?|"
             r"condamn\w*|responsabilite penale|faute|encour\w*|"
             r"risk\w*|penalt\w*|punish\w*|liable|prosecut(?:ed|ion))\b"),
    ("must", r"\b(?:dois|doit|doivent|devons|devez|devrais|devrait|oblige\w*|obligation\w*|obligatoire\w*|"
             r"(?<!que )faut[- ]il|(?<!qu'est-ce qu')il faut(?! quoi)|suis[- ]je tenue?|tenue? de|imposee?s?|"
             r"must i|do i have to|have i got to|am i (?:obliged|required|bound))\b"),
    ("who", r"\b(?:qui (?:decide|peut|doit|est competent|participe|siege|preside|convoque)|a qui|aupres de qui|"
            r"quelle autorite|quel service)\b"),
    ("what", r"\b(?:qu'est[- ]ce qu[e']|c(?:'est| est)? (?:quoi|koi)|que (?:signifie|veut dire|designe)|defini\w*|"
             r"que faut-il entendre|qu'entend-on|ca (?:vise|veut dire|signifie)|au sens (?:du|de la|de l')|"
             r"what (?:is|are|does \w+(?: \w+)? mean))\b"),
    ("may", r"\b(?:puis[- ]je|je peux|peut[- ]on|on peut|pouvons|pouvez|peux[- ]tu|je pourrais|"
            r"a[i]?[- ](?:je|t[- ]on) le droit|droit de|autorise\w*|permis|permet\w*|possible|peut[- ]il|"
            r"peut[- ]elle|est[- ]ce que je peux|"
            r"can i|may i|could i|am i allowed|am i permitted|is it (?:allowed|legal))\b"),
)
COMPILED = tuple((kind, re.compile(pattern)) for kind, pattern in KINDS)
# A risk the person runs, not a penalty: « deux petites sœurs qui risquent la même chose », « il
# risque de la tuer », « les ados à risque », « violences à haut risque ». Read as a danger, so the
# lead is not switched to a penalty article (situations-8, a tuning set since session 14).
DANGER_RE = re.compile(r"\brisqu\w*\s+(?:(?:vraiment|aussi|encore|bien|fort|peut-etre)\s+)?(?:de|d'|la meme)\b"
                       r"|\b(?:a|haut|en|un|des|du|gros|grand) risques?\b")
# A risk ruled out is a permission asked: « on peut y parler … sans se mettre en faute ? », « je
# peux prévenir sans risquer d'être poursuivie ? » ask whether it is allowed, not what it costs.
SAFE_RE = re.compile(r"\bsans (?:me |se |nous |vous |te |m'|s')?(?:mettre en faute|etre en faute|risqu\w*(?: (?:d'etre|de) \w+)?|"
                     r"(?:etre |d'etre )?(?:puni\w*|poursuivi\w*|sanctionn\w*|condamn\w*))")

# The rule stated first for each kind of question; « general »: the article's main rule.
PREFERRED = {
    "may": ("permission", "prohibition", "penalty", "obligation"),
    "must": ("obligation", "permission", "prohibition", "penalty"),
    "risk": ("penalty", "prohibition", "obligation", "permission"),
    "who": ("permission", "obligation", "procedure", "prohibition"),
    "what": ("definition", "procedure"),
    "authority": (),
    "general": (),
}


def question_kind(question: str) -> str:
    """One of may, must, risk, who, what, authority, general."""
    folded = DANGER_RE.sub("danger", SAFE_RE.sub("sans souci", fold(question)))
    for kind, pattern in COMPILED:
        if pattern.search(folded):
            return kind
    return "general"
