"""Kokoro-82M text-to-speech as small Unix commands that compose in a shell."""

SAMPLE_RATE = 24_000  # Kokoro-82M's only output rate
