"""The project config (``earmark.toml``): schema, defaults and loading.

A minimal config names the project and its raters; everything else has a default
that suits music preference and caption work.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from builder import style
from builder.errors import Problem, ProjectInvalid

CONFIG_NAME = "earmark.toml"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"

Id = Annotated[str, Field(pattern=ID_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Strict):
    value: str
    label: str


class RubricItem(_Strict):
    """One question of the preference rubric.

    ``preference`` is the overall choice between A and B with a strength scale;
    ``rating`` an integer scale (per clip when ``per_clip``); ``text`` free text
    with a minimum word count; ``tags`` a multi-select; ``confirm`` a box that
    must be ticked; ``elements`` a per-clip checklist of the prompt's elements
    from the manifest (left out of tasks that list none).
    """

    id: Id
    type: Literal["preference", "rating", "text", "tags", "confirm", "elements"]
    label: str
    help: str = ""
    group: str = ""
    required: bool = True
    per_clip: bool = False
    scale_min: int = 1
    scale_max: int = 5
    anchors: dict[str, str] = Field(default_factory=dict)
    allow_na: bool = False
    min_words: int = 0
    options: list[Option] = Field(default_factory=list)
    strength_points: Literal[3, 5, 7] = 7
    allow_tie: bool = True
    # The preference question on reference-mode ABX pages, where X is the target.
    reference_label: str = (
        "Against the reference X, which of A and B is closer or better?"
    )

    @model_validator(mode="after")
    def _check_scale(self) -> RubricItem:
        if self.type == "rating" and self.scale_min >= self.scale_max:
            raise ValueError("scale_min must be below scale_max")
        if self.type == "tags" and not self.options:
            raise ValueError("a tags item needs options")
        return self


class SummaryField(_Strict):
    """One row of a caption's summary table."""

    id: Id
    label: str
    help: str = ""
    type: Literal["multi", "scale"]
    vocabulary: list[str] = Field(default_factory=list)
    free_entry: bool = True
    scale_min: int = 1
    scale_max: int = 5
    anchors: dict[str, str] = Field(default_factory=dict)
    required: bool = True


def _rating(id_: str, label: str, help_: str, group: str = "", **kw: object) -> dict:
    anchors = {"1": "poor", "3": "fair", "5": "excellent"}
    return dict(
        id=id_,
        type="rating",
        label=label,
        help=help_,
        group=group,
        per_clip=True,
        anchors=anchors,
        **kw,
    )


DEFAULT_RUBRIC: list[dict] = [
    dict(
        id="overall",
        type="preference",
        label="Overall, which clip is better for the prompt?",
        help="Judge the clips as answers to the prompt. Pick the middle only when you "
        "truly cannot choose.",
    ),
    _rating(
        "holistic",
        "Holistic rating",
        "Your overall impression of each clip on its own.",
    ),
    _rating("melody", "Melody", "Memorable, well-formed melodic lines.", "Appeal"),
    _rating("rhythm", "Rhythm and groove", "Timing, feel, drive.", "Appeal"),
    _rating("arrangement", "Arrangement", "Parts, dynamics, development.", "Appeal"),
    _rating(
        "production", "Production and mix", "Balance, clarity, artefacts.", "Appeal"
    ),
    _rating(
        "lead",
        "Vocals or lead",
        "The lead voice or instrument.",
        "Appeal",
        allow_na=True,
    ),
    _rating(
        "adherence",
        "Adherence to the prompt",
        "Genre, mood, instruments, tempo and any other element the prompt asks for.",
    ),
    dict(
        id="elements",
        type="elements",
        label="Which of the prompt's elements does each clip have?",
        help="Tick every element you can hear in the clip; leave the ones it misses.",
        required=False,
    ),
    _rating("engagement", "Engagement", "Would you keep listening?"),
    dict(
        id="rationale",
        type="text",
        label="Why this choice?",
        min_words=15,
        help="Name what you heard (musical, stylistic, technical reasons), with times.",
    ),
    dict(
        id="drivers",
        type="tags",
        label="What drove the choice?",
        help="Musical: melody, harmony, rhythm, arrangement. Stylistic: genre, mood, "
        "fit to the prompt. Technical: sound quality, mix, artefacts.",
        required=False,
        options=[
            dict(value="musical", label="Musical"),
            dict(value="stylistic", label="Stylistic"),
            dict(value="technical", label="Technical"),
        ],
    ),
    dict(
        id="clips_match_prompt",
        type="confirm",
        label="I confirm these clips are the ones meant for this prompt.",
        help="If a clip is wrong, broken or unrelated, flag an anomaly instead.",
    ),
]

