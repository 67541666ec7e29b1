"""Caption style checks: the rules as data, and the Python twin of the page's matcher.

The build turns ``[captions.style]`` into a list of rules (word lists and context
sets, no code) that the caption page embeds; ``site_assets/earmark.js`` runs them
as the analyst types. ``check`` here runs the same rules the same way, so the
benchmark and tests can measure them; tests/test_page_style.py holds the two to
agreement on real captions.

How a text is read (both sides):

- A token is a run of letters (Unicode category L) that may hold ``'``, ``’`` or
  ``-`` between letters; digits and other marks separate tokens. Matching is on
  the lowercased token with ``’`` read as ``'``.
- The text between two tokens separates them as a clause break when it holds one
  of ``. ! ? ; : ( ) [ ] { } " “ ” — –`` or a line break (a ``:`` or ``.``
  between two digits, as in ``1:05.5``, does not count), as a phrase break when
  it holds a comma or a digit, and not at all otherwise. A phrase runs from one
  phrase or clause break to the next ("at 0:30 | the drums entered").
- Text between double quotes (``"…"`` or ``“…”``, ending at a line break at the
  latest) is quoted: lyrics and titles. Rules skip quoted tokens unless their
  ``quoted`` is true.
- A ``words`` rule fires on each of its phrases (one or more words, matched on
  consecutive tokens with only spaces between them), longest phrase first, unless
  the token before it in its phrase is in ``not_after``.
- A ``past`` rule fires on a token in ``always``. A token in ``forms``, or one
  ending in ``suffix`` (at least ``min_length`` letters, no hyphen, not ending in
  ``eed``), fires unless it is in ``except`` or reads as a participle or an
  adjective: the next token in its phrase is in ``after``; or one of the next
  ``look_ahead`` tokens in its phrase is in ``main_verbs``, before any word in
  ``openers`` or ``joiners``; or, looking back in its phrase past words in
  ``skip`` or ending in ``skip_suffix``, it opens the phrase, or the word before
  it is in ``aux`` or ``before`` or ends in ``'s`` or ``'re``; or its subject
  (the words before it in the phrase, back to a word in ``openers``, or in
  ``joiners`` followed by one in ``subject_starts``) holds a word in
  ``not_subject``, no word, or more than ``max_subject`` words (skipped ones not
  counted). What is left is a verb right after a short subject: "the drums
  entered", "it ended", "... and the bass dropped out".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Characters that end a clause for the context checks.
CLAUSE_BREAKS = frozenset('.!?;:()[]{}"“”—–\n\r')
JOINERS = frozenset("'’-")

# ---- default word lists ----------------------------------------------------------


def _list(words: str) -> list[str]:
    return words.split()


# Past-tense forms that are never participles: flagged wherever they appear.
PAST_ALWAYS = _list(
    "was were had did sang began came went became took gave rose fell grew ran "
    "broke drove rang sank spoke wrote chose drew flew knew threw wore shook forgot "
    "swam stole froze woke sprang arose overtook undertook"
)
# Irregular past forms that are also participles ("is made", "held notes"): read in
# context like the -ed words.
PAST_FORMS = _list(
    "made held kept felt brought built struck lost found sent spent meant taught "
    "caught bought fought thought sought told sold stood understood heard paid laid "
    "said slid swung hung clung stuck dug led fed fled bled sped"
)
# -ed words that describe a sound or a part far more often than they narrate:
# never flagged. Projects add their own with captions.style.allowed.
PAST_EXCEPT = _list(
    "accented accentuated advanced affected agitated amplified animated arpeggiated "
    "articulated assorted attenuated augmented autotuned balanced bearded beloved "
    "biased bowed boxed bracketed chopped clipped closed colored coloured combined "
    "complicated compressed condensed confused controlled cracked crowded crushed "
    "cupped damped dated decorated dedicated delayed detailed detuned diminished "
    "distanced distorted doubled dubbed elevated enhanced exaggerated excited "
    "experienced extended faded filtered fingerpicked fixed flanged flattened "
    "focused fretted fuzzed gated glitched grained hammered hardened harmonised "
    "harmonized heated hooked hundred hushed imbalanced improvised inspired "
    "interested isolated jagged jaded jazzed kindred laced layered limited "
    "lighthearted looped measured mellowed mixed moderated modulated muddled "
    "muffled multitracked muted naked noted overdubbed overcompressed paced panned "
    "patterned phased pitched pixelated plucked polished pounded powered "
    "prerecorded pressured processed programmed punched quantized quantised "
    "ragged rapped raised refined relaxed repeated restrained reversed reverbed "
    "rounded rugged sacred saturated scattered scratched sampled seasoned "
    "sequenced shaped sheltered shuffled sidechained simulated skilled slapped "
    "slurred smoothed sophisticated spaced spirited stacked staccatoed stringed "
    "strummed stuttered subdued superimposed sustained swelled syncopated "
    "synthesised synthesized talented tempered textured themed tinned toned "
    "tortured treated tuned unaccompanied unamplified unbalanced undistorted "
    "unhurried unprocessed unrelated unrestrained unsynced varied veiled "
    "warped washed weathered wicked wired hearted oriented"
)
# Words after which an -ed word is a participle: forms of be, get and have.
PAST_AUX = _list(
    "am is are be been being was were get gets getting got has have having had "
    "remains remain stays stay seems seem sounds sound appears appear feels feel "
    "become becomes gets"
)
# Words after which an -ed word is an adjective or a participle phrase.
PAST_BEFORE = _list(
    "a an the this that these those its their his her our your my some any no each "
    "every another other many much more most less least few several both all such "
    "what which whose with without of by in on for from into onto like as than "
    "very too quite rather fairly pretty so and or but nor plus one two three four "
    "five six seven eight nine ten well"
)
# Words that, found before a candidate in its phrase, make it part of a longer
# phrase rather than the verb of a subject: "features a melody played ...".
PAST_NOT_SUBJECT = _list(
    "am is are be been being was were get gets has have having had there here "
    "features feature contains contain consists consist includes include uses use "
    "plays play sings sing hear hears see sees like that which who whom whose "
    "of with without by in on at to for from into onto over under through about "
    "between during within featuring using playing singing than such"
)
# Words that open a new clause inside a phrase: the subject of a verb after them
# starts after them ("... and it is loud while the drums entered").
PAST_OPENERS = _list(
    "when whenever while until once because since although though whereas if "
    "where after before but"
)
# "and"/"or" open a new clause only before one of these ("and the drums entered";
# "kick and snare hits played ..." is one long subject).
PAST_JOINERS = _list("and or")
PAST_SUBJECT_STARTS = _list(
    "the a an it he she they this these those his her their its we i you"
)
# A verb of these a few words later in the phrase is the main verb, so the
# candidate belongs to its subject: "the pattern played on the guitar is ...".
PAST_MAIN_VERBS = _list("is are was were")
# Words skipped when looking back for that context: adverbs of degree and time.
PAST_SKIP = _list(
    "also not still just even already almost again often always never sometimes "
    "then now here there mostly mainly only well way"
)
# Words after which an -ed word reads as a participle ("played by", "composed of").
PAST_AFTER = _list("by of as via using alongside is are")

FIRST_PERSON = _list(
    "i i'm i've i'd i'll me my mine myself we we're we've we'd we'll us our ours "
    "ourselves let's"
)
HEDGES = [
    "maybe",
    "perhaps",
    "probably",
    "possibly",
    "presumably",
    "apparently",
    "seemingly",
    "supposedly",
    "arguably",
    "somewhat",
    "sort of",
    "kind of",
    "i think",
    "i guess",
    "i believe",
    "seems to",
    "seem to",
    "appears to be",
    "might be",
    "could be a",
    "could be an",
]
# "a kind of drum" names a thing; "kind of loud" hedges.
HEDGE_NOT_AFTER = _list(
    "a an the some any this that what which every one another no same other"
)

RULE_LABELS = {
    "past_tense": (
        "Past tense",
        "Write in the present tense: say what the music does as it plays.",
    ),
    "first_person": (
        "First person",
        "Describe the music, not yourself: say what is heard, not what you hear.",
    ),
    "hedge": (
        "Hedge",
        "Say what you hear plainly; if you cannot tell, describe the sound instead.",
    ),
    "banned": ("Avoid", "This project asks captions not to use this word."),
}


def default_rules(
    *,
    past_tense: bool = True,
    first_person: bool = True,
    hedges: bool = True,
    hedge_words: Sequence[str] | None = None,
    banned: Sequence[str] = (),
    allowed: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The rules a caption page embeds, from the project's style settings."""
    rules: list[dict[str, Any]] = []
    if past_tense:
        kept = {w.lower() for w in allowed}
        rules.append(
            _rule(
                "past_tense",
                "past",
                always=[w for w in PAST_ALWAYS if w not in kept],
                forms=[w for w in PAST_FORMS if w not in kept],
                suffix="ed",
                min_length=5,
                exceptions=sorted(set(PAST_EXCEPT) | kept),
                aux=PAST_AUX,
                before=PAST_BEFORE,
                skip=PAST_SKIP,
                skip_suffix="ly",
                after=PAST_AFTER,
                not_subject=PAST_NOT_SUBJECT,
                openers=PAST_OPENERS,
                joiners=PAST_JOINERS,
                subject_starts=PAST_SUBJECT_STARTS,
                main_verbs=PAST_MAIN_VERBS,
                look_ahead=6,
                max_subject=4,
            )
        )
    if first_person:
        rules.append(_rule("first_person", "words", words=FIRST_PERSON))
    if hedges:
        words = list(HEDGES if hedge_words is None else hedge_words)
        rules.append(_rule("hedge", "words", words=words, not_after=HEDGE_NOT_AFTER))
    if banned:
        rules.append(_rule("banned", "words", words=list(banned), quoted=True))
    return rules


