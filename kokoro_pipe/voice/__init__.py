"""Voice: the Kokoro-82M model, phonemes -> audio samples.

The model and voice files (installed and verified), the onnxruntime engine,
the streaming synthesizer and the phrase cache. May import text/ and the
shared contract; never audio/ or the daemon.
"""
