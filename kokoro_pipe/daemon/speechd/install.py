"""`kk-speakd install-speechd`: speech-dispatcher's user configuration for sd_kokoro.

speech-dispatcher reads ~/.config/speech-dispatcher/speechd.conf instead of the
system's when it exists, so a missing one starts as a copy of the system's.
Our lines go in one marked block, which --uninstall takes out again. While
speechd.conf has no AddModule line, speech-dispatcher finds the modules
installed on the system by itself; the first AddModule turns that off, so the
block also names each module it would have found, and they keep working.
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

MODULE = "kokoro"
BEGIN = "# --- kokoro-pipe: written by kk-speakd install-speechd; --uninstall removes it ---"
END = "# --- end of kokoro-pipe ---"
SYSTEM_DIRS = (Path("/etc/speech-dispatcher"), Path("/usr/local/etc/speech-dispatcher"),
               Path("/opt/homebrew/etc/speech-dispatcher"))
MODULE_BIN_DIRS = (Path("/usr/lib/speech-dispatcher-modules"),
                   Path("/usr/libexec/speech-dispatcher-modules"),
                   Path("/usr/local/libexec/speech-dispatcher-modules"),
                   Path("/usr/lib64/speech-dispatcher-modules"))
NOT_DETECTED = {"sd_generic", "sd_dummy"}  # speech-dispatcher does not load these unasked

MODULE_CONF = """\
# sd_kokoro's configuration (kokoro-pipe), read when speech-dispatcher starts it.
# The voice for each language when no other is asked for (speech-dispatcher's
# default voice type, MALE1, gets it too):
#KokoroDefaultVoice "en-US" "af_heart"
#KokoroDefaultVoice "en-GB" "bf_emma"
# Speech-dispatcher's rate -100..100 maps onto speed 0.5..2.0 (0 is 1.0);
# this multiplies it (the result stays within 0.5..2.0):
#KokoroRateMultiplier 1.0
# Model and voices files (default: those kk-models installed):
#KokoroModel "/path/to/model.onnx"
#KokoroVoices "/path/to/voices.npz"
"""


def default_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "speech-dispatcher"


def module_path() -> Path:
    """The installed sd_kokoro, else this checkout's bin/sd_kokoro."""
    installed = Path(sysconfig.get_path("scripts")) / "sd_kokoro"
    if installed.exists():
        return installed
    return Path(__file__).resolve().parents[3] / "bin" / "sd_kokoro"


def system_dir() -> Path | None:
    return next((d for d in SYSTEM_DIRS if (d / "speechd.conf").is_file()), None)


def detected_modules() -> list[tuple[str, str]]:
    """(name, config) of the modules speech-dispatcher finds by itself."""
    system = system_dir()
    found = {}
    for directory in MODULE_BIN_DIRS:
        for binary in sorted(directory.glob("sd_*")) if directory.is_dir() else ():
            if binary.name in NOT_DETECTED or binary.name in found:
                continue
            name = binary.name.removeprefix("sd_")
            has_conf = system and (system / "modules" / f"{name}.conf").is_file()
            found[binary.name] = (name, f"{name}.conf" if has_conf else "")
    return list(found.values())


def _without_block(text: str) -> str:
    lines, out, inside = text.splitlines(keepends=True), [], False
    for line in lines:
        if line.rstrip("\n") == BEGIN:
            inside = True
        elif inside and line.rstrip("\n") == END:
            inside = False
        elif not inside:
            out.append(line)
    return "".join(out).rstrip("\n") + "\n" if out else ""


def _has_add_module(text: str) -> bool:
    return any(line.split()[:1] == ["AddModule"] for line in text.splitlines())


def install(target: Path | None = None, make_default: bool = False) -> list[Path]:
    """Write the block and the module's configuration; the files written."""
    target = target or default_dir()
    conf, module_conf = target / "speechd.conf", target / "modules" / f"{MODULE}.conf"
    (target / "modules").mkdir(parents=True, exist_ok=True)
    if conf.exists():
        base = _without_block(conf.read_text())
    else:
        system = system_dir()
        base = (system / "speechd.conf").read_text() if system else ""
    lines = [BEGIN, f'AddModule "{MODULE}" "{module_path()}" "{module_conf}"']
    if not _has_add_module(base):  # ours must not hide the system's modules
        lines += [f'AddModule "{name}" "sd_{name}" "{config}"'
                  for name, config in detected_modules()]
    if make_default:
        lines.append(f"DefaultModule {MODULE}")
    lines.append(END)
    conf.write_text(base + ("\n" if base else "") + "\n".join(lines) + "\n")
    if not module_conf.exists():  # the user's edits survive a reinstall
        module_conf.write_text(MODULE_CONF)
    return [conf, module_conf]


def uninstall(target: Path | None = None) -> list[Path]:
    """Take the block out (and the whole speechd.conf when what is left is the
    system's copy, untouched); the files removed or rewritten."""
    target = target or default_dir()
    conf, module_conf, changed = target / "speechd.conf", target / "modules" / f"{MODULE}.conf", []
    if conf.exists():
        rest = _without_block(conf.read_text())
        system = system_dir()
        if system and rest == _without_block((system / "speechd.conf").read_text()):
            conf.unlink()
        else:
            conf.write_text(rest)
        changed.append(conf)
    if module_conf.exists():
        module_conf.unlink()
        changed.append(module_conf)
    return changed
