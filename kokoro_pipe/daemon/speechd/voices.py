"""speech-dispatcher's voice settings mapped onto Kokoro's voices.

A Kokoro voice name says its language and gender: `bm_george` is British
English, male (Kokoro's VOICES.md). speech-dispatcher asks for a voice by name
(synthesis_voice), by type (MALE1, FEMALE2, CHILD_MALE...) and by language.
"""

from __future__ import annotations

from dataclasses import dataclass

from kokoro_pipe.text.g2p import ENGLISH, ESPEAK_LANGS, VOICE_LANGS

# Our language code -> speech-dispatcher's (RFC 5646, as spd-say -L shows them).
SPEECHD_LANGS = {"en-us": "en-US", "en-gb": "en-GB", "es": "es", "fr-fr": "fr-FR", "hi": "hi",
                 "it": "it", "pt-br": "pt-BR", "ja": "ja", "zh": "zh"}
SPOKEN = {*ENGLISH, *ESPEAK_LANGS}  # what our G2P reads; ja and zh voices need text we cannot
# The voice a language gets when nothing more is asked: Kokoro's best graded ones.
PREFERRED = {
    "en-us": {"female": ("af_heart", "af_bella", "af_nicole"),
              "male": ("am_michael", "am_fenrir", "am_puck")},
    "en-gb": {"female": ("bf_emma", "bf_isabella", "bf_alice"),
              "male": ("bm_george", "bm_fable", "bm_lewis")},
}
VOICE_TYPES = {"MALE1": ("male", 0), "MALE2": ("male", 1), "MALE3": ("male", 2),
               "FEMALE1": ("female", 0), "FEMALE2": ("female", 1), "FEMALE3": ("female", 2),
               "CHILD_MALE": ("male", 0), "CHILD_FEMALE": ("female", 0)}


@dataclass(frozen=True)
class Voice:
    name: str
    lang: str  # ours: en-us, fr-fr...
    gender: str  # female | male

    @property
    def speechd_lang(self) -> str:
        return SPEECHD_LANGS.get(self.lang, self.lang)


def voice(name: str) -> Voice:
    gender = {"f": "female", "m": "male"}.get(name[1:2], "female")
    return Voice(name, VOICE_LANGS.get(name[:1], "en-us"), gender)


def speakable(names) -> list[Voice]:
    """The voices we can speak text with, by language, then name."""
    voices = [voice(n) for n in names if "_" in n]
    return sorted((v for v in voices if v.lang in SPOKEN), key=lambda v: (v.lang, v.name))


def our_lang(code: str | None) -> str | None:
    """speech-dispatcher's language code as ours (en -> en-us, fr -> fr-fr,
    pt-PT -> pt-br); None when no voice of ours speaks it."""
    if not code:
        return None
    code = code.strip().lower().replace("_", "-")
    if code in SPOKEN:
        return code
    base = code.split("-")[0]
    return next((lang for lang in ("en-us", *sorted(SPOKEN)) if lang.split("-")[0] == base), None)


def choose(voices: list[Voice], lang: str, voice_type: str | None = None,
           defaults: dict[str, str] | None = None) -> Voice | None:
    """A voice of `lang`. MALE1 is speech-dispatcher's default type, sent when
    nobody chose one: it gets the language's default voice (`defaults`, else
    the first preferred). Another type gets the nth voice of its gender."""
    of_lang = [v for v in voices if v.lang == lang]
    if not of_lang:
        return None
    by_name = {v.name: v for v in of_lang}
    if voice_type in (None, "NULL", "MALE1"):
        first = (defaults or {}).get(lang) or next(iter(PREFERRED.get(lang, {}).get("female", ())),
                                                    None)
        return by_name.get(first or "", of_lang[0])
    gender, nth = VOICE_TYPES.get(voice_type, ("female", 0))
    ranked = [by_name[n] for n in PREFERRED.get(lang, {}).get(gender, ()) if n in by_name]
    ranked += [v for v in of_lang if v.gender == gender and v not in ranked]
    if not ranked:
        return of_lang[0]
    return ranked[min(nth, len(ranked) - 1)]
