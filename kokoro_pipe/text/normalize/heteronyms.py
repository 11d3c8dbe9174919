"""Noun readings misaki's lexicon lacks: it has one entry for "lead" (the verb,
/lˈid/) and one for "resume" (the verb), so no part-of-speech tag can give the
metal or the CV. Heteronyms it has both readings of (wind, tear, live, bow, record)
are left to it and its tagger (see text/tags.py)."""

from __future__ import annotations

import re

LEAD_METAL = "[lead](/lˈɛd/)"
# Nouns that make "lead" before them the metal; "lead singer", "lead time" stay /lˈid/.
METAL_THINGS = (r"poisoning|paint|pipes?|pencils?|shot|levels?|crystal|ore|weights?|acid|apron"
                r"|bullets?|sinkers?|contamination|exposure|mines?|solder|oxide|free|based|lined")
# After "of" or "with" the metal, when nothing makes "lead" a modifier
# ("a lot of lead generation" is sales leads).
AFTER_OF = r"[^\w\s]|$|(?:in|and|or|is|was|are|were|from|on|at|into|for|has|had|which|that)\b"
LEAD = re.compile(rf"(?i)\b(of|with)\s+(lead)(?=\s*(?:{AFTER_OF}))(?!\[|\(|'|’)"
                  rf"|\b(lead)(?=[\s-](?:{METAL_THINGS})\b)")
# "resume" after a determiner is the CV unless an object follows: "resume the download".
RESUME = re.compile(r"(?i)\b(a|the|my|your|his|our|their|this|updated|new)\s+(resume|résumé)(s?)\b"
                    r"(?!\s+(?:the|a|an|my|your|playback|download|button)\b)")


def heteronyms(text: str) -> str:
    """made of lead -> 'made of [lead](/lˈɛd/)', lead paint -> '[lead](/lˈɛd/)
    paint', my resume -> 'my [resume](/ɹˈɛzəmˌA/)'; 'to lead', 'the lead
    singer', 'resume the download' are left to misaki."""

    def lead(m: re.Match) -> str:
        if m.group(2):
            return f"{m.group(1)} " + LEAD_METAL.replace("lead", m.group(2), 1)
        return LEAD_METAL.replace("lead", m.group(3), 1)

    def resume(m: re.Match) -> str:
        plural = "z" if m.group(3) else ""
        return f"{m.group(1)} [{m.group(2)}{m.group(3)}](/ɹˈɛzəmˌA{plural}/)"

    return RESUME.sub(resume, LEAD.sub(lead, text))
