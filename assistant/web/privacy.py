"""Personal data in what users type: detect it, warn (French), and keep it out of logs and storage.

The audience is bound by professional secrecy: a question may carry a beneficiary's national
register number, phone, e-mail, IBAN, or name and address. Detection is deliberately simple
(patterns + checksums where they exist) and errs on the side of warning.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass

# Belgian national register number: YYMMDD (birth date) + 3-digit serial + 2-digit check (mod 97).
NATIONAL_NUMBER_RE = re.compile(r"(?<![\d.-])(\d{2})[ .]?(\d{2})[ .]?(\d{2})[ .-]?(\d{3})[ .-]?(\d{2})(?![\d])")
FORMATTED_NATIONAL_NUMBER_RE = re.compile(r"^\d{2}\.\d{2}\.\d{2}-\d{3}\.\d{2}$")
PHONE_RE = re.compile(r"(?<![\w+])(?:(?:\+|00)\s?32\s?\(?0?\)?\s?[1-9]|0[1-9])(?:[\s./-]?\d){7,8}(?!\d)")
EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}\b")
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?\b")
STREET_WORDS = (r"rue|avenue|av\.|boulevard|bd|chauss[ée]e|place|square|clos|all[ée]e|impasse|quai|chemin|"
                r"dr[èe]ve|route|sentier|cit[ée]|r[ée]sidence|venelle|ruelle|faubourg|voie|parvis|esplanade")
STREET_RE = re.compile(rf"\b(?:{STREET_WORDS})\s+(?:[\w'’-]+\s+){{0,5}}?\d{{1,4}}(?:\s?[a-zA-Z])?\b"
                       r"(?:\s*(?:bte|boîte|bt)\.?\s*\d+)?", re.IGNORECASE)
# « …, 4000 Liège », « à 5000 Namur », « B-7000 Mons »: a bare « 2019 Numéros » is a year.
POSTCODE_CITY_RE = re.compile(r"(?:(?<=, )|(?<=,)|(?<=à )|(?<=B-))[1-9]\d{3}\s+"
                              r"[A-ZÀ-Ý][a-zà-ÿ'-]+(?:[ -][A-ZÀ-Ý][a-zà-ÿ'-]+)*")
UPPER = "A-ZÀ-Ý"
LOWER = "a-zà-ÿ"
NAME_WORD = rf"[{UPPER}][{LOWER}'’-]+"
# « Madame Dupont », « M. Jean Dupont », « Jean DUPONT », « Dupont Jean » after a word that
# introduces a person (« l'usager Jean Dupont »).
TITLE_WORDS = r"Monsieur|Madame|Mademoiselle|Mme|Mlle|M\.|Mr|Dr|Docteur|Ma[îi]tre"
TITLED_NAME_RE = re.compile(rf"\b(?:{TITLE_WORDS})\s+(?:{NAME_WORD}\s+)?"
                            rf"(?:{NAME_WORD}|[{UPPER}]{{2,}})\b")
UPPERCASE_NAME_RE = re.compile(rf"\b{NAME_WORD}\s+[{UPPER}]{{2,}}(?:[ -][{UPPER}]{{2,}})?\b")
INTRODUCED_NAME_RE = re.compile(rf"\b(?:usager|usagère|bénéficiaire|client|cliente|patient|patiente|nommée?|appelée?|"
                                rf"famille|enfant|fils|fille|mère|père|voisin|voisine|locataire|demandeur|demandeuse)\s+"
                                rf"(?:{NAME_WORD})(?:\s+{NAME_WORD})?\b")
# Upper-case words that are institutions, not people (« Jean CPAS » is not a name).
NOT_SURNAMES = {"CPAS", "SAJ", "SPJ", "ONE", "SPF", "SPW", "AVIQ", "ONEM", "INAMI", "CSIL", "RGPD", "ASBL", "CAW",
                "PMS"}


@dataclass(frozen=True)
class Finding:
    kind: str  # national_number | phone | email | iban | name_address
    start: int
    end: int

    @property
    def label(self) -> str:
        return LABELS[self.kind]


LABELS = {
    "national_number": "un numéro de registre national",
    "phone": "un numéro de téléphone",
    "email": "une adresse e-mail",
    "iban": "un numéro de compte (IBAN)",
    "name_address": "un nom avec une adresse",
}
MASKS = {
    "national_number": "[numéro national masqué]",
    "phone": "[téléphone masqué]",
    "email": "[e-mail masqué]",
    "iban": "[IBAN masqué]",
    "name": "[nom masqué]",
    "address": "[adresse masquée]",
}


def find_personal_data(text: str) -> list[Finding]:
    """Every personal datum found, in text order; overlapping matches keep the first kind found."""
    spans: list[tuple[str, int, int]] = []
    spans += [("national_number", *m.span()) for m in NATIONAL_NUMBER_RE.finditer(text) if is_national_number(m)]
    spans += [("iban", *m.span()) for m in IBAN_RE.finditer(text) if is_iban(m.group())]
    spans += [("email", *m.span()) for m in EMAIL_RE.finditer(text)]
    spans += [("phone", *m.span()) for m in PHONE_RE.finditer(text)]
    spans += name_address_spans(text)
    return [Finding(kind, start, end) for kind, start, end in without_overlaps(spans)]


def is_national_number(match: re.Match) -> bool:
    """The check digits (97 − number mod 97; born from 2000: with a leading 2), or the official layout."""
    digits = "".join(match.groups())
    body, check = int(digits[:9]), int(digits[9:])
    if check in (97 - body % 97, 97 - (2_000_000_000 + body) % 97):
        return True
    return bool(FORMATTED_NATIONAL_NUMBER_RE.match(match.group()))


def is_iban(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    if compact.startswith("BE") and len(compact) == 16 and compact[2:].isdigit():
        return True  # a Belgian account number, even mistyped, is still someone's account
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(c, 36)) for c in rearranged)
    return 15 <= len(compact) <= 34 and int(digits) % 97 == 1


def name_address_spans(text: str) -> list[tuple[str, int, int]]:
    """A person's name counts only beside an address: names alone are everywhere in the law."""
    addresses = [m.span() for m in STREET_RE.finditer(text)] + [m.span() for m in POSTCODE_CITY_RE.finditer(text)]
    if not addresses:
        return []
    names = [m.span() for regex in (TITLED_NAME_RE, UPPERCASE_NAME_RE, INTRODUCED_NAME_RE)
             for m in regex.finditer(text) if not set(m.group().split()) & NOT_SURNAMES]
    if not names:
        return []
    return [("name", *span) for span in names] + [("address", *span) for span in addresses]