# Section labels, in the order they tend to come in a song. The Harmonix Set and
# SALAMI annotations use these most (chorus, verse, intro, solo, outro, bridge,
# interlude, pre-chorus, instrumental, theme, transition, coda, fade-out, ...);
# "build" and "drop" are for electronic music.
DEFAULT_SECTION_TYPES = [
    "intro",
    "verse",
    "pre-chorus",
    "chorus",
    "post-chorus",
    "bridge",
    "theme",
    "solo",
    "instrumental",
    "interlude",
    "break",
    "breakdown",
    "build",
    "drop",
    "transition",
    "outro",
    "coda",
    "fade-out",
    "silence",
]
# Labels of structure files that mean one of the sections above (matched with case,
# spaces, "-" and "_" ignored); "" leaves the section for the analyst to choose.
DEFAULT_SECTION_ALIASES = {
    "inst": "instrumental",
    "instchorus": "instrumental",
    "chorusinst": "instrumental",
    "gtr": "solo",
    "altchorus": "chorus",
    "quietchorus": "chorus",
    "intchorus": "chorus",
    "main_theme": "theme",
    "secondary_theme": "theme",
    "head": "theme",
    "no_function": "",
    "section": "",
}
# What people name most when they describe music (MusicCaps aspect frequencies):
# instruments, voices, production traits and moods, in everyday words.
DEFAULT_INSTRUMENT_TAGS = [
    "acoustic drums",
    "electronic drums",
    "drum machine",
    "percussion",
    "bass guitar",
    "synth bass",
    "upright bass",
    "electric guitar",
    "distorted guitar",
    "acoustic guitar",
    "piano",
    "electric piano",
    "organ",
    "keyboard",
    "synth pad",
    "synth lead",
    "strings",
    "violin",
    "cello",
    "orchestra",
    "brass",
    "trumpet",
    "saxophone",
    "flute",
    "woodwinds",
    "harp",
    "banjo",
    "accordion",
    "male vocal",
    "female vocal",
    "backing vocals",
    "choir",
    "rap",
    "samples",
    "sound effects",
]
DEFAULT_VIBE_TAGS = [
    "energetic",
    "emotional",
    "passionate",
    "groovy",
    "happy",
    "upbeat",
    "playful",
    "romantic",
    "mellow",
    "relaxing",
    "calm",
    "dreamy",
    "melancholic",
    "sad",
    "sentimental",
    "nostalgic",
    "intense",
    "aggressive",
    "dark",
    "eerie",
    "suspenseful",
    "hypnotic",
    "epic",
    "uplifting",
]
DEFAULT_GENRES = [
    "rock",
    "pop",
    "electronic",
    "dance",
    "hip hop",
    "r&b",
    "soul",
    "jazz",
    "blues",
    "classical",
    "folk",
    "country",
    "metal",
    "funk",
    "reggae",
    "latin",
    "world",
    "traditional",
    "gospel",
    "ambient",
    "experimental",
    "soundtrack",
    "video game",
    "children's",
    "lo-fi",
]
DEFAULT_MIX = [
    "wide stereo",
    "mono",
    "unbalanced stereo",
    "reverberant",
    "dry",
    "punchy",
    "boomy",
    "muddy",
    "thin",
    "warm",
    "bright",
    "harsh",
    "muffled",
    "distorted",
    "noisy",
    "lo-fi",
    "polished",
    "balanced",
    "vocals upfront",
    "live recording",
    "amateur recording",
]

