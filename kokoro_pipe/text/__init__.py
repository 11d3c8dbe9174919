"""Text: the words people write -> phonemes the model reads.

Lines in, then cleaning and normalization (normalize/, ssml, lexicon), G2P
(misaki, espeak-ng), and the cut into chunks the model takes. May import only
the shared contract (framing, errors); knows nothing of the model or of audio.
"""
