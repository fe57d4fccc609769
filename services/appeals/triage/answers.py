"""Quality of a community's answer to a citizen: rule flags from lexicons, a score from a small linear model.

Flags (each a lexicon or pattern rule, so an operator can see why an answer scored low):

- ``too_short``: fewer than ``SHORT_WORDS`` words;
- ``no_greeting``: no greeting or address (``Здравствуйте``, ``Добрый день``, ``Уважаемая ...``) in its first words;
- ``no_deadline``: no date, term or time frame (``до 15 декабря``, ``в течение недели``, ``в мае``);
- ``no_measures``: no concrete action taken or planned (``направлена бригада``, ``отремонтируют``, ``вывезен``);
- ``template_only``: a stock formula (``ваше обращение передано``, ``будет рассмотрено``) with neither measures nor
  a deadline.

These rules, and signals of concrete content (dates, times, numbers, addresses, named organisations), are features
of a small model trained on ``data/triage/answers.jsonl``: one head scores the answer (0-100: the probability that it
is a real answer rather than an «отписка»), and one head per flag decides the flag as the labellers did (a rule
stays the flag where the data has no head for it).
"""

from __future__ import annotations

import re

from services.appeals.triage.lexicons import Lexicons
from services.appeals.triage.text import Prepared

SHORT_WORDS = 12
GREETING_WINDOW = 6
FLAGS = ("too_short", "no_greeting", "no_deadline", "no_measures", "template_only")
MONTHS = r"январ\w*|феврал\w*|март\w*|апрел\w*|ма[йяе]|июн\w*|июл\w*|август\w*|сентябр\w*|октябр\w*|ноябр\w*|декабр\w*"
DATE = re.compile(
    r"\b\d{1,2}\.\d{1,2}(?:\.\d{2,4})?\b|\b\d{1,2}\s+(?:" + MONTHS + r")\b|\b(?:в|до|к|с|по)\s+(?:" + MONTHS + r")\b"
    r"|\b20\d\d\s*(?:г|год)|\b\d{1,2}:\d{2}\b|\b(?:до|к|в течение)\s+\d+\b"
    r"|\b\d+\s+(?:рабочих|календарных)?\s*(?:дн|недел|месяц)\w*"
    r"|\b(?:i|ii|iii|iv|1|2|3|4)(?:-?м|-?го)?\s+квартал\w*"
)


ADDRESS = re.compile(r"\b(?:ул|д|пр|пер|мкр|кв|каб|корп|стр)\.\s*\w|\bулиц\w*\s+\w|№\s*\d|\bдом\w*\s+\d")
TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b")
NUMBER = re.compile(r"\d")
NAMED = re.compile(r"«[^»]+»|\"[^\"]+\"")


def signals(prepared: Prepared) -> list[str]:
    """Signals of concrete content in an answer: ``date``, ``time``, ``number``, ``address``, ``named``."""
    text = prepared.lowered
    found = [name for name, pattern in (("date", DATE), ("time", TIME), ("address", ADDRESS)) if pattern.search(text)]
    numbers = len(NUMBER.findall(text))
    if numbers:
        found.append("number" if numbers < 4 else "numbers")
    if NAMED.search(prepared.raw):
        found.append("named")
    return found


def rule_flags(prepared: Prepared, lexicons: Lexicons) -> list[str]:
    """The quality flags of an answer, from lexicon hits (``answer_*`` lexicons) and date patterns."""
    hits = dict(zip(lexicons.names, lexicons.hits(prepared.lemmas), strict=True))
    opening = lexicons.hits(prepared.lemmas[:GREETING_WINDOW])
    greeting = dict(zip(lexicons.names, opening, strict=True)).get("answer_greeting", 0)
    deadline = bool(hits.get("answer_deadline", 0) or DATE.search(prepared.lowered))
    measures = bool(hits.get("answer_measures", 0))
    found: list[str] = []
    if len(prepared.words) < SHORT_WORDS:
        found.append("too_short")
    if not greeting:
        found.append("no_greeting")
    if not deadline:
        found.append("no_deadline")
    if not measures:
        found.append("no_measures")
    if hits.get("answer_template", 0) and not measures and not deadline:
        found.append("template_only")
    return found


def feature_flags(prepared: Prepared, rules: list[str]) -> tuple[str, ...]:
    """The extra ``x`` features of an answer: its rule flags and content signals."""
    return (*(f"flag:{flag}" for flag in rules), *(f"sig:{signal}" for signal in signals(prepared)))