def _rule(rule_id: str, kind: str, **fields: Any) -> dict[str, Any]:
    label, hint = RULE_LABELS[rule_id]
    rule: dict[str, Any] = {
        "id": rule_id,
        "kind": kind,
        "label": label,
        "hint": hint,
        "quoted": fields.pop("quoted", False),
    }
    if "exceptions" in fields:
        fields["except"] = fields.pop("exceptions")
    for name, value in fields.items():
        rule[name] = (
            sorted({_norm(v) for v in value if v.strip()})
            if isinstance(value, list | tuple)
            else value
        )
    return rule


def _norm(word: str) -> str:
    """Lowercase, ’ as ', inner spaces collapsed: how rules and tokens compare."""
    return " ".join(word.replace("’", "'").lower().split())


# ---- the matcher -------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    text: str
    low: str
    start: int
    end: int
    quoted: bool


@dataclass(frozen=True)
class Hit:
    """One warning: which rule, the text it is about, and where."""

    rule: str
    index: int  # the first token's position among the text's tokens
    text: str
    start: int  # character offsets (code points; the page counts UTF-16 units)
    end: int


def tokens(text: str) -> list[Token]:
    """Split ``text`` into letter tokens, marking the ones inside double quotes."""
    found: list[Token] = []
    quoted = False
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\n\r":
            quoted = False
        elif ch == '"':
            quoted = not quoted
        elif ch == "“":
            quoted = True
        elif ch == "”":
            quoted = False
        if not ch.isalpha():
            i += 1
            continue
        start = i
        while i < n and (
            text[i].isalpha()
            or (text[i] in JOINERS and i + 1 < n and text[i + 1].isalpha())
        ):
            i += 1
        word = text[start:i]
        found.append(Token(word, _norm(word), start, i, quoted))
    return found