DEFAULT_SUMMARY: list[dict] = [
    dict(
        id="genre",
        label="Genre",
        type="multi",
        vocabulary=DEFAULT_GENRES,
        help="Every style the track draws on; add a narrower one under Other.",
    ),
    dict(
        id="instrumentation",
        label="Instrumentation",
        type="multi",
        vocabulary=DEFAULT_INSTRUMENT_TAGS,
        help="Every instrument and voice you can pick out, however briefly.",
    ),
    dict(
        id="mix",
        label="Mix",
        type="multi",
        vocabulary=DEFAULT_MIX,
        help="How the recording sounds: space, balance, low end, clarity, noise.",
    ),
    dict(
        id="vibe",
        label="Vibe",
        type="multi",
        vocabulary=DEFAULT_VIBE_TAGS,
        help="The moods the track carries, strongest first.",
    ),
    dict(
        id="quality",
        label="Quality",
        type="scale",
        anchors={"1": "unusable", "3": "acceptable", "5": "release quality"},
        help="Sound and production quality, whatever you think of the style.",
    ),
    dict(
        id="wow_factor",
        label="Wow factor",
        type="scale",
        anchors={"1": "forgettable", "3": "pleasant", "5": "remarkable"},
        help="Would this stand out in a playlist of its genre?",
    ),
]

DEFAULT_GUIDELINES = """\
Write for someone who will never hear the track: say what is there, in the
**present tense**, as it happens.

- **Most prominent first.** Open with what a listener notices at once: the
  genre, the lead voice or instrument, the tempo and the feel. Then the parts
  underneath, then production and mix.
- **Ground every judgement in a sound.** Instead of *beautiful* or *powerful*,
  say what makes it so: "a slow cello line over soft piano chords", "the kick
  hits hard and the bass distorts on every downbeat".
- **Follow the track through time.** Add a callout where each section starts and
  say in the caption how the track builds, breaks down or returns.
- **Be plain and certain.** If you cannot name an instrument, describe its sound
  ("a bright, plucked string") rather than guess.
- **Leave yourself out.** No "I", "we" or "you can hear": describe the music.
"""


class ProjectSection(_Strict):
    id: Id
    title: str = ""
    manifest: str = "tasks.csv"
    # Seeds the per-rater clip order; recorded in the build record.
    seed: int = 0


class Rater(_Strict):
    id: Id
    name: str = ""


class Assignment(_Strict):
    raters_per_task: int = Field(default=1, ge=1)


class Listening(_Strict):
    min_coverage: float = Field(default=0.9, ge=0.0, le=1.0)


class CaptionStyle(_Strict):
    """Style checks shown as warnings while the analyst writes (never enforced)."""

    past_tense: bool = True
    first_person: bool = True
    hedges: bool = True
    hedge_words: list[str] = Field(default_factory=lambda: list(style.HEDGES))
    banned: list[str] = Field(default_factory=list)
    # Words never flagged as past tense (adjectives such as "overdubbed").
    allowed: list[str] = Field(default_factory=list)

    def rules(self) -> list[dict[str, Any]]:
        """The rules as data, for the page and for ``builder.style.check``."""
        return style.default_rules(
            past_tense=self.past_tense,
            first_person=self.first_person,
            hedges=self.hedges,
            hedge_words=self.hedge_words,
            banned=self.banned,
            allowed=self.allowed,
        )


class Captions(_Strict):
    min_words: int = Field(default=300, ge=0)
    max_words: int = Field(default=500, ge=1)
    guidance_minutes: tuple[int, int] = (20, 30)
    guidelines: str = DEFAULT_GUIDELINES
    style: CaptionStyle = CaptionStyle()
    section_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SECTION_TYPES)
    )
    section_aliases: dict[str, str] = Field(default_factory=dict)
    instrument_tags: list[str] = Field(
        default_factory=lambda: list(DEFAULT_INSTRUMENT_TAGS)
    )
    vibe_tags: list[str] = Field(default_factory=lambda: list(DEFAULT_VIBE_TAGS))
    summary: list[SummaryField] = Field(
        default_factory=lambda: [SummaryField(**f) for f in DEFAULT_SUMMARY]
    )

    @model_validator(mode="after")
    def _check_range(self) -> Captions:
        if self.min_words > self.max_words:
            raise ValueError("min_words must not exceed max_words")
        low, high = self.guidance_minutes
        if not 0 < low <= high:
            raise ValueError(
                "guidance_minutes must be [low, high] with 0 < low <= high"
            )
        keys = {label_key(s) for s in self.section_types}
        for label, target in self.section_aliases.items():
            if target and label_key(target) not in keys:
                raise ValueError(
                    f"section_aliases: {label!r} maps to {target!r}, which is not "
                    "in section_types"
                )
        ids = [f.id for f in self.summary]
        if len(set(ids)) != len(ids):
            raise ValueError("summary field ids must be unique")
        return self

    def aliases(self) -> dict[str, str]:
        """Structure-file label -> section, by ``label_key``: built-ins, then ours.

        A built-in whose section this project does not use is left out.
        """
        keys = {label_key(s): s for s in self.section_types}
        merged: dict[str, str] = {}
        for label, target in {
            **DEFAULT_SECTION_ALIASES,
            **self.section_aliases,
        }.items():
            if not target:
                merged[label_key(label)] = ""
            elif label_key(target) in keys:
                merged[label_key(label)] = keys[label_key(target)]
        return merged


