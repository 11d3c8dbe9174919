"""Text a listener heard wrong (issue 30, item 8), through the real kk-g2p:
the words it gives misaki (--spoken), and the phonemes misaki makes of them."""

from __future__ import annotations

import subprocess

from conftest import command

SPOKEN = {
    "The shop is open 3-5 pm.": "The shop is open three to five PM.",
    "Read pages 101-1250.": "Read pages one hundred one to one thousand two hundred fifty.",
    "See p. 23 and pp. 23-25.": "See page twenty three and pages twenty three to twenty five.",
    "It is in ch. 3, fig. 2.": "It is in chapter three, figure two.",
    "#TTS is trending, says @name.": "hashtag TTS is trending, says at name.",
    "He was a bass player.": "He was a [bass](/bˈAs/) player.",
    "There was a tear in the sheet.": "There was a [tear](/tˈɛɹ/) in the sheet.",
    "It&#39;s on Python 3.12-3.13.": "It's on Python three point twelve to three point thirteen.",
}
PHONEMES = {
    "#TTS is trending.": "hˈæʃtˌæɡ tˌitˌiˈɛs",  # "hashtag T T S"
    "He was a bass player.": "bˈAs plˈAəɹ",
    "There is a bass in the lake.": "bˈæs ɪn",
    "There was a tear in the sheet.": "tˈɛɹ ɪn",
    "A tear rolled down her cheek.": "tˈɪɹ ɹˈOld",
}


def kk_g2p(*args: str, texts) -> list[str]:
    result = subprocess.run([command("kk-g2p"), *args, *(a for t in texts for a in ("-t", t))],
                            capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode().splitlines()


def test_kk_g2p_spoken_says_ranges_references_hashtags_and_heteronyms_as_heard():
    assert kk_g2p("--spoken", texts=SPOKEN) == list(SPOKEN.values())


def test_kk_g2p_phonemes_of_hashtags_and_heteronyms():
    lines = kk_g2p(texts=PHONEMES)
    assert [want in got for want, got in zip(PHONEMES.values(), lines, strict=True)] \
        == [True] * len(PHONEMES), lines
