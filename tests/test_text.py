"""Chunk splitting: bounded, lossless, short first chunk, then as large as the budget says."""


from hypothesis import given, settings
from hypothesis import strategies as st

from kokoro_pipe.text.chunks import (
    CLAUSE_PAUSE,
    SENTENCE_PAUSE,
    Chunker,
    end_kind,
    has_speech,
    split_chunks,
)


def texts(chunks):
    return [c.text for c in chunks]


def test_first_sentence_is_its_own_chunk():
    chunks = texts(split_chunks("Build finished. All 312 tests passed. Coverage is 91 percent."))
    assert chunks[0] == "Build finished."
    assert chunks[1:] == ["All 312 tests passed. Coverage is 91 percent."]


def test_long_first_sentence_is_cut_at_a_clause():
    s = ("When the deployment finished, after a long wait that nobody had expected at all, "
         "the team went home.")
    chunks = texts(split_chunks(s))
    assert chunks[0] == "When the deployment finished,"
    assert " ".join(chunks) == s


def test_abbreviations_and_initials_do_not_end_sentences():
    assert texts(split_chunks("Dr. Smith met J. R. Tolkien at 3 p.m. today."))[0] == (
        "Dr. Smith met J. R. Tolkien at 3 p.m. today."
    )


def test_phoneme_mode_splits_at_every_stop():
    assert texts(split_chunks("həlˈO. wˈɜɹld.", is_text=False)) == ["həlˈO.", "wˈɜɹld."]


def test_pauses_follow_the_punctuation():
    chunks = split_chunks("Wait, when the deployment finished after such a long, long wait, "
                          "everybody cheered. Then home.")
    pauses = {c.text[-1]: c.pause for c in chunks}
    assert pauses[","] == CLAUSE_PAUSE and pauses["."] == SENTENCE_PAUSE


def test_speech_detection():
    assert not has_speech("...!!! --- ???")
    assert has_speech("42") and has_speech("é")
    assert not has_speech("... !", phonemes=True) and has_speech("ˈO.", phonemes=True)


words = st.text(alphabet=st.sampled_from("abcdefgh xyz.,;!?  \n"), min_size=0, max_size=2000)


@settings(max_examples=300, deadline=None)
@given(words, st.integers(10, 510), st.integers(5, 120))
def test_chunks_are_bounded_and_lose_nothing(s, max_len, first_max):
    first_max = min(first_max, max_len)
    chunks = texts(split_chunks(s, max_len=max_len, first_max=first_max))
    assert all(0 < len(c) <= max_len for c in chunks)
    if chunks:
        assert len(chunks[0]) <= first_max
    assert "".join("".join(chunks).split()) == "".join(s.split())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["Yes.", "The build is green,", "It took nine minutes to run.",
                                 "and then, at last,", "it ran"]), min_size=2, max_size=40),
       st.lists(st.integers(1, 200), min_size=1, max_size=40))
def test_later_chunks_follow_the_budget_asked_just_before_each(parts, limits):
    s = " ".join(parts)
    asked: list[list[str]] = []

    def budget(todo: list[str]) -> int:
        asked.append(list(todo))
        return limits[(len(asked) - 1) % len(limits)]

    chunker = Chunker(s, budget=budget)
    chunks = []
    for chunk in chunker:  # the budget is asked lazily: what is left is what is to come
        chunks.append(chunk.text)
        if asked:
            assert " ".join(asked[-1]).startswith(chunk.text) or len(chunks) == 1
    assert "".join("".join(chunks).split()) == "".join(s.split())
    for k, (todo, text) in enumerate(zip(asked, chunks[1:], strict=True)):
        limit = limits[k % len(limits)]
        behind = len(todo[0]) > limit  # one piece at least, whatever the budget
        assert len(text) <= limit or text == todo[0] or behind
        if len(text) <= limit and end_kind(text) != "sentence":
            # a shorter chunk ending at a sentence end was possible only if none fit
            fits = [n for n in range(1, len(todo) + 1) if len(" ".join(todo[:n])) <= limit]
            assert not any(end_kind(todo[n - 1]) == "sentence" for n in fits)


def test_no_budget_joins_whole_sentences_up_to_the_largest_chunk():
    s = " ".join(["The build is green, and it took nine minutes to run."] * 8)
    chunks = texts(split_chunks(s))
    assert all(c.endswith(".") for c in chunks[1:])
    assert all(len(c) <= 150 for c in chunks) and len(chunks[1]) > 100


def test_a_reference_abbreviation_before_its_number_does_not_end_a_sentence():
    assert texts(split_chunks("The proof is in pp. 23-25. Then ch. 4 goes on."))[0] == (
        "The proof is in pp. 23-25.")
    assert texts(split_chunks("He drew a bow. It was art. Then home."))[0] == "He drew a bow."
