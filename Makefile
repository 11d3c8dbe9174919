# The two set-up commands of README.md: `make demo` and `make test`.
PYTHON ?= python3
PIP = $(PYTHON) -m pip --disable-pip-version-check
DEMO_TEXT = Hello from kokoro-pipe. This sentence was synthesized on your machine, and streamed as it was made.

.PHONY: install install-test demo test lint

install:
	scripts/install-system-deps
	$(PIP) install --quiet -e .
	-command -v pyenv >/dev/null 2>&1 && pyenv rehash
	$(PYTHON) scripts/install-man-pages  # an editable install leaves them out
	$(PYTHON) -m kokoro_pipe.cli.models install
	$(PYTHON) -c 'import sys; print(sys.executable)' > .kk-python  # for bin/, once installed

install-test: install
	scripts/install-system-deps --test
	$(PIP) install --quiet -e '.[test]'

demo: install
	echo "$(DEMO_TEXT)" | $(PYTHON) -m kokoro_pipe.cli.synth --wav -o demo.wav
	@$(PYTHON) -c "import soundfile as sf; i = sf.info('demo.wav'); print(f'wrote demo.wav: {i.duration:.2f} s at {i.samplerate} Hz')"

lint:
	$(PYTHON) -m ruff check kokoro_pipe tests bench
	# The pipeline's import direction (contracts in pyproject.toml); import-linter has no -m entry.
	$(PYTHON) -c 'from importlinter.cli import lint_imports_command; lint_imports_command()'

test: install-test lint
	$(PYTHON) -m pytest
