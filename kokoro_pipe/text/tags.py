"""Part-of-speech fixes for misaki's heteronyms (wind, close, refuse, upset...).

misaki picks a heteronym's reading by spaCy's tag, and the small tagger
sometimes calls a noun after a determiner a verb ("some refuse", "a recharge")
or an adjective ending its phrase ("the upset was", "an invalid."). A word that
heads what a determiner starts is a noun, so such a tag becomes NN here.
"""

from __future__ import annotations

# Determiners that always start a noun phrase. "some", "each", "that" and
# "her" are left out: they can stand alone ("Some live here", "Is that close?",
# "let her record").
DETERMINERS = frozenset(["a", "an", "the", "every", "no", "my", "your", "his", "its", "our",
                         "their"])
# After these a verb tag is still wrong, but an adjective or adverb may be right.
VERB_ONLY = frozenset(["of", "this", "these", "those"])
# A following word with one of these tags makes the word a modifier ("a close call"),
# unless it is one the tagger calls a noun where it is an adverb.
MODIFIED = ("NN", "JJ", "CD", "VBG")
ADVERB_NOUNS = frozenset(["today", "tonight", "yesterday", "tomorrow", "now", "here", "there"])


def nouns_after_determiners(tokens: list, is_heteronym) -> None:
    """Retag, in place, misaki tokens (.text, .tag) whose reading depends on
    the tag; `is_heteronym(word)` says which words do."""
    for before, token, after in zip([None, *tokens], tokens, [*tokens[1:], None], strict=False):
        if before is None or not is_heteronym(token.text.lower()):
            continue
        cue = before.text.lower()
        verb = token.tag.startswith("VB") and token.tag != "VBG"  # "of recording" is a verb
        modified = after is not None and after.tag.startswith(MODIFIED) \
            and after.text.lower() not in ADVERB_NOUNS
        adjective = token.tag.startswith(("JJ", "RB")) and not modified
        if (cue in DETERMINERS and (verb or adjective)) or (cue in VERB_ONLY and verb):
            token.tag = "NN"
