"""Caption style checks (builder/style.py): which sentences fire, and which do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.config import CaptionStyle, load_config
from builder.errors import ProjectInvalid
from builder.style import check, tokens

RULES = CaptionStyle(banned=["awesome", "sick beat"], allowed=["overdubbed"]).rules()


def fired(text: str) -> list[tuple[str, str]]:
    return [(hit.rule, hit.text) for hit in check(text, RULES)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The drummer played a fill.", [("past_tense", "played")]),
        ("The drums entered at 0:30.", [("past_tense", "entered")]),
        ("At 1:05.5 the guitar solo started.", [("past_tense", "started")]),
        ("Then the bass guitar dropped out.", [("past_tense", "dropped")]),
        ("The song ended abruptly.", [("past_tense", "ended")]),
        ("It sounded huge.", [("past_tense", "sounded")]),
        ("The singer came in late.", [("past_tense", "came")]),
        ("The vocals were heavily compressed.", [("past_tense", "were")]),
        ("The band built the tension slowly.", [("past_tense", "built")]),
        ("It is sad and the drums entered late.", [("past_tense", "entered")]),
        ("The guitar is loud while the bass dropped out.", [("past_tense", "dropped")]),
        ("I hear a banjo.", [("first_person", "I")]),
        ("We’re in a big room.", [("first_person", "We’re")]),
        ("It reminds me of surf rock.", [("first_person", "me")]),
        ("The mix is probably mono.", [("hedge", "probably")]),
        ("It is kind of loud.", [("hedge", "kind of")]),
        ("The voice seems to be doubled.", [("hedge", "seems to")]),
        ("An awesome riff.", [("banned", "awesome")]),
        ("A sick   beat opens it.", [("banned", "sick   beat")]),
    ],
)
def test_these_sentences_fire(text: str, expected: list[tuple[str, str]]) -> None:
    assert fired(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Adjectives made from verbs, before a noun or after "is"/"are".
        "A distorted guitar plays a layered, muted riff.",
        "The guitar is distorted and the vocals are layered.",
        "The bass is overdriven and the snare is heavily compressed.",
        "Distorted guitars and a sustained organ carry the verse.",
        # Passives and perfects.
        "A chord melody is played on the piano.",
        "The recording has been compressed.",
        "The drums are being played with brushes.",
        # Participle phrases after a noun.
        "A melody played by the flute opens the song.",
        "There is a bass line composed of root notes.",
        "This song features a melody played over soft pads.",
        "The pattern played on the guitar is simple.",
        "The kick and snare hits played together drive it.",
        # Listed in captions.style.allowed.
        "The guitars overdubbed twice give it width.",
        # Quoted lyrics and titles.
        'She sings "I loved you more than words" over the piano.',
        # A kind of thing, not a hedge.
        "A kind of drum made of clay keeps time.",
        "Some kind of shaker plays on the off-beats.",
        # Present tense, nothing to say.
        "The tempo is fast and the kick hits on every beat.",
    ],
)
def test_these_sentences_do_not_fire(text: str) -> None:
    assert fired(text) == []


def test_hits_carry_their_token_index_and_offsets() -> None:
    text = "Warm pads.\nThe kick dropped out, and we heard it."
    hits = check(text, RULES)
    assert [(h.rule, h.text, h.index) for h in hits] == [
        ("past_tense", "dropped", 4),
        ("first_person", "we", 7),
        ("past_tense", "heard", 8),
    ]
    for hit in hits:
        assert text[hit.start : hit.end] == hit.text


def test_tokens_keep_inner_apostrophes_and_hyphens_and_split_on_digits() -> None:
    found = [t.text for t in tokens("It’s a lo-fi 808-heavy mix, 'quoted' — ok")]
    assert found == ["It’s", "a", "lo-fi", "heavy", "mix", "quoted", "ok"]


def test_a_quote_ends_at_the_end_of_its_line() -> None:
    text = 'A stray " mark.\nThe drums entered.'
    assert fired(text) == [("past_tense", "entered")]


def test_rules_follow_the_config_toggles_and_lists() -> None:
    quiet = CaptionStyle(past_tense=False, first_person=False, hedges=False)
    assert quiet.rules() == []
    custom = CaptionStyle(hedge_words=["i reckon"], past_tense=False).rules()
    assert [r["id"] for r in custom] == ["first_person", "hedge"]
    assert [
        (h.rule, h.text) for h in check("I reckon it is probably fast", custom)
    ] == [
        ("first_person", "I"),
        ("hedge", "I reckon"),
    ]


def test_style_settings_are_read_from_the_project_config(tmp_path: Path) -> None:
    (tmp_path / "earmark.toml").write_text(
        '[project]\nid = "p"\n[[raters]]\nid = "r1"\n'
        "[captions.style]\n"
        'banned = ["epic"]\nhedges = false\nallowed = ["sounded"]\n',
        "utf-8",
    )
    rules = load_config(tmp_path).captions.style.rules()
    hits = check("It sounded epic and probably loud.", rules)
    assert [(h.rule, h.text) for h in hits] == [("banned", "epic")]

    (tmp_path / "earmark.toml").write_text(
        '[project]\nid = "p"\n[[raters]]\nid = "r1"\n[captions.style]\nbaned = []\n',
        "utf-8",
    )
    with pytest.raises(ProjectInvalid) as info:
        load_config(tmp_path)
    assert "captions.style.baned" in str(info.value)
