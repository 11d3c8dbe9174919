"""What speech-dispatcher sets (SET) and what sd_kokoro's own configuration
file says, as our speed, gain and voice choices."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from kokoro_pipe.daemon.speechd.voices import our_lang
from kokoro_pipe.text import punctuation
from kokoro_pipe.voice.voices import SPEED_RANGE

VOICE_TYPE = re.compile(r"(MALE|FEMALE)[123]|CHILD_(MALE|FEMALE)")


@dataclass
class Config:
    """The module's own configuration file (dotconf, as speech-dispatcher's)."""

    default_voices: dict[str, str] = field(default_factory=dict)  # lang -> voice
    rate_multiplier: float = 1.0
    model: str | None = None
    voices: str | None = None


def read_config(path: Path | None) -> Config:
    """KokoroDefaultVoice "en-gb" "bm_george", KokoroRateMultiplier 1.2,
    KokoroModel and KokoroVoices paths; # comments. Raises ValueError."""
    config = Config()
    if path is None:
        return config
    for number, line in enumerate(path.read_text().splitlines(), 1):
        words = shlex.split(line, comments=True)
        if not words:
            continue
        key, args = words[0].lower(), words[1:]
        if key == "kokorodefaultvoice" and len(args) == 2:
            config.default_voices[our_lang(args[0]) or args[0]] = args[1]
        elif key == "kokororatemultiplier" and len(args) == 1:
            config.rate_multiplier = float(args[0])
        elif key in ("kokoromodel", "kokorovoices") and len(args) == 1:
            setattr(config, key.removeprefix("kokoro"), args[0])
        else:
            raise ValueError(f"{path}:{number}: not understood: {line.strip()}")
    return config


@dataclass
class Settings:
    """What SET has set; speech-dispatcher's names and ranges."""

    rate: int = 0  # -100..100
    pitch: int = 0  # Kokoro has no pitch control: accepted, not heard
    pitch_range: int = 0
    volume: int = 100  # -100..100; 100 is full scale
    punctuation_mode: str = "none"
    spelling_mode: bool = False
    cap_let_recogn: str = "none"
    voice_type: str | None = None  # MALE1...
    synthesis_voice: str | None = None
    language: str | None = None

    def apply(self, values: dict[str, str]) -> list[str]:
        """Take what is valid; the name=value of what was not."""
        return [f"{name}={value}" for name, value in values.items()
                if not self._set(name, value)]

    def _set(self, name: str, value: str) -> bool:
        if name in ("rate", "pitch", "pitch_range", "volume"):
            try:
                number = int(value)
            except ValueError:
                return False
            if not -100 <= number <= 100:
                return False
            setattr(self, name, number)
        elif name == "punctuation_mode" and value in punctuation.LEVELS:
            self.punctuation_mode = value
        elif name == "spelling_mode" and value in ("on", "off"):
            self.spelling_mode = value == "on"
        elif name == "cap_let_recogn" and value in ("none", "spell", "icon"):
            self.cap_let_recogn = value
        elif name == "voice" and (value == "NULL" or VOICE_TYPE.fullmatch(value.upper())):
            self.voice_type = None if value == "NULL" else value.upper()  # sent as male1
        elif name in ("synthesis_voice", "language"):
            setattr(self, name, None if value == "NULL" else value)
        elif name == "punctuation_some":
            pass  # the server's symbol tables do "some"
        else:
            return False
        return True

    def speed(self, multiplier: float = 1.0) -> float:
        """rate -100..100 onto 0.5..2.0, evenly on a log scale (0 is 1.0)."""
        lo, hi = SPEED_RANGE
        return min(hi, max(lo, 2.0 ** (self.rate / 100) * multiplier))

    def gain(self) -> float:
        return (self.volume + 100) / 200
