# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
# Rasa 3.6 needs Python 3.10. A pyenv shim may exist without 3.10 being active,
# so probe that it really runs before trusting it.
PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
	$$p -c 'import sys; assert sys.version_info[:2]==(3,10)' 2>/dev/null && { echo $$p; break; }; done)
STAMP := $(VENV)/.installed
MODEL := models/advisor.tar.gz
# Voice notes' default speech model (scripts/speech-model.sh: pinned, joined, sha256-checked).
SPEECH_MODEL := models/speech/whisper-base/model.bin
TRAIN_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' -not -path 'data/eval/*' 2>/dev/null) \
	$(wildcard policy_kb/policies/*.yml) policy_kb/facts.yml

.PHONY: setup run test train bench eval validate serve clean

setup: $(STAMP) $(SPEECH_MODEL)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON310)" || { echo "需要 Python 3.10（Rasa 3.6 不支持 3.11）：请安装 python3.10"; exit 1; }
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q ./vendor/opencv-python-headless-shim   # before rapidocr: one OpenCV only
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m pip check
	scripts/system-deps.sh
	@touch $@

$(SPEECH_MODEL): scripts/speech-model.sh | $(STAMP)
	scripts/speech-model.sh $(PY)

# Retrain only when training data, domain, config or the KB vocabulary changed.
$(MODEL): $(STAMP) $(TRAIN_INPUTS) | $(SPEECH_MODEL)
	$(VENV)/bin/eldercare train

train: $(MODEL)

run: $(MODEL)
	$(VENV)/bin/eldercare run

serve: $(MODEL)
	$(VENV)/bin/eldercare serve

validate: $(STAMP)
	$(VENV)/bin/eldercare policy validate

test: $(MODEL)
	$(VENV)/bin/eldercare policy validate
	$(VENV)/bin/python -m pytest

bench: $(MODEL)
	$(PY) -m bench.report

eval: $(MODEL)
	$(VENV)/bin/eldercare eval

clean:
	rm -rf models .rasa var