def label_key(label: str) -> str:
    """A section label as compared: lowercase, without spaces, "-" or "_"."""
    return re.sub(r"[\s_-]+", "", label.lower())


class Audio(_Strict):
    # Loudness differences and clipping thresholds the build report flags.
    clip_peak_dbfs: float = -0.1
    silence_dbfs: float = -60.0
    # Write 16-bit copies of clips some browsers cannot play (see the build report).
    transcode: Literal["flac", "wav"] | None = None


class Loudness(_Strict):
    # Play compared clips at equal integrated loudness by turning the louder down.
    match: bool = True
    # The build report lists compared clips further apart than this, in LU.
    flag_lu: float = Field(default=3.0, ge=0.0)


ANOMALY_KINDS = [
    Option(value="audio_defect", label="Audio defect"),
    Option(value="unclear_prompt", label="Unclear prompt"),
    Option(value="ui_bug", label="UI bug"),
    Option(value="other", label="Other"),
]


class Config(_Strict):
    """The whole project config, defaults filled in."""

    project: ProjectSection
    raters: list[Rater] = Field(min_length=1)
    assignment: Assignment = Assignment()
    listening: Listening = Listening()
    rubric: list[RubricItem] = Field(
        default_factory=lambda: [RubricItem(**item) for item in DEFAULT_RUBRIC]
    )
    captions: Captions = Captions()
    audio: Audio = Audio()
    loudness: Loudness = Loudness()

    @model_validator(mode="after")
    def _check_consistency(self) -> Config:
        ids = [r.id for r in self.raters]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate rater ids: {', '.join(dupes)}")
        if self.assignment.raters_per_task > len(self.raters):
            raise ValueError(
                f"assignment.raters_per_task is {self.assignment.raters_per_task} "
                f"but only {len(self.raters)} raters are listed"
            )
        item_ids = [i.id for i in self.rubric]
        if len(set(item_ids)) != len(item_ids):
            raise ValueError("rubric item ids must be unique")
        if sum(i.type == "preference" for i in self.rubric) != 1:
            raise ValueError("the rubric needs exactly one item of type 'preference'")
        return self


def _message(err: Any) -> str:
    """Pydantic's message, worded for someone editing the TOML file."""
    if err["type"] == "extra_forbidden":
        return "unknown key; check its spelling against the README's config table"
    message = str(err["msg"])
    return message.removeprefix("Value error, ")


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def load_config(root: Path) -> Config:
    """Read and validate ``earmark.toml`` in ``root``; raise ProjectInvalid if bad."""
    path = root / CONFIG_NAME
    name = str(path)
    if not path.is_file():
        raise ProjectInvalid(
            f"No {CONFIG_NAME} in {root}",
            [Problem(name, f"create {CONFIG_NAME}; see README 'The project folder'")],
        )
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ProjectInvalid(
            "Config is not UTF-8",
            [Problem(name, f"byte {exc.start} is not UTF-8; save the file as UTF-8")],
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        line = _toml_line(str(exc))
        raise ProjectInvalid(
            "Config is not valid TOML", [Problem(name, str(exc), line=line)]
        ) from exc
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(name, _message(err), field=_location(err["loc"]))
            for err in exc.errors()
        ]
        raise ProjectInvalid("Config has errors", problems) from exc


def _toml_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
