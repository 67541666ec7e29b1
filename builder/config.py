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

DEFAULT_SECTION_TYPES = [
    "intro",
    "verse",
    "pre-chorus",
    "chorus",
    "post-chorus",
    "bridge",
    "solo",
    "instrumental",
    "interlude",
    "break",
    "breakdown",
    "build",
    "drop",
    "transition",
    "outro",
    "silence",
]
DEFAULT_INSTRUMENT_TAGS = [
    "acoustic drums",
    "electronic drums",
    "percussion",
    "bass guitar",
    "synth bass",
    "electric guitar",
    "distorted guitar",
    "acoustic guitar",
    "piano",
    "keyboard",
    "synth pad",
    "synth lead",
    "strings",
    "brass",
    "woodwinds",
    "male vocal",
    "female vocal",
    "choir",
    "samples",
    "sound effects",
]
DEFAULT_VIBE_TAGS = [
    "energetic",
    "emotional",
    "passionate",
    "groovy",
    "happy",
    "sad",
    "melancholic",
    "dark",
    "aggressive",
    "calm",
    "dreamy",
    "epic",
    "playful",
    "romantic",
    "tense",
    "uplifting",
]
DEFAULT_GENRES = [
    "rock",
    "metal",
    "pop",
    "electronic",
    "hip hop",
    "jazz",
    "classical",
    "folk",
    "ambient",
    "funk",
    "r&b",
    "country",
    "blues",
    "reggae",
    "latin",
    "world",
    "soundtrack",
    "lo-fi",
]
DEFAULT_MIX = [
    "wide stereo",
    "narrow or mono",
    "dry",
    "reverberant",
    "punchy low end",
    "muddy low end",
    "bright",
    "dull",
    "balanced",
    "vocals upfront",
    "lo-fi",
    "polished",
    "distorted",
    "noisy",
]

DEFAULT_SUMMARY: list[dict] = [
    dict(id="genre", label="Genre", type="multi", vocabulary=DEFAULT_GENRES),
    dict(
        id="instrumentation",
        label="Instrumentation",
        type="multi",
        vocabulary=DEFAULT_INSTRUMENT_TAGS,
    ),
    dict(id="mix", label="Mix", type="multi", vocabulary=DEFAULT_MIX),
    dict(id="vibe", label="Vibe", type="multi", vocabulary=DEFAULT_VIBE_TAGS),
    dict(
        id="quality",
        label="Quality",
        type="scale",
        anchors={"1": "unusable", "3": "acceptable", "5": "release quality"},
    ),
    dict(
        id="wow_factor",
        label="Wow factor",
        type="scale",
        anchors={"1": "forgettable", "3": "pleasant", "5": "remarkable"},
    ),
]


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


class Captions(_Strict):
    min_words: int = Field(default=300, ge=0)
    max_words: int = Field(default=500, ge=1)
    guidance_minutes: tuple[int, int] = (20, 30)
    section_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_SECTION_TYPES)
    )
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
        return self


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
