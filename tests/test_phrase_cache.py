"""The phrase cache: exact replay, keys that cover what changes the sound, LRU bound."""

import os

import numpy as np

from kokoro_pipe.voice.phrase_cache import PhraseCache

STYLE = np.ones((510, 1, 256), np.float32)


def test_roundtrip_and_keys(tmp_path):
    cache = PhraseCache(tmp_path)
    key = cache.key("Build finished.", STYLE, 1.0, "en-us", "m1")
    audio = np.linspace(-1, 1, 1000, dtype=np.float32)
    assert cache.get(key) is None
    cache.put(key, audio)
    np.testing.assert_array_equal(cache.get(key), audio)
    others = {
        cache.key("Build finished!", STYLE, 1.0, "en-us", "m1"),
        cache.key("Build finished.", STYLE * 0.5, 1.0, "en-us", "m1"),
        cache.key("Build finished.", STYLE, 1.1, "en-us", "m1"),
        cache.key("Build finished.", STYLE, 1.0, "en-gb", "m1"),
        cache.key("Build finished.", STYLE, 1.0, "en-us", "m2"),
    }
    assert key not in others and len(others) == 5
    assert cache.key("x" * 201, STYLE, 1.0, "en-us", "m1") is None


def test_least_recently_used_goes_first(tmp_path):
    cache = PhraseCache(tmp_path, max_bytes=3 * 4000)
    keys = [cache.key(f"phrase {i}", STYLE, 1.0, "en-us", "m") for i in range(4)]
    for i, key in enumerate(keys[:3]):
        cache.put(key, np.zeros(1000, np.float32))
        os.utime(tmp_path / f"{key}.f32", ns=(i * 10**9, i * 10**9))
    assert cache.get(keys[0]) is not None  # touch the oldest: now the newest
    cache.put(keys[3], np.zeros(1000, np.float32))
    present = [cache.get(k) is not None for k in keys]
    assert present == [True, False, True, True]


def test_a_torn_entry_is_a_miss_and_is_removed(tmp_path):
    cache = PhraseCache(tmp_path)
    key = cache.key("hello", STYLE, 1.0, "en-us", "m")
    (tmp_path / f"{key}.f32").write_bytes(b"abc")
    assert cache.get(key) is None
    assert not (tmp_path / f"{key}.f32").exists()


def test_the_daemons_source_replays_a_cached_phrase_without_the_model(tmp_path):
    """SpeechSource: the first request synthesizes and fills the cache; the
    same request again comes back from the cache, identical, with no model run."""
    import threading

    from kokoro_pipe.daemon.request import Request
    from kokoro_pipe.daemon.speech_source import SpeechSource
    from kokoro_pipe.text.g2p import G2P
    from kokoro_pipe.voice import files as models
    from kokoro_pipe.voice.engine import Engine

    engine = Engine(models.resolve())
    source = SpeechSource(engine, "af_heart", 1.0, G2P("en-us"), PhraseCache(tmp_path))
    pieces = list(source(Request("Build finished."), threading.Event()))
    first = np.concatenate([p.audio for p in pieces])
    assert len(list(tmp_path.glob("*.f32"))) == 1

    def no_model(*args, **kwargs):
        raise AssertionError("the model ran on a cache hit")

    engine.synthesize = engine.stream = no_model
    again = list(source(Request("Build finished."), threading.Event()))
    assert len(again) == 1
    np.testing.assert_array_equal(again[0].audio, first)
    assert again[0].words == tuple(w for p in pieces for w in p.words) != (), "words kept too"


def test_words_cached_before_sentence_ends_were_kept_still_replay(tmp_path):
    """An entry written before word times carried a sentence end (four fields)."""
    import threading

    from kokoro_pipe.daemon.speech_source import through_cache
    from kokoro_pipe.voice.synthesis import WordTime

    cache = PhraseCache(tmp_path)
    cache.put("k", np.zeros(10, np.float32), [[0, 5, "Hi", [0, 2]], [5, 9, "there", None, True]])
    (piece,) = through_cache(cache, "k", iter(()), threading.Event())
    assert piece.words == (WordTime(0, 5, "Hi", (0, 2), False), WordTime(5, 9, "there", None, True))
