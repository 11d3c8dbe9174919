"""The user's defaults: $XDG_CONFIG_HOME/kokoro-pipe/config.toml (man 5 kokoro-pipe-config).

Keys are option names without their dashes. A top-level key is shared: it applies
to every command that has the option. A [kk-synth], [kk-play], ... table holds one
command's keys and beats the top level. The values reach click as its default_map,
which click consults after an option's environment variable: so flags beat the
environment, which beats this file, which beats the built-in defaults.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click

from kokoro_pipe.errors import EXIT_CONFIG, KokoroPipeError

if sys.version_info >= (3, 11):
    import tomllib
else:  # the same parser, before it joined the standard library
    import tomli as tomllib

# Every key and the TOML types it takes; click checks choices and ranges after.
KEYS = {
    "voice": (str,), "speed": (float, int), "lang": (str,), "emoji": (str,),
    "lexicon": (str,), "sentence-pause": (float, int), "clause-pause": (float, int),
    "paragraph-pause": (float, int), "provider": (str,), "device": (str, int),
    "prebuffer-ms": (int,), "latency-ms": (int,), "fifo": (str,), "queue-size": (int,),
    "cache-mb": (int,), "vocoder-windows": (bool,), "daemon": (bool,),
    "threads": (int,), "max-start-delay": (float, int), "autospawn": (bool,),
    "idle-exit": (float, int), "ignore-advice": (bool,),
}
TEXT_KEYS = ("lang", "emoji", "lexicon")
COMMANDS = {
    "kk-synth": ("voice", "speed", *TEXT_KEYS, "sentence-pause", "clause-pause",
                 "paragraph-pause", "provider", "vocoder-windows", "daemon", "threads",
                 "max-start-delay", "autospawn"),
    "kk-g2p": TEXT_KEYS,
    "kk-play": ("device", "prebuffer-ms", "latency-ms", "ignore-advice"),
    "kk-speakd": ("fifo", "voice", "speed", "lang", "paragraph-pause", "queue-size", "cache-mb",
                  "provider", "vocoder-windows", "threads", "max-start-delay", "idle-exit"),
    "kk-say": ("fifo", "autospawn"),
    "sd_kokoro": ("daemon", "autospawn"),
}
TYPE_NAMES = {str: "a string", float: "a number", int: "an integer", bool: "true or false"}


class ConfigError(KokoroPipeError):
    exit_code = EXIT_CONFIG


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "kokoro-pipe" / "config.toml"


def help_epilog() -> str:
    return (f"Defaults come from the environment variables named, then {config_path()} "
            "(man 5 kokoro-pipe-config), then the built-in values; options beat them all.")


def default_map(prog: str, command: click.Command) -> dict:
    """The file's values for `command`, checked and converted, keyed by parameter name.
    The whole file is checked whichever command reads it."""
    if prog not in COMMANDS:
        return {}
    path = config_path()
    try:
        text = path.read_bytes().decode()
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from None
    shared = {k: v for k, v in data.items() if not isinstance(v, dict)}
    _check_table(path, text, None, shared, set(KEYS))
    for name, table in data.items():
        if not isinstance(table, dict):
            continue
        if name not in COMMANDS:
            raise ConfigError(f"{path}, line {_line(text, None, name, is_table=True)}: unknown "
                              f"table [{name}]; the tables are {', '.join(COMMANDS)}")
        _check_table(path, text, name, table, set(COMMANDS[name]))
    values = {k: (None, v) for k, v in shared.items() if k in COMMANDS.get(prog, ())}
    values.update((k, (prog, v)) for k, v in data.get(prog, {}).items())
    return {_param(command, key).name: _convert(path, text, table, key, value, command)
            for key, (table, value) in values.items()}


def _check_table(path: Path, text: str, table: str | None, values: dict, allowed: set) -> None:
    where = f"[{table}]" if table else "the top level"
    for key, value in values.items():
        at = f"{path}, line {_line(text, table, key)}"
        if key not in allowed:
            known = ", ".join(k for k in KEYS if k in allowed)
            raise ConfigError(f"{at}: unknown key {key!r} in {where}; known: {known}")
        types = KEYS[key]
        if isinstance(value, bool) != (bool in types) or not isinstance(value, types):
            raise ConfigError(f"{at}: {key} must be {TYPE_NAMES[types[0]]}, not {value!r}")


def _param(command: click.Command, key: str) -> click.Parameter:
    return next(p for p in command.params if f"--{key}" in p.opts)


def _convert(path: Path, text: str, table: str | None, key: str, value,
             command: click.Command):
    """What click would make of the value given as the option, or one line of why not."""
    param = _param(command, key)
    if isinstance(param.type, click.Path):  # relative to the file, ~ for home
        value = str(path.parent / Path(value).expanduser())
    try:
        converted = param.type.convert(value, param, None)
        if key in ("speed", "voice"):
            _check_voice_or_speed(key, converted)
    except (click.BadParameter, KokoroPipeError) as e:
        message = f"{key}: {e.message}" if isinstance(e, click.BadParameter) else str(e)
        raise ConfigError(f"{path}, line {_line(text, table, key)}: {message}") from None
    return converted


def _check_voice_or_speed(key: str, value) -> None:
    """The checks the commands make themselves, made here to name the file."""
    # Imported here: kk-say and kk-play need neither numpy nor the model.
    from kokoro_pipe.voice import files
    from kokoro_pipe.voice.voices import check_speed, parse_voice, voice_names

    if key == "speed":
        check_speed(value)
        return
    try:
        names = voice_names(files.resolve().voices)
    except KokoroPipeError:
        return  # no voices installed: the command says so itself
    parse_voice(value, names)


def _line(text: str, section: str | None, key: str, is_table: bool = False) -> int | str:
    """Where `key` is set in `section` (or the table `key` begins): tomllib gives
    positions for syntax errors only."""
    current = None
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[\s*[\"']?([^\]\"']+)[\"']?\s*\]", line)
        if header:
            current = header.group(1).strip()
            if is_table and current == key:
                return number
        elif not is_table and current == section and re.match(
                rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
    return "?"
