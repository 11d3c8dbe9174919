"""kk-speakd's cache of voice styles: bounded by bytes however many blends
come, the default voice always at hand. Real styles from the installed voices."""

from __future__ import annotations

import pytest

from kokoro_pipe.daemon.styles import MAX_BYTES, StyleCache
from kokoro_pipe.voice import files as models
from kokoro_pipe.voice.engine import Engine


@pytest.fixture(scope="module")
def engine():
    return Engine(models.resolve())


def test_many_blends_stay_within_the_bound_and_the_default_voice_is_kept(engine):
    looked_up = []

    def lookup(voice: str):
        looked_up.append(voice)
        return engine.style(voice)

    cache = StyleCache("af_heart")
    default = cache.get("af_heart", lookup)
    others = [v for v in engine.voices() if v != "af_heart"]
    blends = [f"af_heart:{n},{others[n % len(others)]}:100" for n in range(1, 101)]
    for blend in blends:
        cache.get(blend, lookup)
        assert cache.size()[1] <= MAX_BYTES
    fits = MAX_BYTES // default.nbytes
    assert fits == 32 and cache.size() == (fits, fits * default.nbytes)  # full, not over
    looked_up.clear()
    assert cache.get("af_heart", lookup) is default  # never evicted
    assert cache.get(blends[-1], lookup) is not None  # the most recent: kept
    assert looked_up == []
    cache.get(blends[0], lookup)  # the least recent: made again
    assert looked_up == [blends[0]]
    assert cache.size()[1] <= MAX_BYTES


def test_an_unknown_voice_is_not_cached(engine):
    cache = StyleCache("af_heart")
    with pytest.raises(Exception, match="zz_nobody"):
        cache.get("zz_nobody", engine.style)
    assert cache.size() == (0, 0)
