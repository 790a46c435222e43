#!/usr/bin/env bash
# README's test command: set up .venv if needed, then run the whole suite (slow tests included).
# Pass pytest arguments through, e.g. `bash scripts/test.sh -m "not slow"` for the quick subset.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
