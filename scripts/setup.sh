#!/usr/bin/env bash
# Build .venv/ (CPython 3.10: Paddle-Lite's wheels stop at cp310) with the pinned stack, once.
# Re-running is cheap: a stamp holding requirements.lock's hash skips the install when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

find_py310() {
  # A pyenv shim named python3.10 exists but refuses unless 3.10 is selected, so try real binaries first.
  local c
  for c in "${EDGEKIT_PYTHON:-}" /root/.pyenv/versions/3.10.*/bin/python3.10 "$HOME"/.pyenv/versions/3.10.*/bin/python3.10 \
           /usr/bin/python3.10 /usr/local/bin/python3.10; do
    [ -n "$c" ] && [ -x "$c" ] && "$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null && { echo "$c"; return; }
  done
  if command -v pyenv >/dev/null 2>&1; then
    for v in $(pyenv versions --bare 2>/dev/null | grep '^3\.10\.'); do
      c="$(pyenv root)/versions/$v/bin/python3.10"; [ -x "$c" ] && { echo "$c"; return; }
    done
  fi
  return 1
}

# The stock adb server (Debian's `adb`) for the device-farm tests; installed once, cheap when present.
if ! command -v adb >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq adb; } >/dev/null 2>&1 \
    || echo "setup: could not install Debian's adb; the adb-server tests will be skipped" >&2
fi
# The emulated arm64 environment of `convert --arm-check` (its own stamp makes a re-run cheap). Optional:
# a host that cannot provide it gets a warning here, and --arm-check then says what is missing.
arm_env() { bash scripts/setup_arm_env.sh || echo "setup: warning: ARM check environment not installed (convert --arm-check needs it)" >&2; }

stamp=.venv/.edgekit-lock-$(sha256sum requirements.lock pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && .venv/bin/python -c 'import edge_kit' 2>/dev/null; then arm_env; exit 0; fi

py=$(find_py310) || { echo "setup: CPython 3.10 not found (Paddle-Lite 2.13 has wheels for cp38-cp310 only); set EDGEKIT_PYTHON" >&2; exit 1; }
[ -x .venv/bin/python ] || "$py" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -r requirements.lock
.venv/bin/python -m pip install -q --no-deps -e .
.venv/bin/python -m pip check
# tflite-support's metadata writers (for `edgekit bundle --app tflite-task`) pin protobuf<4, which
# TensorFlow 2.21 cannot use: install the wheel alone under the venv's prefix, where
# converters/tflite_metadata.py looks by default (EDGEKIT_TFLITE_SUPPORT_PATH overrides); only a child
# process imports it.
.venv/bin/python -m pip install -q --no-deps --upgrade --target .venv/share/edgekit/tflite_support "tflite-support==0.4.4"
# Its native modules link libusb-1.0.so.0: Debian's libusb-1.0-0 (installed when running as root on Debian).
if ! ldconfig -p 2>/dev/null | grep -q 'libusb-1\.0\.so\.0'; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libusb-1.0-0 >/dev/null
  else
    echo "setup: warning: libusb-1.0.so.0 is missing; \`edgekit bundle --app tflite-task\` needs it (Debian: apt-get install libusb-1.0-0)" >&2
  fi
fi
rm -f .venv/.edgekit-lock-*; touch "$stamp"
arm_env
echo "setup: .venv ready ($(.venv/bin/python --version))"