def check(text: str, rules: Sequence[dict[str, Any]]) -> list[Hit]:
    """Every warning the rules raise on ``text``, in text order."""
    toks = tokens(text)
    gaps = [
        _gap(text, toks[i - 1].end, toks[i].start) if i else 2 for i in range(len(toks))
    ]
    hits: list[Hit] = []
    for rule in rules:
        if rule["kind"] == "past":
            hits += _past(text, toks, gaps, rule)
        else:
            hits += _words(text, toks, gaps, rule)
    order = {rule["id"]: n for n, rule in enumerate(rules)}
    return sorted(hits, key=lambda h: (h.start, order[h.rule]))


def _gap(text: str, start: int, end: int) -> int:
    """How the text between two tokens separates them: 0 not, 1 phrase, 2 clause.

    A ``:`` or ``.`` between digits (``1:05.5``) separates nothing.
    """
    found = 0
    for at in range(start, end):
        ch = text[at]
        if ch == "," or _digit(ch):
            found = max(found, 1)
        elif ch in CLAUSE_BREAKS:
            between_digits = (
                ch in ":."
                and 0 < at < len(text) - 1
                and _digit(text[at - 1])
                and _digit(text[at + 1])
            )
            if between_digits:
                continue
            return 2
    return found


def _digit(ch: str) -> bool:
    return "0" <= ch <= "9"


