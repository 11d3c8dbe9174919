"""Roman numerals after a ruler's name or a title word: Henry VIII, World War II."""

from __future__ import annotations

import re

from kokoro_pipe.text.numwords import cardinal, ordinal

# Said "the eighth": names monarchs and popes bear. Case-sensitive, so "mark"
# or "john" in running text is not a cue; Malcolm is left out for Malcolm X.
REGNAL = frozenset([
    "Henry", "Edward", "Elizabeth", "George", "William", "Charles", "James", "Richard",
    "Louis", "Philip", "Philippe", "Frederick", "Mary", "Anne", "John", "Paul", "Pius",
    "Benedict", "Leo", "Gregory", "Innocent", "Clement", "Urban", "Boniface", "Sixtus",
    "Julius", "Alexander", "Nicholas", "Peter", "Catherine", "Ivan", "Ferdinand", "Napoleon",
    "Constantine", "Ramesses", "Ramses", "Amenhotep", "Thutmose", "Ptolemy", "Cleopatra",
    "Darius", "Xerxes", "Alfonso", "Felipe", "Carlos", "Carl", "Gustav", "Gustaf", "Haakon",
    "Harald", "Olav", "Margrethe", "Christian", "Wilhelm", "Friedrich", "Otto", "Rudolf",
    "Leopold", "Albert", "Willem", "Umberto", "Mohammed", "Abdullah", "Rama", "David",
    "Robert", "Stephen", "Harold", "Edmund", "Pedro", "Manuel", "Joseph", "Francis", "Franz",
    "Maximilian", "Casimir", "Sigismund", "Vladimir", "Henri"])
# Said "two": the numeral counts parts or events. Any case ("see chapter IV").
TITLES = frozenset([
    "war", "chapter", "part", "act", "scene", "book", "volume", "episode", "phase", "stage",
    "level", "round", "section", "article", "title", "appendix", "class", "type", "category",
    "grade", "mark", "bowl", "vatican", "canto", "series", "season", "tier", "division"])
# Letters I, V, X, L only: C, D and M alone or together are mostly not numbers
# (Vitamin D, Type C, CD, MD, DC), so 1 to 89.
NUMERAL = re.compile(r"(?<![\w'’.-])([A-Za-z]+)\s+((?:L?X{0,3}|XL)(?:IX|IV|V?I{0,3}))"
                     r"(?=$|['’]s\b|[^\w'’-])")
VALUES = {"I": 1, "V": 5, "X": 10, "L": 50}
# After "I" a pronoun is likely ("Part I think"): read it as a numeral only
# before punctuation, the end, a capital, or one of these.
AFTER_ONE = frozenset(["of", "'s", "’s"])


def value(numeral: str) -> int:
    total = 0
    for letter, following in zip(numeral, [*numeral[1:], ""], strict=True):
        n = VALUES[letter]
        total += -n if following and VALUES[following] > n else n
    return total


def roman(text: str) -> str:
    """Henry VIII -> 'Henry the eighth', World War II -> 'World War two',
    Super Bowl LVII -> 'Super Bowl fifty seven'; a numeral after any other
    word is left alone (MIX, CD, V8, the pronoun I)."""

    def spell(m: re.Match) -> str:
        word, numeral = m.groups()
        regnal = word in REGNAL
        if not numeral or not (regnal or word.lower() in TITLES):
            return m.group()
        if numeral == "I" and not _one_is_a_numeral(m):
            return m.group()
        n = value(numeral)
        return f"{word} the {ordinal(n)}" if regnal else f"{word} {cardinal(n)}"

    return NUMERAL.sub(spell, text)


def _one_is_a_numeral(m: re.Match) -> bool:
    if not m.group(1)[0].isupper():
        return False
    if m.string[: m.start()].split()[-1:] == ["World"]:
        return True  # World War I ended
    after = m.string[m.end():]
    following = re.match(r"\s*(\S*)", after).group(1)
    return (not following or not following[0].isalnum() or following[0].isupper()
            or following.lower() in AFTER_ONE or after.startswith(("'s", "’s")))
