"""Heteronym readings the part of speech cannot pick, picked by the words around.

misaki reads a heteronym by spaCy's tag (wind, live, close: see text/tags.py).
That fails where it has one entry only ("lead" the verb, "resume" the verb,
"row" the line) or where both readings are the same part of speech: bass the
fish or the tone, a tear in the eye or in the sheet, a ribbon's bow or a
ship's. A Cue gives the reading the neighbouring words call for, as phoneme
markup; with no cue misaki's reading stands, so each cue is one the words make
unmistakable ("bass player", "a tear in the fabric", "take a bow")."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    readings: dict[str, str]  # each written form, in lower case -> its phonemes
    before: str = ""  # the words just before it (a regex), if they are the cue
    after: str = ""  # a regex matched right after it (its spaces included), if that is
    unless: str = ""  # words just before it that undo the cue ("a minute changes")

    def pattern(self) -> re.Pattern:
        forms = "|".join(sorted(self.readings, key=len, reverse=True))
        before = rf"(?P<before>\b(?:{self.before})[\s-]+)" if self.before else ""
        # Not a part of a longer word, of markup, or of a possessive.
        return re.compile(rf"(?i){before}(?<![\w\[])(?P<word>{forms})(?![\w\]('’])"
                          rf"(?={self.after})")


LEAD = {"lead": "lˈɛd"}
# Nouns that make "lead" before them the metal; "lead singer", "lead time" stay /lˈid/.
METAL_THINGS = (r"poisoning|paint|pipes?|pencils?|shot|levels?|crystal|ore|weights?|acid|apron"
                r"|bullets?|sinkers?|contamination|exposure|mines?|solder|oxide|free|based|lined")
# After "of" or "with" the metal, when nothing makes "lead" a modifier
# ("a lot of lead generation" is sales leads).
AFTER_OF = r"[^\w\s]|$|(?:in|and|or|is|was|are|were|from|on|at|into|for|has|had|which|that)\b"
RESUME = {"resume": "ɹˈɛzəmˌA", "resumes": "ɹˈɛzəmˌAz", "résumé": "ɹˈɛzəmˌA",
          "résumés": "ɹˈɛzəmˌAz"}
BASS_TONE = {"bass": "bˈAs", "basses": "bˈAsᵻz"}
MUSIC = (r"player|guitar|guitarist|drum|line|clef|note|part|section|solo|amp|amplifier|string"
         r"|voice|singer|register|boost|response|speaker|drop|riff|tone|trombone|clarinet|tuba"
         r"|fiddle|viol|baritone|heavy|frequency|frequencies|and treble|and drums?")
TEAR_RIP = {"tear": "tˈɛɹ", "tears": "tˈɛɹz"}
TORN_THINGS = (r"sheet|fabric|cloth|shirt|jeans|pants|trousers|dress|sleeve|sail|tent|canvas"
               r"|paper|page|seam|lining|leather|muscle|ligament|tendon|meniscus|cartilage"
               r"|membrane|retina|net|bag|curtain|carpet|hull|tire|tyre|balloon|jacket|coat|glove")
POSSESSIVE = r"the|a|an|his|her|my|your|its|their|our|this|that"
BOW_BEND = {"bow": "bˈW", "bows": "bˈWz"}
VESSELS = (r"ship|boat|vessel|yacht|ferry|canoe|kayak|tanker|liner|submarine|barge|schooner"
           r"|frigate|destroyer|carrier|tug")
# The bow that is tied, strung or worn, whatever came before it.
NOT_BENT = r"(?![\s-]+(?:ties?|and\s+arrows?|strings?|saws?|legs?|legged|window)\b)"
CLAUSE_END = r"\s*(?:[,;:.!?)]|$)"
ROW_QUARREL = {"row": "ɹˈW", "rows": "ɹˈWz"}
MINUTE_TINY = {"minute": "mInˈut"}
SMALL_THINGS = (r"details?|differences?|amounts?|quantity|quantities|traces?|particles?"
                r"|changes?|variations?|fractions?|adjustments?|organisms?|fragments?"
                r"|droplets?|crystals?|doses?|deviations?|fluctuations?|cracks?")
# A count or a single one before "minute" makes it the time: "five minute changes".
COUNTED = (r"\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen"
           r"|\w+ty|hundred|few|per|each|every|this|that|last|next|first|final|extra|another"
           r"|single|whole|full|half")

CUES = [
    Cue(LEAD, before="of|with", after=rf"\s*(?:{AFTER_OF})"),
    Cue(LEAD, after=rf"[\s-](?:{METAL_THINGS})\b"),
    # "resume" after a determiner is the CV unless an object follows: "resume the download".
    Cue(RESUME, before="a|the|my|your|his|our|their|this|updated|new",
        after=r"(?!\s+(?:the|a|an|my|your|playback|download|button)\b)"),
    Cue(BASS_TONE, after=rf"[\s-]+(?:{MUSIC})s?\b"),
    Cue(BASS_TONE, before="play|plays|played|playing|electric|double|upright|acoustic|slap"
                          "|fretless|booming|thumping|walking|synth"),
    Cue(BASS_TONE, before="on", after=rf"{CLAUSE_END}|\s+and\b"),  # "Jaco on bass, ..."
    Cue(TEAR_RIP, after=rf"\s+(?:in|to)\s+(?:{POSSESSIVE})(?:\s+\w+)?\s+(?:{TORN_THINGS})s?\b"),
    Cue(TEAR_RIP, before="wear and|muscle|ligament|tendon|meniscus|hamstring|cartilage|ACL|MCL"
                         "|cuff|labral|retinal|jagged|partial"),
    Cue(BOW_BEND, before=r"(?:take|takes|took|taken|taking)\s+(?:a|an|one|another|his|her"
                         r"|their|my|your|our)(?:\s+(?:final|last|deep|little|quick|second))?",
        after=rf"{NOT_BENT}(?:{CLAUSE_END}|\s+(?:to|for|before|after|as)\b)"),
    Cue(BOW_BEND, before="deep|slight|polite|courteous|respectful|low|gracious|stiff|curt",
        after=NOT_BENT),
    Cue(BOW_BEND, after=rf"\s+(?:of|on)\s+(?:{POSSESSIVE})(?:\s+\w+)?\s+(?:{VESSELS})s?\b"),
    Cue(BOW_BEND, after=r"\s+(?:and|to)\s+stern\b"),
    Cue(BOW_BEND, before=r"(?:ship|boat|vessel|yacht)['’]s"),
    Cue(ROW_QUARREL, before="blazing|furious|heated|bitter|almighty|diplomatic|political"
                            "|flaming|fierce|angry|violent"),
    Cue(ROW_QUARREL, before=r"(?:had|has|have|having)\s+(?:a|an)",
        after=rf"{CLAUSE_END}|\s+(?:with|about|over)\b"),
    Cue(MINUTE_TINY, after=rf"\s+(?:{SMALL_THINGS})\b", unless=COUNTED),
    Cue({"deserts": "dəzˈɜɹts"}, before=r"(?:his|her|their|your|my|our|its|one['’]s)\s+just"),
]
PATTERNS = [(cue, cue.pattern()) for cue in CUES]
UNLESS_REACH = 40  # characters before a word where the words undoing its cue are


def heteronyms(text: str) -> str:
    """made of lead -> 'made of [lead](/lˈɛd/)', my resume -> 'my
    [resume](/ɹˈɛzəmˌA/)', bass player -> '[bass](/bˈAs/) player', a tear in
    the sheet -> 'a [tear](/tˈɛɹ/) in the sheet'; 'to lead', 'a bass in the
    lake', 'a tear rolled down' are left to misaki."""
    for cue, pattern in PATTERNS:
        text = pattern.sub(lambda m, cue=cue: _marked(m, cue), text)
    return text


def _marked(m: re.Match, cue: Cue) -> str:
    word, start = m.group("word"), m.start("word")
    before = m.string[max(0, start - UNLESS_REACH):start]
    if cue.unless and re.search(rf"(?i)\b(?:{cue.unless})[\s-]+$", before):
        return m.group()
    return f"{m.groupdict().get('before') or ''}[{word}](/{cue.readings[word.lower()]}/)"