def _words(
    text: str, toks: list[Token], gaps: list[int], rule: dict[str, Any]
) -> list[Hit]:
    phrases = sorted((p.split(" ") for p in rule["words"]), key=lambda p: (-len(p), p))
    not_after = set(rule.get("not_after", []))
    hits = []
    i = 0
    while i < len(toks):
        match = 0
        for phrase in phrases:
            k = len(phrase)
            if i + k <= len(toks) and all(
                toks[i + j].low == phrase[j]
                and (
                    j == 0 or not text[toks[i + j - 1].end : toks[i + j].start].strip()
                )
                for j in range(k)
            ):
                match = k
                break
        if (
            not match
            or (not rule["quoted"] and any(t.quoted for t in toks[i : i + match]))
            or (gaps[i] == 0 and toks[i - 1].low in not_after)
        ):
            i += 1
            continue
        first, last = toks[i], toks[i + match - 1]
        hits.append(
            Hit(rule["id"], i, text[first.start : last.end], first.start, last.end)
        )
        i += match
    return hits


def _past(
    text: str, toks: list[Token], gaps: list[int], rule: dict[str, Any]
) -> list[Hit]:
    always, forms = set(rule["always"]), set(rule["forms"])
    exceptions, aux, before = set(rule["except"]), set(rule["aux"]), set(rule["before"])
    after, not_subject = set(rule["after"]), set(rule["not_subject"])
    hits = []
    for i, tok in enumerate(toks):
        if tok.quoted and not rule["quoted"]:
            continue
        word = tok.low
        if word in always:
            hits.append(Hit(rule["id"], i, tok.text, tok.start, tok.end))
            continue
        regular = (
            bool(rule["suffix"])
            and word.endswith(rule["suffix"])
            and len(word) >= rule["min_length"]
            and "-" not in word
            and not word.endswith("eed")
        )
        if word in exceptions or not (word in forms or regular):
            continue
        if _participle(toks, gaps, i, rule, aux | before, after, not_subject):
            continue
        hits.append(Hit(rule["id"], i, tok.text, tok.start, tok.end))
    return hits


def _participle(
    toks: list[Token],
    gaps: list[int],
    i: int,
    rule: dict[str, Any],
    before: set[str],
    after: set[str],
    not_subject: set[str],
) -> bool:
    """Whether the candidate at ``i`` reads as a participle or adjective.

    A past-tense verb follows its subject: a few words opening the phrase (the
    text since the last comma or clause break), none of them a verb, preposition
    or conjunction that would make the candidate part of a longer phrase.
    """
    if i + 1 < len(toks) and gaps[i + 1] == 0 and toks[i + 1].low in after:
        return True
    for k in range(i + 1, min(i + 1 + rule["look_ahead"], len(toks))):
        word = toks[k].low
        if gaps[k] > 0 or word in rule["openers"] or word in rule["joiners"]:
            break
        if word in rule["main_verbs"]:
            return True
    j = i
    while j > 0 and gaps[j] == 0 and _skippable(toks[j - 1].low, rule):
        j -= 1
    if j == 0 or gaps[j] > 0:
        return True  # opens its phrase: "Distorted guitars ...", ", played by ..."
    previous = toks[j - 1].low
    if previous in before or previous.endswith(("'s", "'re")):
        return True
    words = 0
    k = j - 1
    while True:
        word = toks[k].low
        if word in rule["openers"] or (
            word in rule["joiners"]
            and gaps[k + 1] == 0
            and toks[k + 1].low in rule["subject_starts"]
        ):
            break  # the clause, and its subject, start after this word
        if word in not_subject:
            return True
        if not _skippable(word, rule):
            words += 1
        if k == 0 or gaps[k] > 0:
            break
        k -= 1
    return words == 0 or words > rule["max_subject"]


def _skippable(word: str, rule: dict[str, Any]) -> bool:
    suffix = rule["skip_suffix"]
    return word in rule["skip"] or (bool(suffix) and word.endswith(suffix))