def without_overlaps(spans: list[tuple[str, int, int]]) -> list[tuple[str, int, int]]:
    kept: list[tuple[str, int, int]] = []
    for kind, start, end in spans:  # earlier entries win: checked numbers before loose patterns
        if all(end <= s or start >= e for _, s, e in kept):
            kept.append((kind, start, end))
    return sorted(kept, key=lambda span: span[1])


def public_kind(kind: str) -> str:
    return "name_address" if kind in ("name", "address") else kind


def kinds(findings: list[Finding]) -> list[str]:
    """The kinds found, once each, in a stable order."""
    found = {public_kind(f.kind) for f in findings}
    return [kind for kind in LABELS if kind in found]


def redact(text: str) -> str:
    """The text with every personal datum replaced by a French mask."""
    out, last = [], 0
    for finding in find_personal_data(text):
        out += [text[last:finding.start], MASKS[finding.kind]]
        last = finding.end
    return "".join(out) + text[last:]


def warning(findings: list[Finding]) -> str:
    """What the user reads when their message carries personal data (French)."""
    found = [LABELS[kind] for kind in kinds(findings)]
    listed = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " et " + found[-1]
    return (f"⚠ Votre message semble contenir {listed}. Vous êtes tenu·e au secret professionnel : "
            "posez la question sans données qui permettent d'identifier la personne (l'assistant n'en a "
            "pas besoin). Ces données ne sont écrites ni dans les journaux ni dans l'historique : "
            "elles y sont masquées.")


class RedactingFilter(logging.Filter):
    """Masks personal data in every log record that passes through a handler, tracebacks
    included (an exception's message may quote what the user typed)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler
            return True
        if record.exc_info:
            message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            record.exc_info, record.exc_text = None, None
        record.msg, record.args = redact(message), None
        return True


def install_log_redaction(*names: str) -> None:
    """Add the filter to every handler of the root logger and of the named loggers, once."""
    for each in [logging.getLogger()] + [logging.getLogger(name) for name in names]:
        for handler in each.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
