/**
 * Earmark bundle pages: the task index, preference tasks (ab, abx) and caption tasks.
 *
 * Pages are opened from disk (file://) with no network: the script reads one JSON
 * config from #earmark-config, plays audio only through the <audio> elements the
 * template wrote, and keeps drafts in localStorage under config.storage_key.
 *
 * DOM hooks for tests and fill scripts (stable; everything is keyed by data-testid):
 *   html[data-earmark="ready"]        the page is wired up and the draft restored
 *   audio-<L>, play-<L>, seek-<L>     per clip label L (A, B, X): media element,
 *   time-<L>, coverage-<L>            play/pause button, range input, "m:ss / m:ss",
 *   player-message-<L>                "Heard 42%", message when a clip cannot play
 *     Pressing play-B while A plays fades A out, pauses it and starts B at A's
 *     position with a fade in (a switch). Keys (not while typing in a text field):
 *     1/2/3 select A/B/X (a switch while playing), Space plays or pauses the
 *     selected clip (on a button, box or radio Space keeps its own meaning),
 *     ArrowLeft/ArrowRight seek 5 s, L marks a loop start, then its end, then
 *     clears it. player-<L> carries class is-current when selected; gain-<L>
 *     shows the loudness-matching gain; audio.volume is that gain (10^(dB/20)).
 *     Listening counts at any playbackRate: set audio.playbackRate = 16 to hurry.
 *   Loop: loop-toggle (same as L), loop-clear, loop-state (data-start,
 *     data-end in seconds once set; data-pending while only the start is set).
 *   Preference answers: radios input[name="<item>"][value="A3".."0".."B3"]; an
 *     identify trial has input[name="x_is"][value="A"|"B"] instead; ratings
 *     input[name="<item>.<L>"][value="4"|"na"] per clip, input[name="<item>"] when not
 *     per clip; textarea[name="<item>"]; checkboxes input[name="<item>"][value=...]
 *     for tags; input[name="<item>"] (a checkbox) for confirm; the elements
 *     checklist input[name="<item>.<L>"][value=<element>] per clip.
 *   Caption: textarea caption, word-count (data-in-range="true"|"false"),
 *     style-warnings (data-count; hidden when none) lists style-hit buttons
 *     (data-rule = past_tense|first_person|hedge|banned, data-index = token number,
 *     data-start/data-end = offsets in the caption, text = the words; a click
 *     selects them), add-callout (or Alt+C) adds at the playhead, callout-message
 *     shows a refusal; each li callout (data-start in seconds, data-origin =
 *     analyst|suggested, data-suggestion = untouched|confirmed|edited for a
 *     suggested one) holds callout-seek, callout-start (m:ss.s or h:mm:ss.s,
 *     committed on change or Enter), callout-section (select), callout-notes,
 *     callout-style (the notes' style warnings), callout-instruments and
 *     callout-vibes (type a tag, press Enter), callout-remove, and for a suggested
 *     one callout-suggested (where it came from) with callout-confirm.
 *     suggestions-pending (data-count) counts suggested callouts left untouched.
 *     Summary: input[name="summary.<id>"][value=...] (checkbox or radio),
 *     summary-<id>-other (type, press Enter) for free entry.
 *     active-time (data-seconds, data-state = under|within|over the planned
 *     minutes) with active-clock; guidelines (the project's guidance); rework
 *     (data-round) with rework-notes when the task was sent back for a rewrite.
 *   anomaly-<kind> (checkbox), anomaly-note-<kind> (textarea, shown once ticked);
 *   recycle (checkbox: the task cannot be judged; then only a described anomaly
 *   is required).
 *   blockers (what is still needed), download, show-json, json-panel, json-text,
 *   copy-json; save-state ("Saved hh:mm:ss"), storage-banner, notice.
 *   Index: task-row[data-task=<id>] > state (data-state = new|opened|draft|
 *     downloaded|changed|unknown).
 * Per-clip ratings cover A and B only: X, the ABX reference, is heard, not rated.
 * tests/page_helpers.py uses every hook (fill_rubric, fill_caption, listen_through,
 * download); a fill script can follow it.
 */
