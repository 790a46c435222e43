#!/usr/bin/env bash
# The ARM check environment (`edgekit convert --arm-check`): a Debian bookworm arm64 userland with CPython
# 3.11 and the pinned aarch64 wheels of numpy and tflite-runtime (scripts/arm_env_requirements.txt), run
# on this x86_64 machine with qemu user emulation. Installs from the package registries once; nothing is
# downloaded when a check runs. Re-running is cheap: a stamp holding the inputs' hash skips the work.
#
#   scripts/setup_arm_env.sh            # into $EDGEKIT_ARM_ENV, default .venv/arm64
#
# binfmt_misc is not assumed (sandboxes and containers often lack it): edgekit calls
# `qemu-aarch64-static -L ROOT ROOT/usr/bin/python3.11` explicitly.
set -euo pipefail
cd "$(dirname "$0")/.."

dir=${EDGEKIT_ARM_ENV:-.venv/arm64}
suite=bookworm                      # CPython 3.11: the wheels below are cp311
debs=python3.11-minimal,libpython3.11-stdlib,libstdc++6,zlib1g
reqs=scripts/arm_env_requirements.txt
py=${EDGEKIT_HOST_PYTHON:-.venv/bin/python}   # only used to fetch and unpack wheels (pip, zipfile)
id=$( (echo "$suite $debs"; cat "$reqs" "$0") | sha256sum | cut -c1-16)
stamp="$dir/edgekit-arm-env.json"

die() { echo "setup_arm_env: $*" >&2; exit 1; }

if [ -f "$stamp" ] && grep -q "\"id\": \"$id\"" "$stamp"; then exit 0; fi
[ "$(uname -m)" = x86_64 ] || die "this host is $(uname -m); the ARM check emulates aarch64 on x86_64 hosts only"
if ! command -v qemu-aarch64-static >/dev/null || ! command -v mmdebstrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static mmdebstrap >/dev/null
  else
    die "needs qemu-aarch64-static and mmdebstrap (Debian/Ubuntu: apt-get install qemu-user-static mmdebstrap)"
  fi
fi
[ -x "$py" ] || die "no host Python at $py (run scripts/setup.sh first, or set EDGEKIT_HOST_PYTHON)"

tmp="$dir.building"
rm -rf "$tmp"; mkdir -p "$tmp/wheels"
trap 'rm -rf "$tmp"' EXIT
# --variant=extract unpacks the packages and their dependencies without running maintainer scripts, so it
# needs neither root-in-chroot nor binfmt_misc. No mirror given: Debian's default plus updates/security.
mmdebstrap --quiet --arch=arm64 --variant=extract --include="$debs" "$suite" "$tmp/root" \
  || die "mmdebstrap could not build the arm64 userland (network to the Debian archive needed once)"
"$py" -m pip download -q --no-deps --only-binary=:all: --require-hashes -r "$reqs" \
  --platform manylinux_2_34_aarch64 --platform manylinux2014_aarch64 --python-version 3.11 \
  --implementation cp --abi cp311 -d "$tmp/wheels" || die "pip could not fetch the aarch64 wheels"
mkdir -p "$tmp/root/opt/edgekit/site"
for w in "$tmp"/wheels/*.whl; do "$py" -m zipfile -e "$w" "$tmp/root/opt/edgekit/site"; done
rm -rf "$tmp/wheels" "$tmp/root/usr/share/doc" "$tmp/root/usr/share/man" "$tmp/root/usr/share/locale"

# Smoke test under emulation: the interpreter starts, the wheels import, and it really is aarch64.
info=$(PYTHONPATH="$tmp/root/opt/edgekit/site" qemu-aarch64-static -cpu cortex-a76 -L "$tmp/root" \
  "$tmp/root/usr/bin/python3.11" -c 'import json, platform, numpy, tflite_runtime
print(json.dumps({"machine": platform.machine(), "python": platform.python_version(), "libc": "-".join(platform.libc_ver()),
                  "numpy": numpy.__version__, "tflite_runtime": tflite_runtime.__version__}))') \
  || die "the emulated Python did not start (qemu-aarch64-static $(qemu-aarch64-static --version | head -1))"
qemu=$(qemu-aarch64-static --version | head -1)
"$py" - "$tmp/edgekit-arm-env.json" "$id" "$suite" "$debs" "$qemu" "$info" <<'EOF'
import json, sys
out, id_, suite, debs, qemu, info = sys.argv[1:]
stamp = {"id": id_, "debian_suite": suite, "debian_packages": debs.split(","), "qemu": qemu,
         "root": "root", "site": "root/opt/edgekit/site", **json.loads(info)}
assert stamp["machine"] == "aarch64", stamp
open(out, "w").write(json.dumps(stamp, indent=1) + "\n")
EOF
rm -rf "$dir"; mv "$tmp" "$dir"; trap - EXIT
echo "setup_arm_env: arm64 check environment ready in $dir ($(du -sh "$dir" | cut -f1): $info)"
