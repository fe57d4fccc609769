"""Russian obscenity (мат) in citizens' messages, including masked and obfuscated spellings.

No library is good enough (see the spec's library notes): hand-written roots plus an allowlist. Each word is
checked in several spellings:

- visual look-alikes mapped to Cyrillic (``xyй``, ``пиzдец``, ``3``/``0``/``6``), repeated letters collapsed
  (``хууууй``), and all-Latin words transliterated (``blyat``, ``nahuy``);
- masks: ``*``, ``@``, ``#``, ``$``, ``%``, ``!``, ``?``, ``_``, ``&``, ``+`` in a word stand for one to a few letters
  (``п**дец``, ``бл@ть``, ``бл*``) and are matched against a list of obscene word forms; the visible letters alone
  are checked against the roots too (``пид*расы``, ``заеб*лся``), and ``ё*`` on its own counts;
- letters spelt one by one with spaces, dots or dashes between them (``х у й``, ``б.л.я.т.ь``) are joined.

Roots of ``еб``/``ёб`` are only recognised at the start of a word or after a verbal prefix, so that ``хлебать``,
``колебание``, ``требовать``, ``Гребля`` and ``употреблять`` stay clean; the allowlist removes clean words that
contain a root (``застрахуйте``, ``скипидар``, ``оскорблять``, ``корабля``, ``мандарины``, ``рублей``).
Following the labelling rules of the training data, the euphemisms ``хрен``/``хер``, ``пох``, ``нах`` and ``ёпт`` count.
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.appeals.triage.text import LETTERS

LOOKALIKES = str.maketrans(
    {
        "a": "а",
        "b": "в",
        "c": "с",
        "e": "е",
        "h": "н",
        "k": "к",
        "m": "м",
        "n": "п",
        "o": "о",
        "p": "р",
        "r": "г",
        "t": "т",
        "u": "и",
        "x": "х",
        "y": "у",
        "z": "з",
        "3": "з",
        "0": "о",
        "6": "б",
        "4": "ч",
        "9": "я",
        "@": "а",
        "ё": "е",
    }
)
LOOKALIKES_ALT = str.maketrans({"b": "б", "u": "у", "n": "н", "r": "р", "h": "х", "y": "у"})
"""Second reading of the ambiguous Latin letters (``bля``, ``huй``), applied before ``LOOKALIKES``."""
TRANSLIT = (
    ("shch", "щ"),
    ("sch", "щ"),
    ("yo", "е"),
    ("jo", "е"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("ts", "ц"),
    ("ya", "я"),
    ("ja", "я"),
    ("yu", "ю"),
    ("ju", "ю"),
    ("a", "а"),
    ("b", "б"),
    ("c", "ц"),
    ("d", "д"),
    ("e", "е"),
    ("f", "ф"),
    ("g", "г"),
    ("h", "х"),
    ("i", "и"),
    ("j", "й"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("q", "к"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("v", "в"),
    ("w", "в"),
    ("x", "х"),
    ("y", "й"),
    ("z", "з"),
    ("'", "ь"),
)
MASKS = "*@#$%!?_&+"
TRAILING = "!?.,:;)("
PREFIX = r"(?:[вз]ы|за|на|недо|по|подо?|пере|про|при|до|у|о|обо?|ото?|раз|рас|с|из|вз|ни)[ъь]?"
ROOTS = re.compile(
    "|".join(
        (
            r"ху[йеяи]|^(?:на|по|ни)?хую$",  # хуй, хуево, нахуя, похуист (not тихую, плохую, сухую)
            r"пи[зс]д|пе[зс]д[ея]?ц",  # пизда, пиздец, распиздяй
            r"бляд|блят|бляц|^бля$",
            r"долб[оа]?[её]б",
            r"хрен|^пох$|^нах$|^[её]пт[аь]?$|^[её]птыть$",
            r"(?:^|^" + PREFIX + r")[её]б(?:а|у|л|н|о|и|ы|е|к|ся|ись|ть|т$|$)",  # ебать, заебали, уебок, ебло
            r"муда[кч]|мудил|мудозвон",
            r"^манд(?:а|ы|е|у|ой|ою|ец|авошк\w*|юк)?$",
            r"залуп",
            r"пид[оа]р|пидр|^педик(?:и|а|ов|ам|ами|у)?$",
            r"г[ао]ндон",
            r"дроч",
            r"шлюх",
            r"^сук(?:а|и|у|ой|е|ам|ами|ах)$|^сучар|^сучк[аиеу]$",
            r"^(?:на|по|ни)?хер(?:а|ов\w*|ня|ни|ню|ней|ом)?$|^нахрен",
        )
    )
)
ALLOWLIST = re.compile(
    "|".join(
        (
            r"страху[йяеюи]",  # застрахуйте, подстрахуй
            r"скипидар",
            r"оскорбл|употребл|истребл|потребл|усугубл|угробл|грабл|корабл|рубл|дробл|гребл|колебл",
            r"^себ[еяу]",  # себе, себя (с + еб + е)
            r"^ребят|^ребен",
        )
    )
)
LATIN_ALLOWLIST = frozenset({"ebay", "ebook", "ebooks", "hue", "huey", "sebe"})
"""English words whose transliteration contains a root."""
FORMS = " ".join(
    (
        "хуй хуя хую хуем хуе хуи хуев хуевый хуево хуета хуйня хуйню хуйней хуило нахуй нахуя похуй похер",
        "охуел охуели охуеть охуенно ахуеть нихуя пизда пизды пизде пизду пиздец пиздеж пиздеть пиздят пиздит",
        "пиздабол распиздяй спиздили спиздил пиздатый блядь бляди блядство блядский блять бля выблядок ебать",
        "ебал ебали ебало ебаный ебанный ебанутый ебануться ебнуть ебнулся ебучий ебут ебет ебаться еблан",
        "ебло заебали заебал заебись заебало наебали наебал наебка уебок уебан уебище уебать выебываться",
        "доебались проебали разъебали съебались объебали мудак мудаки мудила мудозвон пидор пидорас пидоры",
        "пидарас гандон гондон дрочить залупа шлюха сука суки сучка сучара херня нахер похер хули хуле хера",
        "херово херовы херов охуела охуели ебучая ебучий ебеня ебеням ебенях еблан ебланы ебанаты долбоеб",
        "долбоебы долбаеб мудачье пиздабол пиздаболы охренели хрена хреново нихрена",
        "ебанулись ебанулся ебанулась ебанутые ебанутый заебался заебалась заебались наебнулся уебались",
        "пидорасы пидарасы пидоры пидорасов херней херню хернею херовый херовая хреново хреновый",
        "блядский блядская блядство пиздатый пиздато пиздюк пиздюли хуевый хуевая хуево хуйло",
    )
).split()
"""Obscene word forms that a masked word (``п**дец``) is matched against."""
SPELT = re.compile(f"(?<![{LETTERS}])(?:[{LETTERS}][\\s.,_*\\-]{{1,3}}){{2,}}[{LETTERS}](?![{LETTERS}])")
REPEATS = re.compile(f"([{LETTERS}])\\1+")
MASK_RUNS = re.compile("[" + re.escape(MASKS) + "]+|[^" + re.escape(MASKS) + "]+")
WORDLIKE = re.compile(r"[\w*@#$%!?&+'-]+")
SHORT_MASKED = re.compile(r"[её][*@#$%]+")
CYRILLIC_WORD = re.compile(r"[а-яё]+(?:-[а-яё]+)*")
HAS_LATIN = re.compile(r"[a-z]")
HAS_CYRILLIC = re.compile(r"[а-яё]")
LETTER = re.compile(f"[{LETTERS}]")


def _transliterate(word: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(word):
        for latin, cyrillic in TRANSLIT:
            if word.startswith(latin, index):
                out.append(cyrillic)
                index += len(latin)
                break
        else:
            out.append(word[index])
            index += 1
    return "".join(out)


def spellings(word: str) -> set[str]:
    """The Cyrillic spellings ``word`` (lower case) may stand for: look-alikes mapped, repeats collapsed."""
    word = word.strip("-'").rstrip(TRAILING)
    if CYRILLIC_WORD.fullmatch(word):  # the common case: nothing to map
        word = word.replace("ё", "е")
        found = {word, REPEATS.sub(r"\1", word)}
        if "йо" in word:  # йобаный
            found.add(word.replace("йо", "е"))
        return found
    variants = {
        word.replace("ё", "е"),
        word.translate(LOOKALIKES),
        word.translate(LOOKALIKES_ALT).translate(LOOKALIKES),
    }
    if HAS_LATIN.search(word):
        if HAS_CYRILLIC.search(word):  # mixed: look-alikes first, then what Latin is left is transliterated
            variants |= {_transliterate(variant) for variant in list(variants)}
        else:
            variants.add(_transliterate(word))
            variants.add(_transliterate(word).replace("й", "ы"))
    variants |= {variant.replace("йо", "е") for variant in variants if "йо" in variant}
    variants |= {REPEATS.sub(r"\1", variant) for variant in variants}
    return {variant for variant in variants if variant}


def _masked_match(word: str) -> bool:
    """``word`` with masks in it (``п**дец``, ``бл*``) matches an obscene form, each mask run standing for letters."""
    core = word.strip("-'").rstrip(TRAILING)
    masks = sum(1 for char in core if char in MASKS)
    if not masks:
        return False
    if SHORT_MASKED.fullmatch(core):  # ё*, е**
        return True
    deleted = "".join(char for char in core if char not in MASKS)
    if any(ROOTS.search(variant) and not ALLOWLIST.search(variant) for variant in spellings(deleted)):
        return True  # пид*расы, заеб*лся: the visible letters already hold a root
    letters = LETTER.findall(core)
    if len(letters) < 2 or masks > len(letters) + 1:
        return False
    parts: list[str] = []
    for run in MASK_RUNS.findall(core):
        if run[0] in MASKS:
            parts.append(f"[а-я]{{1,{len(run) + 2}}}")
        else:
            parts.append(re.escape(REPEATS.sub(r"\1", run.translate(LOOKALIKES))))
    pattern = re.compile("".join(parts) + "$")
    return any(pattern.match(form) for form in FORMS)


@lru_cache(maxsize=32768)
def is_obscene_word(word: str) -> bool:
    """One word (lower case, may hold masks or look-alike letters) is obscene."""
    if word in LATIN_ALLOWLIST:
        return False
    for variant in spellings(word):
        if ROOTS.search(variant) and not ALLOWLIST.search(variant):
            return True
    return _masked_match(word)


def obscene_words(text: str) -> list[str]:
    """The obscene words of ``text`` as written (letters spelt one by one are joined into one word)."""
    lowered = text.lower()
    found: list[str] = []
    for match in SPELT.finditer(lowered):
        joined = "".join(LETTER.findall(match.group()))
        if is_obscene_word(joined):
            found.append(match.group())
    for match in WORDLIKE.finditer(lowered):
        word = match.group()
        if any(part and is_obscene_word(part) for part in _parts(word)):
            found.append(word)
    return found


def _parts(word: str) -> list[str]:
    """The word and, when it has hyphens or look-alike digits glued in, its hyphen-separated parts."""
    if "-" in word.strip("-"):
        return [word, *word.split("-")]
    return [word]


def is_obscene(text: str, lemmas: tuple[tuple[str, ...], ...] = ()) -> bool:
    """``text`` contains мат; ``lemmas`` (every parse's normal form per word) are checked too when given."""
    if obscene_words(text):
        return True
    return any(ROOTS.search(form) and not ALLOWLIST.search(form) for forms in lemmas for form in forms)