(function () {
  "use strict";

  // ---- types ----------------------------------------------------------------

  /**
   * @typedef {{value: string, label: string}} Option
   * @typedef {{label: string, clip_id: string, src: string, duration: number,
   *   peaks: number[], gain_db: number}} ClipConfig
   * @typedef {{id: string, type: string, label: string, required: boolean,
   *   per_clip: boolean, min_words: number}} RubricItem
   * @typedef {{id: string, label: string, type: string,
   *   required: boolean}} SummaryField
   * @typedef {{start: number, section: string, label: string, known: boolean}}
   *   Suggestion
   * @typedef {{min_words: number, max_words: number, summary: SummaryField[],
   *   guidance_minutes: number[], style_rules: StyleRule[],
   *   suggestions: Suggestion[]}} CaptionConfig
   * @typedef {{id: string, kind: string, prompt: string, number: number,
   *   href: string, storage_key: string}} IndexTask
   * @typedef {{
   *   project: {id: string, title: string}, build_id: string, bundle_id: string,
   *   rater: {id: string, name: string},
   *   task: {id: string, kind: string, abx_mode: string | null, prompt: string,
   *     elements: string[], number: number, count: number},
   *   clips: ClipConfig[], rubric: RubricItem[], captions: CaptionConfig | null,
   *   rework: {round: number, notes: string,
   *     answers: Record<string, any> | null} | null,
   *   listening: {min_coverage: number, loudness_match: boolean},
   *   anomaly_kinds: Option[],
   *   storage_key: string, download_name: string}} TaskConfig
   * @typedef {{project: {id: string, title: string}, bundle_id: string,
   *   tasks: IndexTask[]}} IndexConfig
   * @typedef {{type: string, label?: string, at: number, t: number,
   *   from?: string, from_at?: number, start?: number, end?: number}} LedgerEvent
   * @typedef {{start: number, end: number}} Loop
   * @typedef {{note: string, flagged_at: string}} Flag
   * @typedef {{key: number, start: number, section: string, notes: string,
   *   instruments: string[], vibes: string[], node: HTMLElement | null,
   *   origin: string, suggestion: string, suggestedLabel: string,
   *   suggestedStart: number, known: boolean, touched: () => void}} Callout
   *   origin is "analyst" or "suggested" (from the build's structure file); a
   *   suggested callout's suggestion is "untouched", "confirmed" or "edited".
   */

  const SUBMISSION_SCHEMA = "earmark.submission";
  const SUBMISSION_VERSION = 1;
  const DRAFT_VERSION = 1;
  const EVENT_CAP = 2000;
  // A timeupdate step counts as heard when the media moved no further than the wall
  // time since the last step allows at the current rate (plus jitter slack), so a
  // seek is never counted. Chromium fires timeupdate about every 250 ms.
  const PLAUSIBLE_FACTOR = 1.5;
  const PLAUSIBLE_SLACK_S = 0.3;
  const ACTIVE_WINDOW_MS = 60000;
  const LEDGER_SAVE_DELAY_MS = 1500;
  // A switch fades the playing clip out and the next one in over this long: a hard
  // cut between two waveforms clicks. Volume ramps, because a Web Audio gain node
  // fed by a file:// <audio> outputs silence in Chromium.
  const FADE_MS = 25;
  const FADE_TICK_MS = 4;
  const SEEK_STEP_S = 5;
  const MIN_LOOP_S = 0.2;
  const MEDIA_TYPES = {
    ogg: "audio/ogg",
    oga: "audio/ogg",
    opus: "audio/ogg; codecs=opus",
    wav: "audio/wav",
    flac: "audio/flac",
    mp3: "audio/mpeg",
    m4a: "audio/mp4",
    aac: "audio/aac",
    aif: "audio/aiff",
    aiff: "audio/aiff",
  };
  const MEDIA_ERRORS = [
    "",
    "aborted",
    "network error",
    "decode error",
    "format not supported",
  ];

  // ---- reporting ------------------------------------------------------------

  /** @type {Set<string>} */
  const reported = new Set();

  /**
   * The one place errors go: logged once per place, optionally told to the user.
   * @param {string} where
   * @param {unknown} error
   * @param {string} [message] shown in the notice area when given
   */
  function report(where, error, message) {
    const text =
      error instanceof Error ? error.name + ": " + error.message : String(error);
    if (!reported.has(where + text)) {
      reported.add(where + text);
      console.warn("[earmark] " + where + ": " + text);
    }
    if (message) notify(message, true);
  }

  /** @type {number} */
  let noticeTimer = 0;

  /**
   * Show a short message in the notice area.
   * @param {string} message
   * @param {boolean} [isError]
   */
  function notify(message, isError) {
    const box = document.querySelector('[data-testid="notice"]');
    if (!(box instanceof HTMLElement)) return;
    box.textContent = message;
    box.classList.toggle("is-error", Boolean(isError));
    box.hidden = false;
    window.clearTimeout(noticeTimer);
    noticeTimer = window.setTimeout(() => (box.hidden = true), isError ? 12000 : 6000);
  }

  window.addEventListener("error", (event) =>
    report(
      "uncaught",
      event.error || event.message,
      "Something went wrong on this page. Your answers are kept; download them " +
        "if it happens again.",
    ),
  );
  window.addEventListener("unhandledrejection", (event) =>
    report("unhandled", event.reason),
  );

  // ---- small helpers --------------------------------------------------------

  /**
   * @param {ParentNode} root
   * @param {string} testid
   * @returns {HTMLElement}
   */
  function hook(root, testid) {
    const node = root.querySelector('[data-testid="' + testid + '"]');
    if (!(node instanceof HTMLElement)) throw new Error("missing element " + testid);
    return node;
  }

  /**
   * @param {ParentNode} root
   * @param {string} selector
   * @returns {HTMLInputElement[]}
   */
  function inputs(root, selector) {
    return Array.from(root.querySelectorAll(selector)).filter(
      (node) => node instanceof HTMLInputElement,
    );
  }

  /** @param {number} value @param {number} digits */
  function round(value, digits) {
    const scale = Math.pow(10, digits);
    return Number.isFinite(value) ? Math.round(value * scale) / scale : 0;
  }

  /** @param {number} value @param {number} width */
  function pad(value, width) {
    return String(value).padStart(width, "0");
  }

  /**
   * Format seconds as m:ss; "--:--" when unknown (NaN, Infinity, negative).
   * @param {number} seconds
   */
  function clock(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) return "--:--";
    const whole = Math.floor(seconds);
    return Math.floor(whole / 60) + ":" + pad(whole % 60, 2);
  }

  /**
   * Format seconds as m:ss.s (tenths), or h:mm:ss.s from an hour on.
   * @param {number} seconds
   */
  function clockTenths(seconds) {
    if (!Number.isFinite(seconds) || seconds < 0) return "--:--.-";
    const tenths = Math.round(seconds * 10);
    const hours = Math.floor(tenths / 36000);
    const minutes = Math.floor((tenths - hours * 36000) / 600);
    const rest = tenths - hours * 36000 - minutes * 600;
    const tail = pad(Math.floor(rest / 10), 2) + "." + (rest % 10);
    return hours ? hours + ":" + pad(minutes, 2) + ":" + tail : minutes + ":" + tail;
  }

  /**
   * Read "h:mm:ss.s", "m:ss.s", "m:ss" or plain seconds ("75.5"); NaN when it is
   * not a time. builder/structure.py parse_clock reads times the same way.
   * @param {string} text
   */
  function parseClock(text) {
    const match = /^(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d*)?|\.\d+)$/.exec(
      text.trim().replace(",", "."),
    );
    if (!match) return NaN;
    const seconds = Number(match[3]);
    if (match[2] !== undefined && seconds >= 60) return NaN;
    if (match[1] !== undefined && Number(match[2]) >= 60) return NaN;
    return Number(match[1] || 0) * 3600 + Number(match[2] || 0) * 60 + seconds;
  }

  /**
   * ISO-8601 local time with milliseconds and the UTC offset, e.g.
   * 2026-12-03T16:45:21.123+01:00.
   * @param {Date} date
   */
  function isoLocal(date) {
    const offset = -date.getTimezoneOffset();
    const sign = offset >= 0 ? "+" : "-";
    const abs = Math.abs(offset);
    return (
      pad(date.getFullYear(), 4) +
      "-" +
      pad(date.getMonth() + 1, 2) +
      "-" +
      pad(date.getDate(), 2) +
      "T" +
      pad(date.getHours(), 2) +
      ":" +
      pad(date.getMinutes(), 2) +
      ":" +
      pad(date.getSeconds(), 2) +
      "." +
      pad(date.getMilliseconds(), 3) +
      sign +
      pad(Math.floor(abs / 60), 2) +
      ":" +
      pad(abs % 60, 2)
    );
  }

  /** @param {Date} date */
  function timeOfDay(date) {
    return (
      pad(date.getHours(), 2) +
      ":" +
      pad(date.getMinutes(), 2) +
      ":" +
      pad(date.getSeconds(), 2)
    );
  }

  /**
   * Count words: whitespace-separated tokens holding at least one letter or digit.
   * @param {string} text
   */
  function countWords(text) {
    return text.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
  }

  /** @param {unknown} value @returns {value is Record<string, any>} */
  function isObject(value) {
    return typeof value === "object" && value !== null && !Array.isArray(value);
  }

  /** @param {unknown} value @param {number} fallback */
  function finiteOr(value, fallback) {
    return typeof value === "number" && Number.isFinite(value) ? value : fallback;
  }

  /** @param {unknown} value @returns {string[]} */
  function stringList(value) {
    return Array.isArray(value) ? value.filter((v) => typeof v === "string") : [];
  }

  // ---- style checks ---------------------------------------------------------
  // The rules are data from the build (builder/style.py); this is the matcher.
  // builder/style.py check() is its Python twin, and its docstring says how a text
  // is read; tests/test_page_style.py holds the two to agreement.

  /**
   * @typedef {{id: string, kind: string, label: string, hint: string,
   *   quoted: boolean, words?: string[], not_after?: string[], always?: string[],
   *   forms?: string[], suffix?: string, min_length?: number, except?: string[],
   *   aux?: string[], before?: string[], skip?: string[], skip_suffix?: string,
   *   after?: string[], not_subject?: string[], openers?: string[],
   *   joiners?: string[], subject_starts?: string[], main_verbs?: string[],
   *   look_ahead?: number, max_subject?: number}} StyleRule
   * @typedef {{text: string, low: string, start: number, end: number,
   *   quoted: boolean}} StyleToken
   * @typedef {{rule: string, index: number, text: string, start: number,
   *   end: number}} StyleHit
   */

  const CLAUSE_BREAKS = '.!?;:()[]{}"“”—–\n\r';
  const LETTER = /^\p{L}$/u;

  /** @param {string} word */
  function normWord(word) {
    return word.replace(/’/g, "'").toLowerCase();
  }

  /** @param {string} ch */
  function isDigit(ch) {
    return ch >= "0" && ch <= "9";
  }

  /**
   * Code units of the letter starting at ``i`` (2 for one outside the BMP), or 0.
   * @param {string} text
   * @param {number} i
   */
  function letterAt(text, i) {
    const code = text.codePointAt(i);
    if (code === undefined) return 0;
    const ch = String.fromCodePoint(code);
    return LETTER.test(ch) ? ch.length : 0;
  }

  /**
   * Letter tokens of ``text``, marking those inside double quotes.
   * @param {string} text
   * @returns {StyleToken[]}
   */
  function styleTokens(text) {
    /** @type {StyleToken[]} */
    const found = [];
    let quoted = false;
    let i = 0;
    while (i < text.length) {
      const ch = text[i];
      if (ch === "\n" || ch === "\r") quoted = false;
      else if (ch === '"') quoted = !quoted;
      else if (ch === "“") quoted = true;
      else if (ch === "”") quoted = false;
      if (!letterAt(text, i)) {
        i += 1;
        continue;
      }
      const start = i;
      for (;;) {
        const size = letterAt(text, i);
        if (size) {
          i += size;
        } else if ("'’-".includes(text[i] || "x") && letterAt(text, i + 1)) {
          i += 1;
        } else {
          break;
        }
      }
      const word = text.slice(start, i);
      found.push({ text: word, low: normWord(word), start: start, end: i, quoted });
    }
    return found;
  }

  /**
   * How the text between two tokens separates them: 0 not, 1 phrase, 2 clause.
   * @param {string} text
   * @param {number} start
   * @param {number} end
   */
  function styleGap(text, start, end) {
    let found = 0;
    for (let at = start; at < end; at += 1) {
      const ch = text[at];
      if (ch === "," || isDigit(ch)) {
        found = 1;
      } else if (CLAUSE_BREAKS.includes(ch)) {
        const betweenDigits =
          (ch === ":" || ch === ".") &&
          at > 0 &&
          at < text.length - 1 &&
          isDigit(text[at - 1]) &&
          isDigit(text[at + 1]);
        if (!betweenDigits) return 2;
      }
    }
    return found;
  }

  /**
   * Every warning ``rules`` raise on ``text``, in text order.
   * @param {string} text
   * @param {StyleRule[]} rules
   * @returns {StyleHit[]}
   */
  function styleCheck(text, rules) {
    const toks = styleTokens(text);
    const gaps = toks.map((tok, i) =>
      i ? styleGap(text, toks[i - 1].end, tok.start) : 2,
    );
    /** @type {StyleHit[]} */
    let hits = [];
    for (const rule of rules) {
      hits = hits.concat(
        rule.kind === "past"
          ? pastHits(text, toks, gaps, rule)
          : wordHits(text, toks, gaps, rule),
      );
    }
    const order = new Map(rules.map((rule, n) => [rule.id, n]));
    return hits.sort(
      (a, b) =>
        a.start - b.start ||
        /** @type {number} */ (order.get(a.rule)) -
          /** @type {number} */ (order.get(b.rule)),
    );
  }

  /**
   * @param {string} text
   * @param {StyleToken[]} toks
   * @param {number[]} gaps
   * @param {StyleRule} rule
   * @returns {StyleHit[]}
   */
  function wordHits(text, toks, gaps, rule) {
    const phrases = (rule.words || [])
      .map((p) => p.split(" "))
      .sort((a, b) => b.length - a.length || (a.join(" ") < b.join(" ") ? -1 : 1));
    const notAfter = new Set(rule.not_after || []);
    /** @type {StyleHit[]} */
    const hits = [];
    let i = 0;
    while (i < toks.length) {
      let match = 0;
      for (const phrase of phrases) {
        const k = phrase.length;
        if (i + k > toks.length) continue;
        let same = true;
        for (let j = 0; j < k && same; j += 1) {
          same =
            toks[i + j].low === phrase[j] &&
            (j === 0 || !text.slice(toks[i + j - 1].end, toks[i + j].start).trim());
        }
        if (same) {
          match = k;
          break;
        }
      }
      if (
        !match ||
        (!rule.quoted && toks.slice(i, i + match).some((t) => t.quoted)) ||
        (gaps[i] === 0 && notAfter.has(toks[i - 1].low))
      ) {
        i += 1;
        continue;
      }
      const first = toks[i];
      const last = toks[i + match - 1];
      hits.push({
        rule: rule.id,
        index: i,
        text: text.slice(first.start, last.end),
        start: first.start,
        end: last.end,
      });
      i += match;
    }
    return hits;
  }

  /**
   * @param {string} text
   * @param {StyleToken[]} toks
   * @param {number[]} gaps
   * @param {StyleRule} rule
   * @returns {StyleHit[]}
   */
  function pastHits(text, toks, gaps, rule) {
    const always = new Set(rule.always || []);
    const forms = new Set(rule.forms || []);
    const exceptions = new Set(rule.except || []);
    const before = new Set((rule.aux || []).concat(rule.before || []));
    const after = new Set(rule.after || []);
    const notSubject = new Set(rule.not_subject || []);
    const suffix = rule.suffix || "";
    /** @type {StyleHit[]} */
    const hits = [];
    toks.forEach((tok, i) => {
      if (tok.quoted && !rule.quoted) return;
      const word = tok.low;
      const hit = {
        rule: rule.id,
        index: i,
        text: tok.text,
        start: tok.start,
        end: tok.end,
      };
      if (always.has(word)) {
        hits.push(hit);
        return;
      }
      const regular =
        Boolean(suffix) &&
        word.endsWith(suffix) &&
        word.length >= (rule.min_length || 0) &&
        !word.includes("-") &&
        !word.endsWith("eed");
      if (exceptions.has(word) || !(forms.has(word) || regular)) return;
      if (participle(toks, gaps, i, rule, before, after, notSubject)) return;
      hits.push(hit);
    });
    return hits;
  }

  /**
   * Whether the candidate at ``i`` reads as a participle or adjective.
   * @param {StyleToken[]} toks
   * @param {number[]} gaps
   * @param {number} i
   * @param {StyleRule} rule
   * @param {Set<string>} before
   * @param {Set<string>} after
   * @param {Set<string>} notSubject
   */
  function participle(toks, gaps, i, rule, before, after, notSubject) {
    if (i + 1 < toks.length && gaps[i + 1] === 0 && after.has(toks[i + 1].low))
      return true;
    const openers = rule.openers || [];
    const joiners = rule.joiners || [];
    const ahead = Math.min(i + 1 + (rule.look_ahead || 0), toks.length);
    for (let k = i + 1; k < ahead; k += 1) {
      const word = toks[k].low;
      if (gaps[k] > 0 || openers.includes(word) || joiners.includes(word)) break;
      if ((rule.main_verbs || []).includes(word)) return true;
    }
    let j = i;
    while (j > 0 && gaps[j] === 0 && skippable(toks[j - 1].low, rule)) j -= 1;
    if (j === 0 || gaps[j] > 0) return true;
    const previous = toks[j - 1].low;
    if (before.has(previous) || previous.endsWith("'s") || previous.endsWith("'re"))
      return true;
    let words = 0;
    for (let k = j - 1; ; k -= 1) {
      const word = toks[k].low;
      const opens =
        openers.includes(word) ||
        (joiners.includes(word) &&
          gaps[k + 1] === 0 &&
          (rule.subject_starts || []).includes(toks[k + 1].low));
      if (opens) break; // the clause, and its subject, start after this word
      if (notSubject.has(word)) return true;
      if (!skippable(word, rule)) words += 1;
      if (k === 0 || gaps[k] > 0) break;
    }
    return words === 0 || words > (rule.max_subject || 0);
  }

  /** @param {string} word @param {StyleRule} rule */
  function skippable(word, rule) {
    const suffix = rule.skip_suffix || "";
    return (
      (rule.skip || []).includes(word) || (Boolean(suffix) && word.endsWith(suffix))
    );
  }

  // ---- config ---------------------------------------------------------------

  /** @returns {any} the JSON the builder embedded; read once */
  function readConfig() {
    const node = document.getElementById("earmark-config");
    if (!node || !node.textContent) throw new Error("the page has no #earmark-config");
    return JSON.parse(node.textContent);
  }

  // ---- storage --------------------------------------------------------------

  /**
   * @typedef {{readable: boolean, read(key: string): string | null,
   *   write(key: string, value: string): boolean}} Store
   */

  /**
   * Probe localStorage once and wrap it: reads and writes never throw. Browsers
   * throw a SecurityError on access when storage is blocked, and a
   * QuotaExceededError from setItem when it is full.
   * @param {() => void} onWriteFailure called on every failed write
   * @returns {Store}
   */
  function openStore(onWriteFailure) {
    /** @type {Storage | null} */
    let area = null;
    try {
      area = window.localStorage;
    } catch (error) {
      report("storage access", error);
    }
    let writable = false;
    if (area) {
      try {
        area.setItem("earmark:probe", "1");
        area.removeItem("earmark:probe");
        writable = true;
      } catch (error) {
        report("storage probe", error);
      }
    }
    if (!writable) onWriteFailure();
    return {
      readable: Boolean(area),
      read(key) {
        if (!area) return null;
        try {
          return area.getItem(key);
        } catch (error) {
          report("storage read", error);
          return null;
        }
      },
      write(key, value) {
        try {
          if (!area) throw new Error("storage is not available");
          area.setItem(key, value);
          return true;
        } catch (error) {
          report("autosave", error);
          onWriteFailure();
          return false;
        }
      },
    };
  }

  /**
   * Parse a stored draft; null when absent or unreadable.
   * @param {string | null} text
   * @returns {Record<string, any> | null}
   */
  function parseDraft(text) {
    if (!text) return null;
    try {
      const draft = JSON.parse(text);
      return isObject(draft) && draft.v === DRAFT_VERSION ? draft : null;
    } catch (error) {
      report("draft parse", error);
      return null;
    }
  }

  /**
   * Where a task stands, from its draft: new, opened, draft, downloaded or changed.
   * @param {Record<string, any> | null} draft
   */
  function draftState(draft) {
    if (!draft) return "new";
    if (typeof draft.downloaded_at === "string") {
      return finiteOr(draft.rev, 0) > finiteOr(draft.downloaded_rev, 0)
        ? "changed"
        : "downloaded";
    }
    return finiteOr(draft.rev, 0) > 0 ? "draft" : "opened";
  }

  // ---- index page -----------------------------------------------------------

  /** @param {IndexConfig} config */
  function startIndex(config) {
    const banner = hook(document, "storage-banner");
    const store = openStore(() => undefined);
    if (!store.readable) banner.hidden = false;
    const labels = {
      new: "Not started",
      opened: "Opened",
      draft: "Draft saved",
      downloaded: "Downloaded",
      changed: "Changed since download",
      unknown: "Unknown",
    };
    let done = 0;
    const rows = Array.from(document.querySelectorAll('[data-testid="task-row"]'));
    for (const task of config.tasks) {
      const row = rows.find(
        (r) => r instanceof HTMLElement && r.dataset.task === task.id,
      );
      if (!row) continue;
      const badge = hook(row, "state");
      const draft = parseDraft(store.read(task.storage_key));
      const state = store.readable ? draftState(draft) : "unknown";
      if (state === "downloaded") done += 1;
      let text = labels[state];
      const when =
        draft && (state === "downloaded" ? draft.downloaded_at : draft.saved_at);
      if (typeof when === "string" && state !== "new") {
        text += " · " + when.slice(11, 16);
      }
      badge.textContent = text;
      badge.dataset.state = state;
      badge.className = "state state-" + state;
    }
    const progress = hook(document, "progress");
    progress.textContent = store.readable
      ? done + " of " + config.tasks.length + " downloaded"
      : "";
  }

  // ---- task page: shared state ----------------------------------------------

  /**
   * @typedef {Object} Track runtime state of one clip
   * @property {ClipConfig} clip
   * @property {string} label
   * @property {HTMLAudioElement} audio
   * @property {HTMLButtonElement} button
   * @property {HTMLInputElement} seek
   * @property {HTMLElement} time
   * @property {HTMLElement} heardText
   * @property {HTMLElement} heardFill
   * @property {HTMLElement} message
   * @property {HTMLCanvasElement} canvas
   * @property {Array<[number, number]>} intervals heard media time, merged, sorted
   * @property {number} plays
   * @property {number} listenSeconds
   * @property {boolean} playable
   * @property {string | null} error
   * @property {{media: number, wall: number, rate: number} | null} last
   * @property {boolean} running between `playing` and pause/ended
   * @property {boolean} quietSeek the next seek is part of a switch
   * @property {boolean} dragging
   * @property {number} resume position to restore once metadata is known
   * @property {number} gain loudness-matching volume, 0..1
   * @property {number} fadeTimer interval id of a running volume ramp
   * @property {HTMLElement} root the player section
   */

  /** @type {TaskConfig} */
  let config;
  /** @type {Store} */
  let store;
  /** @type {Track[]} */
  let tracks = [];
  /** @type {Track | null} */
  let lastUsed = null;
  /** @type {Loop | null} */
  let loop = null;
  /** @type {number | null} loop start marked, end not yet */
  let loopStart = null;
  /** @type {{to: Track} | null} a switch waiting for the fade-out to finish */
  let pendingSwitch = null;
  let recycle = false;
  /** @type {LedgerEvent[]} */
  let events = [];
  let eventsDropped = 0;
  let startedAt = "";
  let startedMs = 0;
  let rev = 0;
  let activeSeconds = 0;
  let lastInteraction = 0;
  /** @type {Record<string, any>} */
  let draftMeta = {};
  /** @type {Record<string, Flag>} */
  let flags = {};
  let storageFailed = false;
  // Bumped by every change to what a submission would hold (answers, ledger).
  let version = 0;
  /** @type {() => Record<string, any>} */
  let collectAnswers = () => ({});
  /** @type {() => string[]} */
  let answerProblems = () => [];
  /** @type {(track: Track) => void} */
  let onTrackPaint = () => undefined;

  // ---- task page: autosave --------------------------------------------------

  let saveTimer = 0;

  /** Mark a user change: bump the revision, save now, re-check the gate. */
  function changed() {
    rev += 1;
    version += 1;
    saveNow();
    refreshGate();
  }

  /** Save soon: for listening progress, which changes many times a second. */
  function saveSoon() {
    if (saveTimer) return;
    saveTimer = window.setTimeout(() => {
      saveTimer = 0;
      saveNow();
    }, LEDGER_SAVE_DELAY_MS);
  }

  /** Write the draft (form state and ledger, never audio) to storage. */
  function saveNow() {
    window.clearTimeout(saveTimer);
    saveTimer = 0;
    const now = new Date();
    const draft = {
      v: DRAFT_VERSION,
      task_id: config.task.id,
      bundle_id: config.bundle_id,
      started_at: startedAt,
      started_ms: startedMs,
      saved_at: isoLocal(now),
      rev: rev,
      downloaded_at: draftMeta.downloaded_at || null,
      downloaded_rev: draftMeta.downloaded_rev || 0,
      active_seconds: round(activeSeconds, 1),
      answers: collectAnswers(),
      flags: flags,
      recycle: recycle,
      loop: loop,
      ledger: {
        clips: Object.fromEntries(
          tracks.map((t) => [
            t.label,
            {
              intervals: t.intervals,
              plays: t.plays,
              listen_seconds: round(t.listenSeconds, 3),
              position: round(t.audio.currentTime, 3),
            },
          ]),
        ),
        events: events,
        events_dropped: eventsDropped,
      },
    };
    const state = hook(document, "save-state");
    let text = "";
    try {
      text = JSON.stringify(draft);
    } catch (error) {
      report("draft encode", error);
      return;
    }
    if (store.write(config.storage_key, text)) {
      state.textContent = "Saved " + timeOfDay(now);
      state.classList.remove("is-error");
    } else {
      state.textContent = "Not saved";
      state.classList.add("is-error");
    }
  }

  /** Show the persistent banner: storage refused a write. */
  function storageFailure() {
    storageFailed = true;
    const banner = document.querySelector('[data-testid="storage-banner"]');
    if (banner instanceof HTMLElement) banner.hidden = false;
  }

  // ---- task page: activity clock ----------------------------------------------

  function markInteraction() {
    lastInteraction = Date.now();
  }

  /**
   * Count active time once a second: the page is visible and the analyst did
   * something in the last minute, or audio is playing (even in a hidden tab).
   */
  function startActivityClock() {
    let previous = Date.now();
    for (const type of ["pointerdown", "keydown", "input", "wheel", "scroll"]) {
      window.addEventListener(type, markInteraction, { passive: true, capture: true });
    }
    window.setInterval(() => {
      const now = Date.now();
      // Cap each step: a sleeping laptop must not add the hours it slept.
      const step = Math.min(Math.max(0, now - previous), 5000) / 1000;
      previous = now;
      const visible = document.visibilityState === "visible";
      const playing = tracks.some((t) => t.running);
      if ((visible && now - lastInteraction < ACTIVE_WINDOW_MS) || playing) {
        activeSeconds += step;
      }
      paintActiveTime();
    }, 1000);
    paintActiveTime();
  }

  /** Show active time against the planned range (caption pages carry the box). */
  function paintActiveTime() {
    const box = document.querySelector('[data-testid="active-time"]');
    if (!(box instanceof HTMLElement)) return;
    const seconds = Math.floor(activeSeconds);
    const low = finiteOr(Number(box.dataset.low), Infinity);
    const high = finiteOr(Number(box.dataset.high), Infinity);
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    const text =
      (hours ? hours + ":" + pad(minutes, 2) : String(minutes)) +
      ":" +
      pad(seconds % 60, 2);
    const state = seconds < low ? "under" : seconds <= high ? "within" : "over";
    box.dataset.seconds = String(seconds);
    box.dataset.state = state;
    const clockText = box.querySelector('[data-testid="active-clock"]');
    if (clockText) clockText.textContent = text;
  }

  // ---- task page: listening ledger --------------------------------------------

  /**
   * Record one ledger event; the list keeps the newest EVENT_CAP events.
   * @param {string} type
   * @param {Track} track
   * @param {string} [from] the label switched away from
   * @param {{from_at?: number, start?: number, end?: number}} [extra]
   */
  function record(type, track, from, extra) {
    const at = round(track.audio.currentTime, 3);
    const t = Math.max(0, Date.now() - startedMs);
    const previous = events[events.length - 1];
    // Dragging the seek bar fires a seek per pixel: keep only the last of a burst.
    if (
      type === "seek" &&
      previous &&
      previous.type === "seek" &&
      previous.label === track.label &&
      t - previous.t < 500
    ) {
      previous.at = at;
      previous.t = t;
      return;
    }
    version += 1;
    /** @type {LedgerEvent} */
    const event = { type: type, label: track.label, at: at, t: t };
    if (from) event.from = from;
    if (extra) Object.assign(event, extra);
    events.push(event);
    if (events.length > EVENT_CAP) {
      eventsDropped += events.length - EVENT_CAP;
      events = events.slice(events.length - EVENT_CAP);
    }
  }

  /**
   * The build-time duration (F13: the browser may say Infinity or NaN); the
   * media's own only when the build did not know it.
   * @param {Track} track
   */
  function durationOf(track) {
    const built = track.clip.duration;
    if (Number.isFinite(built) && built > 0) return built;
    const media = track.audio.duration;
    return Number.isFinite(media) && media > 0 ? media : NaN;
  }

  /**
   * Add [start, end] to a sorted list of disjoint intervals, merging overlaps.
   * @param {Array<[number, number]>} list
   * @param {number} start
   * @param {number} end
   * @returns {Array<[number, number]>}
   */
  function addInterval(list, start, end) {
    if (!(end > start)) return list;
    /** @type {Array<[number, number]>} */
    const out = [];
    let low = start;
    let high = end;
    let placed = false;
    for (const [a, b] of list) {
      if (b < low) {
        out.push([a, b]);
      } else if (a > high) {
        if (!placed) out.push([round(low, 3), round(high, 3)]);
        placed = true;
        out.push([a, b]);
      } else {
        low = Math.min(low, a);
        high = Math.max(high, b);
      }
    }
    if (!placed) out.push([round(low, 3), round(high, 3)]);
    return out;
  }

  /** @param {Track} track @returns {number} seconds of the clip heard */
  function heardSeconds(track) {
    const end = durationOf(track);
    let total = 0;
    for (const [a, b] of track.intervals) {
      total += Math.max(
        0,
        (Number.isFinite(end) ? Math.min(b, end) : b) - Math.max(a, 0),
      );
    }
    return total;
  }

  /** @param {Track} track @returns {number} 0..1 of the build-time duration */
  function coverage(track) {
    const end = durationOf(track);
    if (!Number.isFinite(end) || end <= 0) return 0;
    return Math.min(1, heardSeconds(track) / end);
  }

  /**
   * Account for the media time since the last step, if it was plausibly heard.
   * @param {Track} track
   */
  function step(track) {
    const audio = track.audio;
    const now = performance.now();
    const position = audio.currentTime;
    const last = track.last;
    if (last && Number.isFinite(position)) {
      const wall = Math.max(0, (now - last.wall) / 1000);
      const moved = position - last.media;
      const rate = Math.max(finiteOr(audio.playbackRate, 1), last.rate);
      if (moved > 0 && moved <= wall * rate * PLAUSIBLE_FACTOR + PLAUSIBLE_SLACK_S) {
        const end = durationOf(track);
        const stop = Number.isFinite(end) ? Math.min(position, end) : position;
        track.intervals = addInterval(track.intervals, last.media, stop);
        version += 1;
      }
      track.listenSeconds += Math.min(wall, 5);
      saveSoon();
    }
    track.last =
      track.running && !audio.paused && !audio.seeking && Number.isFinite(position)
        ? { media: position, wall: now, rate: finiteOr(audio.playbackRate, 1) }
        : null;
  }

  /**
   * The clip cannot play here (F06): say so, record it, stop it from blocking.
   * @param {Track} track
   * @param {string} reason
   */
  function markUnplayable(track, reason) {
    if (!track.playable) return;
    track.playable = false;
    track.error = reason;
    track.running = false;
    track.last = null;
    track.button.disabled = true;
    track.seek.disabled = true;
    showTrackMessage(
      track,
      "This browser cannot play clip " +
        track.label +
        " (" +
        reason +
        "). It will " +
        "not hold up your download; please tick “Audio defect” below and say so.",
    );
    record("error", track);
    report("clip " + track.label, reason);
    paintTrack(track);
    saveNow();
    refreshGate();
  }

  /** @param {Track} track @param {string} text */
  function showTrackMessage(track, text) {
    track.message.textContent = text;
    track.message.hidden = !text;
  }

  // ---- task page: players -----------------------------------------------------

  /**
   * Ramp a clip's volume to ``to`` over FADE_MS, then call ``done``.
   * @param {Track} track
   * @param {number} to
   * @param {() => void} [done]
   */
  function ramp(track, to, done) {
    window.clearInterval(track.fadeTimer);
    const audio = track.audio;
    const from = audio.volume;
    const started = performance.now();
    const tick = () => {
      const share = Math.min(1, (performance.now() - started) / FADE_MS);
      audio.volume = Math.max(0, Math.min(1, from + (to - from) * share));
      if (share < 1) return false;
      window.clearInterval(track.fadeTimer);
      track.fadeTimer = 0;
      if (done) done();
      return true;
    };
    if (!tick()) track.fadeTimer = window.setInterval(tick, FADE_TICK_MS);
  }

  /** @returns {Track} the selected clip: the last one used */
  function current() {
    return lastUsed || tracks[0];
  }

  /**
   * Where ``track`` should start to continue from ``position``: the same moment,
   * or its start when that moment is past its end.
   * @param {Track} track
   * @param {number} position
   */
  function continueAt(track, position) {
    const end = durationOf(track);
    return Number.isFinite(position) && (!Number.isFinite(end) || position < end)
      ? position
      : 0;
  }

  /** @param {Track} track @param {number} target move without a seek event */
  function align(track, target) {
    if (Math.abs(track.audio.currentTime - target) > 0.001) {
      track.quietSeek = true;
      track.audio.currentTime = target;
    }
  }

  /** @param {Track} track mark the selected clip on the page */
  function markCurrent(track) {
    lastUsed = track;
    for (const other of tracks)
      other.root.classList.toggle("is-current", other === track);
  }

  /**
   * Start or pause a clip. Starting one while another plays is a switch: the
   * other fades out and pauses, and this one starts at that moment, fading in.
   * @param {Track} track
   */
  function press(track) {
    markInteraction();
    markCurrent(track);
    if (!track.playable) return;
    const audio = track.audio;
    if (pendingSwitch) {
      // A switch is fading out: this press only changes where it lands.
      pendingSwitch.to = track;
      return;
    }
    if (!audio.paused) {
      audio.pause();
      return;
    }
    const other = tracks.find((t) => t !== track && !t.audio.paused);
    if (!other) {
      start(track);
      return;
    }
    pendingSwitch = { to: track };
    ramp(other, 0, () => {
      const target = pendingSwitch ? pendingSwitch.to : track;
      pendingSwitch = null;
      const position = other.audio.currentTime;
      other.audio.pause();
      other.audio.volume = other.gain;
      if (target === other || !target.playable) {
        start(other);
        return;
      }
      const at = continueAt(target, position);
      align(target, at);
      record("switch", target, other.label, { from_at: round(position, 3) });
      start(target);
    });
  }

  /**
   * Play a clip from where it stands, fading in to its matched level.
   * @param {Track} track
   */
  function start(track) {
    const audio = track.audio;
    showTrackMessage(track, "");
    window.clearInterval(track.fadeTimer);
    audio.volume = 0;
    /** @type {Promise<void> | undefined} */
    let started;
    try {
      started = audio.play();
    } catch (error) {
      audio.volume = track.gain;
      refused(track, error);
      return;
    }
    if (started) {
      started.then(
        () => ramp(track, track.gain),
        (error) => {
          audio.volume = track.gain;
          refused(track, error);
        },
      );
    } else {
      ramp(track, track.gain);
    }
  }

  /**
   * Select a clip by key: while one plays this is a switch; otherwise the
   * selected clip moves to the same moment, ready for Space.
   * @param {Track} track
   */
  function select(track) {
    if (tracks.some((t) => !t.audio.paused) || pendingSwitch) {
      if (track.audio.paused || pendingSwitch) press(track);
      return;
    }
    const previous = current();
    markInteraction();
    markCurrent(track);
    if (previous !== track && track.playable) {
      align(track, continueAt(track, previous.audio.currentTime));
      paintTrack(track);
    }
  }

  /**
   * play() was refused (F02): tell the analyst; nothing is counted as heard.
   * @param {Track} track
   * @param {unknown} error
   */
  function refused(track, error) {
    const name = error instanceof Error ? error.name : "";
    // pause() during a pending play() rejects it with AbortError: not a problem.
    if (name === "AbortError") return;
    if (name === "NotSupportedError") {
      markUnplayable(track, "format not supported");
      return;
    }
    record("rejected", track);
    report("play " + track.label, error);
    showTrackMessage(
      track,
      "The browser did not start clip " +
        track.label +
        ". Press play again; if it " +
        "keeps failing, check the sound settings or try another browser.",
    );
    paintTrack(track);
    saveSoon();
  }

  /**
   * Redraw one clip's button, time, seek bar, coverage and waveform.
   * @param {Track} track
   */
  function paintTrack(track) {
    const audio = track.audio;
    const end = durationOf(track);
    const position = audio.currentTime;
    const playing = !audio.paused;
    track.button.classList.toggle("is-playing", playing);
    const title = track.button.dataset.title || track.label;
    track.button.setAttribute("aria-label", (playing ? "Pause " : "Play ") + title);
    const text = track.button.querySelector(".play-text");
    if (text) text.textContent = playing ? "Pause" : "Play";
    track.time.textContent = clock(position) + " / " + clock(end);
    if (Number.isFinite(end)) track.seek.max = String(end);
    if (!track.dragging)
      track.seek.value = String(Number.isFinite(position) ? position : 0);
    track.seek.setAttribute("aria-valuetext", clock(position) + " of " + clock(end));
    const share = coverage(track);
    const goal = config.listening.min_coverage;
    const percent = Math.floor(share * 100);
    track.heardText.textContent = track.playable
      ? "Heard " +
        percent +
        "%" +
        (share >= goal ? " ✓" : " · needs " + Math.round(goal * 100) + "%")
      : "Cannot play here";
    track.heardText.classList.toggle("is-done", share >= goal);
    track.heardFill.style.width = percent + "%";
    queueWave(track);
    onTrackPaint(track);
  }

  /** @type {Record<string, string>} */
  let waveColors = {};

  /** @type {Set<Track>} */
  const waveQueue = new Set();
  let waveFrame = 0;

  /**
   * Redraw a waveform at the next frame. Drawing measures the canvas, which forces
   * a layout: done while the page starts, that layout would hold up its first input.
   * @param {Track} track
   */
  function queueWave(track) {
    waveQueue.add(track);
    if (waveFrame) return;
    waveFrame = window.requestAnimationFrame(() => {
      waveFrame = 0;
      const due = Array.from(waveQueue);
      waveQueue.clear();
      due.forEach(drawWave);
    });
  }

  /**
   * Draw the build-time peaks, heard parts in the accent colour, and the playhead.
   * @param {Track} track
   */
  function drawWave(track) {
    const canvas = track.canvas;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (!width || !height) return;
    const ratio = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(width * ratio))
      canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) {
      canvas.height = Math.round(height * ratio);
    }
    const context = canvas.getContext("2d");
    if (!context) return;
    if (!waveColors.base) {
      const style = getComputedStyle(canvas);
      waveColors = {
        base: style.getPropertyValue("--wave-base").trim() || "#c7cdd8",
        heard: style.getPropertyValue("--wave-heard").trim() || "#3d5fd9",
        head: style.getPropertyValue("--wave-head").trim() || "#d9480f",
        mark: style.getPropertyValue("--wave-mark").trim() || "#0c8599",
        loop: style.getPropertyValue("--wave-loop").trim() || "rgba(12,133,153,0.18)",
      };
    }
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const peaks = track.clip.peaks.length ? track.clip.peaks : [0.35];
    const end = durationOf(track);
    const bars = Math.max(1, Math.floor(width / 3));
    let cursor = 0;
    for (let i = 0; i < bars; i += 1) {
      const from = Math.floor((i * peaks.length) / bars);
      const to = Math.max(from + 1, Math.floor(((i + 1) * peaks.length) / bars));
      let peak = 0;
      for (let j = from; j < to && j < peaks.length; j += 1)
        peak = Math.max(peak, peaks[j]);
      const middle = ((i + 0.5) / bars) * (Number.isFinite(end) ? end : 0);
      while (cursor < track.intervals.length && track.intervals[cursor][1] < middle)
        cursor += 1;
      const heard =
        cursor < track.intervals.length && track.intervals[cursor][0] <= middle;
      const barHeight = Math.max(2, Math.min(1, peak) * (height - 6));
      context.fillStyle = heard ? waveColors.heard : waveColors.base;
      context.fillRect(i * 3, (height - barHeight) / 2, 2, barHeight);
    }
    if (Number.isFinite(end) && end > 0 && (loop || loopStart !== null)) {
      const from = loop ? loop.start : /** @type {number} */ (loopStart);
      const to = loop ? loop.end : from;
      context.fillStyle = waveColors.loop;
      const left = Math.round((Math.min(from, end) / end) * (width - 2));
      const right = Math.round((Math.min(to, end) / end) * (width - 2));
      context.fillRect(left, 0, Math.max(2, right - left + 2), height);
    }
    if (Number.isFinite(end) && end > 0) {
      for (const mark of trackMarks(track)) {
        context.fillStyle = waveColors.mark;
        context.fillRect(Math.round((mark / end) * (width - 2)), 0, 2, 6);
      }
      const position = track.audio.currentTime;
      if (Number.isFinite(position)) {
        context.fillStyle = waveColors.head;
        context.fillRect(
          Math.round(Math.min(1, position / end) * (width - 2)),
          0,
          2,
          height,
        );
      }
    }
  }

  /** @type {(track: Track) => number[]} times drawn as marks on the waveform */
  let trackMarks = () => [];

  let animating = false;

  /** Keep the playhead moving smoothly while something plays. */
  function animate() {
    if (animating) return;
    animating = true;
    const frame = () => {
      const playing = tracks.filter((t) => !t.audio.paused);
      playing.forEach(keepInLoop);
      playing.forEach(paintTrack);
      if (playing.length) {
        window.requestAnimationFrame(frame);
      } else {
        animating = false;
      }
    };
    window.requestAnimationFrame(frame);
  }

  /** @param {Track} track @returns {string} the matching gain, for the page */
  function gainLabel(track) {
    if (config.task.kind === "caption") return "";
    if (!config.listening.loudness_match) return "Level as recorded";
    const db = finiteOr(track.clip.gain_db, 0);
    return db < -0.05
      ? "Level " + db.toFixed(1) + " dB (loudness matched)"
      : "Level 0 dB (loudness matched)";
  }

  /**
   * Click or drag on the waveform seeks to the point under the pointer, measured
   * on the drawn waveform (the invisible range input over it has its own inset).
   * @param {Track} track
   */
  function bindWaveSeek(track) {
    const seek = track.seek;
    /** @param {PointerEvent} event */
    const to = (event) => {
      const box = track.canvas.getBoundingClientRect();
      const end = durationOf(track);
      if (!box.width || !Number.isFinite(end) || !track.playable) return;
      const share = Math.max(0, Math.min(1, (event.clientX - box.left) / box.width));
      track.audio.currentTime = share * end;
      paintTrack(track);
    };
    seek.addEventListener("pointerdown", (event) => {
      if (event.button !== 0 || seek.disabled) return;
      // Cancelling keeps the range input from jumping to its own idea of the point.
      event.preventDefault();
      markInteraction();
      markCurrent(track);
      seek.focus();
      track.dragging = true;
      seek.setPointerCapture(event.pointerId);
      to(event);
    });
    seek.addEventListener("pointermove", (event) => {
      if (track.dragging && seek.hasPointerCapture(event.pointerId)) to(event);
    });
    const release = () => {
      track.dragging = false;
      paintTrack(track);
    };
    seek.addEventListener("pointerup", release);
    seek.addEventListener("pointercancel", release);
  }

  /**
   * At the loop's end, go back to its start (the heard part is counted first).
   * @param {Track} track
   */
  function keepInLoop(track) {
    if (!loop || track.audio.paused || track.audio.seeking) return;
    const position = track.audio.currentTime;
    if (!(position >= loop.end)) return;
    step(track);
    record("loop", track, undefined, { start: loop.start, end: loop.end });
    align(track, loop.start);
  }

  /** L: mark the loop start at the playhead, then its end; a third press clears. */
  function toggleLoop() {
    const track = current();
    if (!track) return;
    markInteraction();
    const position = round(track.audio.currentTime, 3);
    if (loop) {
      loop = null;
      loopStart = null;
      record("loop_clear", track);
    } else if (loopStart === null) {
      loopStart = position;
      record("loop_start", track);
    } else {
      const low = Math.min(loopStart, position);
      const high = Math.max(loopStart, position);
      if (high - low < MIN_LOOP_S) {
        notify("A loop needs at least " + MIN_LOOP_S + " s: move on, then press L.");
        return;
      }
      loop = { start: low, end: high };
      loopStart = null;
      record("loop_set", track, undefined, { start: low, end: high });
      for (const other of tracks) if (!other.audio.paused) keepInLoop(other);
    }
    paintLoop();
    saveSoon();
  }

  function clearLoop() {
    if (loop || loopStart !== null) {
      if (!loop) loopStart = null;
      else toggleLoop();
    }
    paintLoop();
  }

  /** Show the loop state and redraw the waveforms with the region shaded. */
  function paintLoop() {
    const box = document.querySelector('[data-testid="loop-state"]');
    if (box instanceof HTMLElement) {
      delete box.dataset.start;
      delete box.dataset.end;
      delete box.dataset.pending;
      if (loop) {
        box.textContent =
          "Looping " + clockTenths(loop.start) + "–" + clockTenths(loop.end);
        box.dataset.start = String(loop.start);
        box.dataset.end = String(loop.end);
      } else if (loopStart !== null) {
        box.textContent =
          "Loop from " + clockTenths(loopStart) + ": press L again at its end";
        box.dataset.pending = String(loopStart);
      } else {
        box.textContent = "No loop";
      }
    }
    const clear = document.querySelector('[data-testid="loop-clear"]');
    if (clear instanceof HTMLButtonElement)
      clear.disabled = !loop && loopStart === null;
    tracks.forEach(queueWave);
  }

  /** @param {EventTarget | null} node @returns {boolean} typing goes there */
  function isTextEntry(node) {
    if (node instanceof HTMLTextAreaElement || node instanceof HTMLSelectElement)
      return true;
    if (node instanceof HTMLElement && node.isContentEditable) return true;
    return (
      node instanceof HTMLInputElement &&
      !["checkbox", "radio", "range", "button", "submit", "reset"].includes(node.type)
    );
  }

  /** @param {EventTarget | null} node @returns {boolean} Space or arrows act there */
  function ownsKeys(node) {
    return (
      node instanceof HTMLInputElement ||
      node instanceof HTMLButtonElement ||
      node instanceof HTMLAnchorElement ||
      (node instanceof HTMLElement && node.tagName === "SUMMARY")
    );
  }

  /** Player keys: 1/2/3 select, Space plays, arrows seek, L loops. */
  function bindPlayerKeys() {
    document.addEventListener("keydown", (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented)
        return;
      const target = event.target;
      if (isTextEntry(target)) return;
      const index = ["1", "2", "3"].indexOf(event.key);
      if (index >= 0) {
        if (index < tracks.length) {
          event.preventDefault();
          select(tracks[index]);
        }
        return;
      }
      if ((event.key === "l" || event.key === "L") && hasLoopControls()) {
        event.preventDefault();
        toggleLoop();
        return;
      }
      if (ownsKeys(target)) return;
      if (event.key === " ") {
        event.preventDefault();
        press(current());
      } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
        event.preventDefault();
        nudge(event.key === "ArrowLeft" ? -SEEK_STEP_S : SEEK_STEP_S);
      }
    });
  }

  function hasLoopControls() {
    return Boolean(document.querySelector('[data-testid="loop-toggle"]'));
  }

  /**
   * Wire one player section to its audio element and the ledger.
   * @param {ClipConfig} clip
   * @param {Record<string, any>} saved this clip's part of the draft ledger
   * @returns {Track}
   */
  function makeTrack(clip, saved) {
    const root = hook(document, "player-" + clip.label);
    const audio = hook(root, "audio-" + clip.label);
    const button = hook(root, "play-" + clip.label);
    const seek = hook(root, "seek-" + clip.label);
    const canvas = root.querySelector("canvas");
    if (
      !(audio instanceof HTMLAudioElement) ||
      !(button instanceof HTMLButtonElement) ||
      !(seek instanceof HTMLInputElement) ||
      !(canvas instanceof HTMLCanvasElement)
    ) {
      throw new Error("player " + clip.label + " is incomplete");
    }
    /** @type {Track} */
    const track = {
      clip: clip,
      label: clip.label,
      audio: audio,
      button: button,
      seek: seek,
      time: hook(root, "time-" + clip.label),
      heardText: hook(root, "coverage-" + clip.label),
      heardFill: /** @type {HTMLElement} */ (root.querySelector(".heard-fill")),
      message: hook(root, "player-message-" + clip.label),
      canvas: canvas,
      intervals: restoreIntervals(saved.intervals),
      plays: Math.max(0, Math.floor(finiteOr(saved.plays, 0))),
      listenSeconds: Math.max(0, finiteOr(saved.listen_seconds, 0)),
      playable: true,
      error: null,
      last: null,
      running: false,
      quietSeek: false,
      dragging: false,
      resume: Math.max(0, finiteOr(saved.position, 0)),
      gain: config.listening.loudness_match
        ? Math.min(1, Math.pow(10, finiteOr(clip.gain_db, 0) / 20))
        : 1,
      fadeTimer: 0,
      root: root,
    };
    audio.volume = track.gain;
    const gainText = root.querySelector('[data-testid="gain-' + clip.label + '"]');
    if (gainText instanceof HTMLElement) gainText.textContent = gainLabel(track);
    const goal = root.querySelector(".heard-goal");
    if (goal instanceof HTMLElement)
      goal.style.left = config.listening.min_coverage * 100 + "%";

    audio.addEventListener("play", () => {
      // Only one clip sounds at a time, however playback was started.
      for (const other of tracks)
        if (other !== track && !other.audio.paused) other.audio.pause();
      record("play", track);
      paintTrack(track);
    });
    audio.addEventListener("playing", () => {
      // F02: listening starts counting here, never at the press. After a stall
      // the event fires again within the same run: not a new play.
      if (!track.running) {
        track.plays += 1;
        record("playing", track);
      }
      track.running = true;
      track.last = null;
      step(track);
      paintTrack(track);
      animate();
      saveSoon();
    });
    audio.addEventListener("timeupdate", () => {
      step(track);
      keepInLoop(track);
      paintTrack(track);
      refreshGate();
    });
    audio.addEventListener("waiting", () => {
      step(track);
      track.last = null;
    });
    audio.addEventListener("pause", () => {
      step(track);
      track.running = false;
      track.last = null;
      record("pause", track);
      paintTrack(track);
      refreshGate();
      saveNow();
    });
    audio.addEventListener("ended", () => {
      step(track);
      track.running = false;
      track.last = null;
      record("ended", track);
      if (loop && track.playable) {
        // The loop reaches the end of the clip: go round again.
        record("loop", track, undefined, { start: loop.start, end: loop.end });
        align(track, loop.start);
        start(track);
      }
      paintTrack(track);
      refreshGate();
      saveNow();
    });
    audio.addEventListener("seeking", () => {
      // The position already jumped: the step to it is not heard.
      track.last = null;
      if (track.quietSeek) {
        track.quietSeek = false;
      } else {
        record("seek", track);
      }
      paintTrack(track);
    });
    audio.addEventListener("seeked", () => {
      step(track);
      paintTrack(track);
      saveSoon();
    });
    audio.addEventListener("loadedmetadata", () => {
      if (track.resume > 0 && track.resume < finiteOr(audio.duration, Infinity)) {
        track.quietSeek = true;
        audio.currentTime = track.resume;
      }
      track.resume = 0;
      paintTrack(track);
    });
    audio.addEventListener("durationchange", () => paintTrack(track));
    audio.addEventListener("error", () => {
      const error = audio.error;
      const reason = error
        ? MEDIA_ERRORS[error.code] || "media error " + error.code
        : "media error";
      markUnplayable(
        track,
        error && error.message ? reason + ": " + error.message : reason,
      );
    });

    button.addEventListener("click", () => press(track));
    bindWaveSeek(track);
    seek.addEventListener("input", () => {
      markInteraction();
      track.dragging = true;
      markCurrent(track);
      const target = Number(seek.value);
      if (Number.isFinite(target)) audio.currentTime = target;
    });
    seek.addEventListener("change", () => {
      track.dragging = false;
      paintTrack(track);
    });

    // Keys on the seek bar move in useful steps, not the 0.1 s of the input's step.
    seek.addEventListener("keydown", (event) => {
      const steps = {
        ArrowLeft: -5,
        ArrowDown: -5,
        ArrowRight: 5,
        ArrowUp: 5,
        PageDown: -15,
        PageUp: 15,
      };
      const by = steps[/** @type {keyof typeof steps} */ (event.key)];
      if (!by) return;
      event.preventDefault();
      markCurrent(track);
      nudge(by);
    });

    // The media may have loaded, or failed, before this script ran.
    if (audio.error) window.setTimeout(() => audio.dispatchEvent(new Event("error")));
    else if (audio.readyState >= 1)
      window.setTimeout(() => audio.dispatchEvent(new Event("loadedmetadata")));

    // F06: a format the browser says it cannot play never gets a chance to load.
    const extension = (clip.src.split(".").pop() || "").toLowerCase();
    const type = MEDIA_TYPES[/** @type {keyof typeof MEDIA_TYPES} */ (extension)];
    if (type && audio.canPlayType(type) === "") {
      window.setTimeout(() =>
        markUnplayable(track, "." + extension + " files are not supported"),
      );
    }
    return track;
  }

  /**
   * @param {unknown} value saved intervals
   * @returns {Array<[number, number]>}
   */
  function restoreIntervals(value) {
    /** @type {Array<[number, number]>} */
    let list = [];
    if (!Array.isArray(value)) return list;
    for (const pair of value) {
      if (Array.isArray(pair) && pair.length === 2) {
        list = addInterval(list, finiteOr(pair[0], 0), finiteOr(pair[1], 0));
      }
    }
    return list;
  }

  /**
   * @param {unknown} value saved events
   * @returns {LedgerEvent[]}
   */
  function restoreEvents(value) {
    /** @type {LedgerEvent[]} */
    const list = [];
    if (!Array.isArray(value)) return list;
    for (const item of value.slice(-EVENT_CAP)) {
      if (!isObject(item) || typeof item.type !== "string") continue;
      /** @type {LedgerEvent} */
      const event = {
        type: item.type,
        at: finiteOr(item.at, 0),
        t: finiteOr(item.t, 0),
      };
      if (typeof item.label === "string") event.label = item.label;
      if (typeof item.from === "string") event.from = item.from;
      list.push(event);
    }
    return list;
  }

  /** Global shortcuts that never clash with typing: Alt plus a letter. */
  function bindShortcuts(/** @type {Record<string, () => void>} */ extra) {
    /** @type {Record<string, () => void>} */
    const keys = Object.assign(
      {
        KeyP: () => press(current()),
        KeyJ: () => nudge(-SEEK_STEP_S),
        KeyL: () => nudge(SEEK_STEP_S),
      },
      extra,
    );
    document.addEventListener("keydown", (event) => {
      if (!event.altKey || event.ctrlKey || event.metaKey) return;
      const action = keys[event.code];
      if (!action) return;
      // Alt+letter types accented letters on macOS; the shortcut wins.
      event.preventDefault();
      action();
    });
  }

  /** @param {number} seconds move the selected clip's playhead */
  function nudge(seconds) {
    const track = current();
    if (!track || !track.playable) return;
    const end = durationOf(track);
    const target = Math.max(0, track.audio.currentTime + seconds);
    track.audio.currentTime = Number.isFinite(end) ? Math.min(target, end) : target;
  }

  /** @param {Record<string, any> | null} saved the draft's loop */
  function bindLoop(saved) {
    const toggle = document.querySelector('[data-testid="loop-toggle"]');
    const clear = document.querySelector('[data-testid="loop-clear"]');
    if (!(toggle instanceof HTMLButtonElement)) return;
    if (saved) {
      const low = finiteOr(saved.start, NaN);
      const high = finiteOr(saved.end, NaN);
      if (high - low >= MIN_LOOP_S) loop = { start: low, end: high };
    }
    toggle.addEventListener("click", toggleLoop);
    if (clear instanceof HTMLButtonElement) clear.addEventListener("click", clearLoop);
    paintLoop();
  }

  // ---- task page: anomalies ---------------------------------------------------

  /** @param {boolean} saved whether the draft asked to recycle the task */
  function bindRecycle(saved) {
    const box = document.querySelector('[data-testid="recycle"]');
    if (!(box instanceof HTMLInputElement)) return;
    recycle = saved;
    box.checked = saved;
    box.addEventListener("change", () => {
      recycle = box.checked;
      changed();
    });
  }

  /** @param {Record<string, any>} saved flags from the draft */
  function bindAnomalies(saved) {
    for (const kind of config.anomaly_kinds) {
      const box = hook(document, "anomaly-" + kind.value);
      const note = hook(document, "anomaly-note-" + kind.value);
      if (!(box instanceof HTMLInputElement) || !(note instanceof HTMLTextAreaElement))
        continue;
      const flag = saved[kind.value];
      if (isObject(flag) && typeof flag.flagged_at === "string") {
        flags[kind.value] = {
          note: typeof flag.note === "string" ? flag.note : "",
          flagged_at: flag.flagged_at,
        };
        box.checked = true;
        note.value = flags[kind.value].note;
        note.hidden = false;
      }
      box.addEventListener("change", () => {
        if (box.checked) {
          flags[kind.value] = { note: note.value, flagged_at: isoLocal(new Date()) };
          note.hidden = false;
          note.focus();
        } else {
          delete flags[kind.value];
          note.hidden = true;
        }
        changed();
      });
      note.addEventListener("input", () => {
        const flag = flags[kind.value];
        if (flag) flag.note = note.value;
        changed();
      });
    }
  }

  /** @returns {Array<{kind: string, note: string, flagged_at: string}>} */
  function anomalyList() {
    return config.anomaly_kinds
      .filter((kind) => flags[kind.value])
      .map((kind) => ({
        kind: kind.value,
        note: flags[kind.value].note,
        flagged_at: flags[kind.value].flagged_at,
      }));
  }

  // ---- task page: radios and checkboxes -----------------------------------------

  /** @param {ParentNode} root @param {string} name @returns {string | null} */
  function checkedValue(root, name) {
    const hit = inputs(root, "input[type=radio]").find(
      (i) => i.name === name && i.checked,
    );
    return hit ? hit.value : null;
  }

  /** @param {ParentNode} root @param {string} name @param {unknown} value */
  function setChecked(root, name, value) {
    for (const input of inputs(root, "input[type=radio]")) {
      if (input.name === name)
        input.checked = value !== null && input.value === String(value);
    }
  }

  /** @param {ParentNode} root @param {string} name @returns {string[]} */
  function checkedValues(root, name) {
    return inputs(root, "input[type=checkbox]")
      .filter((i) => i.name === name && i.checked)
      .map((i) => i.value);
  }

  /** @param {ParentNode} root @param {string} name @param {string[]} values */
  function setCheckedValues(root, name, values) {
    for (const input of inputs(root, "input[type=checkbox]")) {
      if (input.name === name) input.checked = values.includes(input.value);
    }
  }

  /** @param {string | null} value rating radio value as an answer */
  function ratingValue(value) {
    if (value === null || value === "na") return value;
    const number = Number(value);
    return Number.isInteger(number) ? number : null;
  }

  // ---- task page: preference rubric ---------------------------------------------

  /**
   * Wire the rubric form: answers are read from the controls, restored into them.
   * @param {Record<string, any>} saved answers from the draft
   */
  function bindRubric(saved) {
    const form = hook(document, "rubric");
    const rated = config.clips.map((c) => c.label).filter((label) => label !== "X");

    /** @param {RubricItem} item */
    const box = (item) => hook(form, "item-" + item.id);

    collectAnswers = () => {
      /** @type {Record<string, any>} */
      const answers = {};
      for (const item of config.rubric) {
        const root = box(item);
        if (item.type === "preference" || item.type === "identify") {
          answers[item.id] = checkedValue(root, item.id);
        } else if (item.type === "elements") {
          answers[item.id] = Object.fromEntries(
            rated.map((label) => [label, checkedValues(root, item.id + "." + label)]),
          );
        } else if (item.type === "rating" && item.per_clip) {
          answers[item.id] = Object.fromEntries(
            rated.map((label) => [
              label,
              ratingValue(checkedValue(root, item.id + "." + label)),
            ]),
          );
        } else if (item.type === "rating") {
          answers[item.id] = ratingValue(checkedValue(root, item.id));
        } else if (item.type === "text") {
          const area = root.querySelector("textarea");
          answers[item.id] = area ? area.value : "";
        } else if (item.type === "tags") {
          answers[item.id] = checkedValues(root, item.id);
        } else if (item.type === "confirm") {
          answers[item.id] = checkedValues(root, item.id).length > 0;
        }
      }
      return answers;
    };

    answerProblems = () => {
      const answers = collectAnswers();
      /** @type {string[]} */
      const problems = [];
      for (const item of config.rubric) {
        const value = answers[item.id];
        const name = "“" + item.label + "”";
        // An unticked element means the clip misses it: nothing to require.
        if (item.type === "elements") continue;
        if (item.type === "text") {
          const need = item.required ? Math.max(1, item.min_words) : 0;
          const words = countWords(value);
          if (words < need) {
            problems.push(
              need > 1
                ? name + ": write at least " + need + " words (now " + words + ")"
                : name + ": write an answer",
            );
          }
          continue;
        }
        if (!item.required) continue;
        if (item.type === "rating" && item.per_clip) {
          const missing = rated.filter((label) => value[label] === null);
          if (missing.length)
            problems.push(name + ": rate clip " + missing.join(" and "));
        } else if (item.type === "tags") {
          if (!value.length) problems.push(name + ": pick at least one");
        } else if (item.type === "confirm") {
          if (value !== true) problems.push(name + ": tick to confirm");
        } else if (value === null) {
          problems.push(name + ": choose an answer");
        }
      }
      return problems;
    };

    // Restore, then listen.
    for (const item of config.rubric) {
      const root = box(item);
      const value = saved[item.id];
      if (item.type === "rating" && item.per_clip && isObject(value)) {
        for (const label of rated)
          setChecked(root, item.id + "." + label, value[label] ?? null);
      } else if (item.type === "elements" && isObject(value)) {
        for (const label of rated)
          setCheckedValues(root, item.id + "." + label, stringList(value[label]));
      } else if (
        item.type === "preference" ||
        item.type === "rating" ||
        item.type === "identify"
      ) {
        setChecked(root, item.id, value ?? null);
      } else if (item.type === "text" && typeof value === "string") {
        const area = root.querySelector("textarea");
        if (area) area.value = value;
      } else if (item.type === "tags") {
        setCheckedValues(root, item.id, stringList(value));
      } else if (item.type === "confirm") {
        setCheckedValues(root, item.id, value === true ? ["yes"] : []);
      }
    }
    const paintCounts = () => {
      for (const item of config.rubric) {
        if (item.type !== "text") continue;
        const root = box(item);
        const area = root.querySelector("textarea");
        const count = root.querySelector(".count");
        if (!area || !(count instanceof HTMLElement)) continue;
        const words = countWords(area.value);
        const need = item.min_words;
        count.textContent =
          words +
          (words === 1 ? " word" : " words") +
          (need ? " · at least " + need : "");
        count.classList.toggle("is-ok", words >= need && words > 0);
      }
    };
    paintCounts();
    form.addEventListener("input", () => {
      paintCounts();
      changed();
    });
    form.addEventListener("change", changed);
  }

  // ---- task page: caption -------------------------------------------------------

  /**
   * Wire the caption task: text with a word range, callouts, summary.
   * @param {Record<string, any>} saved answers from the draft
   */
  function bindCaption(saved) {
    const captions = /** @type {CaptionConfig} */ (config.captions);
    const track = tracks[0];
    const caption = /** @type {HTMLTextAreaElement} */ (hook(document, "caption"));
    const wordCount = hook(document, "word-count");
    const list = hook(document, "callouts");
    const empty = hook(document, "callouts-empty");
    const message = hook(document, "callout-message");
    const addButton = hook(document, "add-callout");
    const playhead = hook(document, "playhead");
    const summaryForm = hook(document, "summary");
    const template = document.getElementById("callout-template");
    if (!(template instanceof HTMLTemplateElement))
      throw new Error("no callout template");

    /** @type {Callout[]} */
    let callouts = [];
    let nextKey = 1;
    const styleRules = captions.style_rules || [];
    const styleBox = hook(document, "style-warnings");
    const pending = document.querySelector('[data-testid="suggestions-pending"]');

    /** The caption's style warnings, one line per rule, each hit a button. */
    const paintStyle = () => {
      const hits = styleCheck(caption.value, styleRules);
      const list = styleBox.querySelector("ul");
      styleBox.hidden = hits.length === 0;
      styleBox.dataset.count = String(hits.length);
      if (!list) return;
      list.replaceChildren(
        ...styleRules
          .filter((rule) => hits.some((h) => h.rule === rule.id))
          .map((rule) => {
            const item = document.createElement("li");
            item.className = "style-rule";
            item.dataset.rule = rule.id;
            const label = document.createElement("strong");
            label.textContent = rule.label + ": ";
            item.append(label);
            for (const hit of hits.filter((h) => h.rule === rule.id)) {
              const button = document.createElement("button");
              button.type = "button";
              button.className = "style-hit";
              button.dataset.testid = "style-hit";
              button.dataset.rule = hit.rule;
              button.dataset.index = String(hit.index);
              button.dataset.start = String(hit.start);
              button.dataset.end = String(hit.end);
              button.textContent = hit.text;
              button.setAttribute(
                "aria-label",
                rule.label + ": " + hit.text + ", select it",
              );
              button.addEventListener("click", () => {
                caption.focus();
                caption.setSelectionRange(hit.start, hit.end);
              });
              item.append(button, " ");
            }
            const hint = document.createElement("span");
            hint.className = "style-hint";
            hint.textContent = rule.hint;
            item.append(hint);
            return item;
          }),
      );
    };

    /**
     * One line of warnings under a callout's notes.
     * @param {HTMLElement} box
     * @param {string} text
     */
    const paintNoteStyle = (box, text) => {
      const hits = styleCheck(text, styleRules);
      box.hidden = hits.length === 0;
      box.dataset.count = String(hits.length);
      box.textContent = styleRules
        .filter((rule) => hits.some((h) => h.rule === rule.id))
        .map(
          (rule) =>
            rule.label +
            ": " +
            hits
              .filter((h) => h.rule === rule.id)
              .map((h) => "“" + h.text + "”")
              .join(", "),
        )
        .join(" · ");
    };

    /** How many suggested callouts are still as the build suggested them. */
    const paintPending = () => {
      if (!(pending instanceof HTMLElement)) return;
      const waiting = callouts.filter(
        (c) => c.origin === "suggested" && c.suggestion === "untouched",
      ).length;
      pending.dataset.count = String(waiting);
      pending.textContent = waiting
        ? waiting +
          (waiting === 1 ? " suggested callout" : " suggested callouts") +
          " from the track's structure to confirm, edit or remove."
        : "Every suggested callout has been confirmed, edited or removed.";
    };

    const paintWords = () => {
      const words = countWords(caption.value);
      const inRange = words >= captions.min_words && words <= captions.max_words;
      wordCount.textContent =
        words +
        (words === 1 ? " word" : " words") +
        " · target " +
        captions.min_words +
        "–" +
        captions.max_words +
        (inRange
          ? " ✓"
          : words < captions.min_words
            ? " · " + (captions.min_words - words) + " to go"
            : " · " + (words - captions.max_words) + " too many");
      wordCount.dataset.inRange = String(inRange);
      wordCount.classList.toggle("is-ok", inRange);
      wordCount.classList.toggle("is-over", words > captions.max_words);
    };

    /** @param {string} text */
    const say = (text) => {
      message.textContent = text;
      message.hidden = !text;
    };

    /**
     * Why ``start`` cannot be used, or "" when it can.
     * @param {number} start
     * @param {Callout | null} except the callout being edited
     */
    const refusal = (start, except) => {
      const end = durationOf(track);
      if (!Number.isFinite(start)) return "Type a time as m:ss.s, for example 1:05.5.";
      if (start < 0 || (Number.isFinite(end) && start > end + 0.05)) {
        return (
          "Time " +
          clockTenths(start) +
          " is outside the track (0:00.0 to " +
          clockTenths(end) +
          ")."
        );
      }
      const clash = callouts.find(
        (c) => c !== except && Math.abs(c.start - start) < 0.05,
      );
      if (clash) return "There is already a callout at " + clockTenths(start) + ".";
      return "";
    };

    /** Keep the list in time order, in data and on screen. */
    const sortCallouts = () => {
      callouts.sort((a, b) => a.start - b.start);
      const active = document.activeElement;
      callouts.forEach((callout, index) => {
        const node = callout.node;
        if (node && list.children[index] !== node)
          list.insertBefore(node, list.children[index] || null);
      });
      if (active instanceof HTMLElement && active !== document.activeElement)
        active.focus();
      empty.hidden = callouts.length > 0;
    };

    /**
     * @param {HTMLElement} field a .tag-field
     * @param {string[]} values the callout's list, changed in place
     * @param {() => void} onEdit called when the analyst adds or removes a tag
     */
    const bindTags = (field, values, onEdit) => {
      const input = field.querySelector("input");
      const chips = field.querySelector(".chip-list");
      if (!input || !chips) return;
      const paint = () => {
        chips.replaceChildren(
          ...values.map((value) => {
            const chip = document.createElement("li");
            chip.className = "chip";
            const text = document.createElement("span");
            text.textContent = value;
            const remove = document.createElement("button");
            remove.type = "button";
            remove.className = "chip-remove";
            remove.textContent = "×";
            remove.setAttribute("aria-label", "Remove " + value);
            remove.addEventListener("click", () => {
              values.splice(values.indexOf(value), 1);
              paint();
              onEdit();
              changed();
              input.focus();
            });
            chip.append(text, remove);
            return chip;
          }),
        );
      };
      const add = () => {
        const value = input.value.trim().replace(/,$/, "").trim();
        input.value = "";
        if (!value) return;
        if (!values.some((v) => v.toLowerCase() === value.toLowerCase())) {
          values.push(value);
          paint();
          onEdit();
          changed();
        }
      };
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" || event.key === ",") {
          event.preventDefault();
          add();
        }
      });
      // Picking from the datalist replaces the text in one go.
      input.addEventListener("input", (event) => {
        if (event instanceof InputEvent && event.inputType === "insertReplacementText")
          add();
      });
      input.addEventListener("blur", add);
      paint();
    };

    /** @param {Callout} callout */
    const render = (callout) => {
      const fragment = /** @type {DocumentFragment} */ (
        template.content.cloneNode(true)
      );
      const node = /** @type {HTMLElement} */ (fragment.firstElementChild);
      const seekButton = hook(node, "callout-seek");
      const start = /** @type {HTMLInputElement} */ (hook(node, "callout-start"));
      const section = /** @type {HTMLSelectElement} */ (hook(node, "callout-section"));
      const notes = /** @type {HTMLTextAreaElement} */ (hook(node, "callout-notes"));
      const remove = hook(node, "callout-remove");
      const badge = hook(node, "callout-suggested");
      const confirm = hook(node, "callout-confirm");
      const noteStyle = hook(node, "callout-style");
      const paintSuggestion = () => {
        node.dataset.origin = callout.origin;
        node.classList.toggle(
          "is-suggested",
          callout.origin === "suggested" && callout.suggestion === "untouched",
        );
        if (callout.origin !== "suggested") {
          badge.hidden = true;
          delete node.dataset.suggestion;
          return;
        }
        node.dataset.suggestion = callout.suggestion;
        badge.hidden = false;
        const text = /** @type {HTMLElement} */ (
          badge.querySelector(".suggested-text")
        );
        const from = callout.suggestedLabel
          ? "“" + callout.suggestedLabel + "” at " + clockTenths(callout.suggestedStart)
          : "a boundary at " + clockTenths(callout.suggestedStart);
        const state =
          callout.suggestion === "untouched"
            ? "Suggested"
            : callout.suggestion === "confirmed"
              ? "Confirmed"
              : "Edited";
        let note = "";
        if (!callout.known) note = " (not in this project's section types)";
        else if (!callout.section && callout.suggestion === "untouched")
          note = " (unlabelled: choose a section)";
        text.textContent = state + " from the structure file: " + from + note;
        badge.classList.toggle("is-unknown", !callout.known);
        confirm.hidden = callout.suggestion !== "untouched";
      };
      /** The analyst changed a suggested callout: it counts as edited. */
      const touched = () => {
        if (callout.origin === "suggested" && callout.suggestion !== "edited") {
          callout.suggestion = "edited";
          paintSuggestion();
          paintPending();
        }
      };
      callout.touched = touched;
      confirm.addEventListener("click", () => {
        markInteraction();
        callout.suggestion = "confirmed";
        paintSuggestion();
        paintPending();
        changed();
      });
      paintSuggestion();
      const paintStart = () => {
        seekButton.textContent = "▶ " + clockTenths(callout.start);
        seekButton.setAttribute("aria-label", "Go to " + clockTenths(callout.start));
        remove.setAttribute(
          "aria-label",
          "Remove callout at " + clockTenths(callout.start),
        );
        start.value = clockTenths(callout.start);
        node.dataset.start = String(callout.start);
      };
      paintStart();
      start.setAttribute("aria-label", "Start time of callout (m:ss.s)");
      if (
        callout.section &&
        !Array.from(section.options).some((o) => o.value === callout.section)
      ) {
        section.add(new Option(callout.section, callout.section));
      }
      section.value = callout.section;
      section.setAttribute("aria-label", "Section type");
      notes.value = callout.notes;
      notes.setAttribute("aria-label", "Notes");

      seekButton.addEventListener("click", () => {
        markInteraction();
        if (track.playable) track.audio.currentTime = callout.start;
        lastUsed = track;
      });
      start.addEventListener("change", () => {
        const value = Math.round(parseClock(start.value) * 10) / 10;
        const why = refusal(value, callout);
        if (why) {
          say(why);
          paintStart();
          return;
        }
        say("");
        if (value !== callout.start) touched();
        callout.start = value;
        paintStart();
        sortCallouts();
        paintMarks();
        changed();
      });
      start.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          start.dispatchEvent(new Event("change"));
        }
      });
      section.addEventListener("change", () => {
        callout.section = section.value;
        touched();
        changed();
      });
      notes.addEventListener("input", () => {
        callout.notes = notes.value;
        paintNoteStyle(noteStyle, notes.value);
        touched();
        changed();
      });
      paintNoteStyle(noteStyle, notes.value);
      remove.addEventListener("click", () => {
        callouts = callouts.filter((c) => c !== callout);
        node.remove();
        sortCallouts();
        paintMarks();
        paintPending();
        changed();
      });
      for (const field of Array.from(node.querySelectorAll(".tag-field"))) {
        if (!(field instanceof HTMLElement)) continue;
        bindTags(
          field,
          field.dataset.tags === "vibes" ? callout.vibes : callout.instruments,
          touched,
        );
      }
      callout.node = node;
      list.append(node);
    };

    /**
     * Add a callout at ``start`` unless the time is refused.
     * @param {number} start
     * @param {boolean} keepFocus from a shortcut: the analyst may be mid-sentence
     */
    const addCallout = (start, keepFocus) => {
      markInteraction();
      const at = Math.round(start * 10) / 10;
      const why = refusal(at, null);
      if (why) {
        say(why);
        return;
      }
      say("");
      const callout = newCallout({ start: at });
      callouts.push(callout);
      render(callout);
      sortCallouts();
      paintMarks();
      changed();
      const node = callout.node;
      if (node && !keepFocus) {
        node.scrollIntoView({ block: "nearest" });
        hook(node, "callout-section").focus({ preventScroll: true });
      }
    };

    /**
     * A callout from saved or suggested data (start already checked).
     * @param {Record<string, any>} item
     * @returns {Callout}
     */
    function newCallout(item) {
      const suggested = item.origin === "suggested";
      const state = ["untouched", "confirmed", "edited"].includes(item.suggestion)
        ? item.suggestion
        : "untouched";
      return {
        key: nextKey++,
        start: finiteOr(item.start, 0),
        section: typeof item.section === "string" ? item.section : "",
        notes: typeof item.notes === "string" ? item.notes : "",
        instruments: stringList(item.instruments),
        vibes: stringList(item.vibes),
        node: null,
        origin: suggested ? "suggested" : "analyst",
        suggestion: suggested ? state : "",
        suggestedLabel:
          suggested && typeof item.suggested_label === "string"
            ? item.suggested_label
            : "",
        suggestedStart: finiteOr(item.suggested_start, finiteOr(item.start, 0)),
        known: suggested ? item.suggested_known !== false : true,
        touched: () => undefined,
      };
    }

    const paintMarks = () => queueWave(track);
    trackMarks = () => callouts.map((c) => c.start);
    onTrackPaint = () => {
      playhead.textContent = clockTenths(track.audio.currentTime);
    };

    // Summary: checkbox chips (free entry adds more) and scales.
    /** @param {SummaryField} field @param {string} value */
    const addSummaryChip = (field, value) => {
      const root = hook(summaryForm, "summary-" + field.id);
      const existing = inputs(root, "input[type=checkbox]").find(
        (i) => i.value.toLowerCase() === value.toLowerCase(),
      );
      if (existing) {
        existing.checked = true;
        return;
      }
      const label = document.createElement("label");
      label.className = "chip-toggle is-custom";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.name = "summary." + field.id;
      box.value = value;
      box.checked = true;
      const text = document.createElement("span");
      text.textContent = value;
      label.append(box, text);
      const chips = root.querySelector(".chips");
      if (chips) chips.append(label);
    };

    for (const field of captions.summary) {
      if (field.type !== "multi") continue;
      const root = hook(summaryForm, "summary-" + field.id);
      const other = root.querySelector(
        '[data-testid="summary-' + field.id + '-other"]',
      );
      const button = root.querySelector("[data-add-for]");
      if (!(other instanceof HTMLInputElement)) continue;
      const add = () => {
        const value = other.value.trim();
        other.value = "";
        if (!value) return;
        addSummaryChip(field, value);
        changed();
      };
      other.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          add();
        }
      });
      if (button) button.addEventListener("click", add);
    }

    const summaryAnswers = () => {
      /** @type {Record<string, any>} */
      const out = {};
      for (const field of captions.summary) {
        const root = hook(summaryForm, "summary-" + field.id);
        out[field.id] =
          field.type === "multi"
            ? checkedValues(root, "summary." + field.id)
            : ratingValue(checkedValue(root, "summary." + field.id));
      }
      return out;
    };

    collectAnswers = () => ({
      caption: caption.value,
      word_count: countWords(caption.value),
      callouts: callouts.map((c) => {
        /** @type {Record<string, any>} */
        const out = {
          start: c.start,
          section: c.section,
          notes: c.notes,
          instruments: c.instruments.slice(),
          vibes: c.vibes.slice(),
          origin: c.origin,
        };
        if (c.origin === "suggested") {
          out.suggestion = c.suggestion;
          out.suggested_label = c.suggestedLabel;
          out.suggested_start = c.suggestedStart;
          out.suggested_known = c.known;
        }
        return out;
      }),
      summary: summaryAnswers(),
    });

    answerProblems = () => {
      /** @type {string[]} */
      const problems = [];
      const words = countWords(caption.value);
      if (words < captions.min_words || words > captions.max_words) {
        problems.push(
          "Caption: write " +
            captions.min_words +
            "–" +
            captions.max_words +
            " words (now " +
            words +
            ")",
        );
      }
      const unlabelled = callouts
        .filter((c) => !c.section)
        .map((c) => clockTenths(c.start));
      if (unlabelled.length) {
        problems.push(
          "Choose a section type for the callout at " + unlabelled.join(", "),
        );
      }
      const summary = summaryAnswers();
      for (const field of captions.summary) {
        if (!field.required) continue;
        const value = summary[field.id];
        if (field.type === "multi" ? !value.length : value === null) {
          problems.push(
            "Summary “" +
              field.label +
              "”: " +
              (field.type === "multi" ? "pick at least one" : "choose a value"),
          );
        }
      }
      return problems;
    };

    // Restore, then listen.
    if (typeof saved.caption === "string") caption.value = saved.caption;
    // A draft (or a reissued task's earlier answers) has its own callouts; a task
    // opened for the first time starts from the build's suggestions, if any.
    const restored = Array.isArray(saved.callouts)
      ? saved.callouts
      : (captions.suggestions || []).map((s) => ({
          start: s.start,
          section: s.section,
          origin: "suggested",
          suggestion: "untouched",
          suggested_label: s.label,
          suggested_start: s.start,
          suggested_known: s.known,
        }));
    for (const item of restored) {
      if (!isObject(item)) continue;
      const start = finiteOr(item.start, NaN);
      if (
        !Number.isFinite(start) ||
        start < 0 ||
        callouts.some((c) => Math.abs(c.start - start) < 0.05)
      ) {
        continue;
      }
      const callout = newCallout(item);
      callouts.push(callout);
      render(callout);
    }
    sortCallouts();
    if (isObject(saved.summary)) {
      for (const field of captions.summary) {
        const value = saved.summary[field.id];
        const root = hook(summaryForm, "summary-" + field.id);
        if (field.type === "multi") {
          stringList(value).forEach((v) => addSummaryChip(field, v));
        } else {
          setChecked(root, "summary." + field.id, value ?? null);
        }
      }
    }
    empty.hidden = callouts.length > 0;
    paintWords();
    paintStyle();
    paintPending();

    caption.addEventListener("input", () => {
      paintWords();
      paintStyle();
      changed();
    });
    summaryForm.addEventListener("change", changed);
    addButton.addEventListener("click", () =>
      addCallout(track.audio.currentTime, false),
    );
    bindShortcuts({ KeyC: () => addCallout(track.audio.currentTime, true) });
  }

  // ---- task page: gate, submission, download ------------------------------------

  /** @returns {string[]} what still stands between the analyst and a download */
  function blockers() {
    if (recycle) {
      // A task sent back needs no answers, only the reason.
      const described = anomalyList().some((a) => a.note.trim());
      return described
        ? []
        : ["To recycle the task, tick a problem above and describe it"];
    }
    const goal = config.listening.min_coverage;
    /** @type {string[]} */
    const problems = [];
    for (const track of tracks) {
      // F06: a clip this browser cannot play never blocks the download.
      if (!track.playable) continue;
      const share = coverage(track);
      if (share < goal) {
        problems.push(
          "Listen to at least " +
            Math.round(goal * 100) +
            "% of clip " +
            track.label +
            " (heard " +
            Math.floor(share * 100) +
            "%)",
        );
      }
    }
    return problems.concat(answerProblems());
  }

  /** @type {string | null} */
  let lastGate = null;

  /** Show what is missing and enable the download buttons when nothing is. */
  function refreshGate() {
    const problems = blockers();
    const key = problems.join("\n");
    if (key === lastGate) return;
    lastGate = key;
    const box = hook(document, "blockers");
    const list = box.querySelector("ul");
    if (list) {
      list.replaceChildren(
        ...problems.map((text) => {
          const item = document.createElement("li");
          item.textContent = text;
          return item;
        }),
      );
    }
    box.hidden = problems.length === 0;
    const ready = problems.length === 0;
    hook(document, "download").toggleAttribute("disabled", !ready);
    hook(document, "show-json").toggleAttribute("disabled", !ready);
  }

  /** @param {Date} now */
  function browserInfo(now) {
    let zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      report("timezone", error);
    }
    return {
      user_agent: navigator.userAgent,
      language: navigator.language || "",
      platform: navigator.platform || "",
      timezone: zone,
      utc_offset_minutes: -now.getTimezoneOffset(),
    };
  }

  /** Build the submission (schemas/submission.schema.json); ids from the bundle. */
  function buildSubmission() {
    const now = new Date();
    return {
      schema: SUBMISSION_SCHEMA,
      schema_version: SUBMISSION_VERSION,
      project_id: config.project.id,
      build_id: config.build_id,
      bundle_id: config.bundle_id,
      rater_id: config.rater.id,
      task_id: config.task.id,
      kind: config.task.kind,
      prompt: config.task.prompt,
      clips: config.clips.map((c) => ({ label: c.label, clip_id: c.clip_id })),
      started_at: startedAt,
      submitted_at: isoLocal(now),
      active_seconds: round(activeSeconds, 1),
      listening: {
        min_coverage: config.listening.min_coverage,
        clips: Object.fromEntries(
          tracks.map((t) => [
            t.label,
            {
              clip_id: t.clip.clip_id,
              duration: finiteOr(t.clip.duration, 0),
              heard_seconds: round(heardSeconds(t), 3),
              coverage: round(coverage(t), 4),
              plays: t.plays,
              listen_seconds: round(t.listenSeconds, 3),
              intervals: t.intervals,
              playable: t.playable,
              error: t.error,
            },
          ]),
        ),
        events: events,
        events_dropped: eventsDropped,
        loudness_matched: config.listening.loudness_match,
        gains: Object.fromEntries(
          tracks.map((t) => [
            t.label,
            config.listening.loudness_match ? round(finiteOr(t.clip.gain_db, 0), 2) : 0,
          ]),
        ),
        loop: loop ? { start: loop.start, end: loop.end } : null,
      },
      browser: browserInfo(now),
      answers: collectAnswers(),
      anomalies: anomalyList(),
      recycle_requested: recycle,
      rework_round: config.rework ? config.rework.round : 0,
    };
  }

  /** @type {{text: string, version: number} | null} */
  let lastExport = null;

  /**
   * The submission as text; the same text again while nothing has changed, so the
   * downloaded file and the copy panel always agree (F04).
   */
  function submissionText() {
    if (lastExport && lastExport.version === version) return lastExport.text;
    const text = JSON.stringify(buildSubmission(), null, 2) + "\n";
    lastExport = { text: text, version: version };
    return text;
  }

  /**
   * Show the JSON panel with the exact submission text.
   * @param {string} text
   * @param {string} [note]
   */
  function showJson(text, note) {
    const panel = hook(document, "json-panel");
    const area = /** @type {HTMLTextAreaElement} */ (hook(panel, "json-text"));
    area.value = text;
    if (note) hook(panel, "json-note").textContent = note;
    hook(panel, "copy-state").textContent = "";
    panel.hidden = false;
    hook(document, "show-json").setAttribute("aria-expanded", "true");
  }

  function markDownloaded() {
    draftMeta.downloaded_at = isoLocal(new Date());
    draftMeta.downloaded_rev = rev;
    saveNow();
  }

  function download() {
    markInteraction();
    refreshGate();
    if (blockers().length) return;
    const text = submissionText();
    // F04: a browser without <a download> would navigate instead of saving.
    if (!("download" in HTMLAnchorElement.prototype)) {
      showJson(
        text,
        "This browser cannot save the file by itself. Press Copy, paste the text " +
          "into a new file named " +
          config.download_name +
          " (UTF-8) and send that file.",
      );
      return;
    }
    const url = URL.createObjectURL(
      new Blob([text], { type: "application/json;charset=utf-8" }),
    );
    const link = document.createElement("a");
    link.href = url;
    link.download = config.download_name;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    // Revoking at once can cancel the save in some browsers.
    window.setTimeout(() => URL.revokeObjectURL(url), 60000);
    /** @type {HTMLTextAreaElement} */ (hook(document, "json-text")).value = text;
    markDownloaded();
    notify("Downloaded " + config.download_name + ". No file? Use “Show JSON”.");
  }

  async function copyJson() {
    const area = /** @type {HTMLTextAreaElement} */ (hook(document, "json-text"));
    const state = hook(document, "copy-state");
    let copied = false;
    try {
      if (navigator.clipboard) {
        await navigator.clipboard.writeText(area.value);
        copied = true;
      }
    } catch (error) {
      report("clipboard", error);
    }
    if (!copied) {
      area.focus();
      area.select();
      try {
        copied = document.execCommand("copy");
      } catch (error) {
        report("copy", error);
      }
    }
    state.textContent = copied
      ? "Copied."
      : "Select the text and copy it with Ctrl+C / ⌘C.";
    if (copied && !("download" in HTMLAnchorElement.prototype)) markDownloaded();
  }

  function bindSubmit() {
    hook(document, "download").addEventListener("click", download);
    hook(document, "show-json").addEventListener("click", () => {
      markInteraction();
      const panel = hook(document, "json-panel");
      if (!panel.hidden) {
        panel.hidden = true;
        hook(document, "show-json").setAttribute("aria-expanded", "false");
        return;
      }
      if (!blockers().length) showJson(submissionText());
    });
    hook(document, "copy-json").addEventListener("click", () => {
      copyJson().catch((error) => report("copy", error));
    });
  }

  // ---- task page: start -----------------------------------------------------------

  /** @param {TaskConfig} taskConfig */
  function startTask(taskConfig) {
    config = taskConfig;
    store = openStore(storageFailure);
    const draft = parseDraft(store.read(config.storage_key)) || {};
    const now = new Date();
    startedAt = typeof draft.started_at === "string" ? draft.started_at : isoLocal(now);
    startedMs = finiteOr(draft.started_ms, now.getTime());
    rev = Math.max(0, Math.floor(finiteOr(draft.rev, 0)));
    activeSeconds = Math.max(0, finiteOr(draft.active_seconds, 0));
    draftMeta = {
      downloaded_at:
        typeof draft.downloaded_at === "string" ? draft.downloaded_at : null,
      downloaded_rev: finiteOr(draft.downloaded_rev, 0),
    };
    const ledger = isObject(draft.ledger) ? draft.ledger : {};
    events = restoreEvents(ledger.events);
    eventsDropped = Math.max(0, finiteOr(ledger.events_dropped, 0));
    const savedClips = isObject(ledger.clips) ? ledger.clips : {};
    tracks = config.clips.map((clip) =>
      makeTrack(clip, isObject(savedClips[clip.label]) ? savedClips[clip.label] : {}),
    );
    // A task reissued for a rewrite starts from the earlier submission's answers.
    const earlier =
      config.rework && isObject(config.rework.answers) ? config.rework.answers : {};
    const answers = isObject(draft.answers) ? draft.answers : earlier;
    if (config.task.kind === "caption") {
      bindCaption(answers);
    } else {
      bindRubric(answers);
      bindShortcuts({});
    }
    bindPlayerKeys();
    bindLoop(isObject(draft.loop) ? draft.loop : null);
    markCurrent(tracks[0]);
    bindAnomalies(isObject(draft.flags) ? draft.flags : {});
    bindRecycle(draft.recycle === true);
    bindSubmit();
    startActivityClock();
    tracks.forEach(paintTrack);
    window.addEventListener("resize", () => tracks.forEach(queueWave));
    window.addEventListener("pagehide", saveNow);
    // Two tabs on one task overwrite each other's drafts: say so when it happens.
    window.addEventListener("storage", (event) => {
      if (event.key === config.storage_key) {
        notify(
          "This task is also open in another tab or window. Close one of them, or " +
            "their answers will overwrite each other.",
          true,
        );
      }
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") saveNow();
    });
    saveNow();
    refreshGate();
    if (storageFailed) hook(document, "save-state").textContent = "Not saved";
  }

  // ---- start ----------------------------------------------------------------------

  try {
    const pageConfig = readConfig();
    if (document.body.dataset.page === "index") {
      startIndex(pageConfig);
    } else {
      startTask(pageConfig);
    }
    document.documentElement.dataset.earmark = "ready";
  } catch (error) {
    report(
      "start",
      error,
      "This page could not start. Reload it; if that fails, tell your lead.",
    );
    document.documentElement.dataset.earmark = "failed";
  }
})();
