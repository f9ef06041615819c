#!/usr/bin/env bash
# The one test command: installs whatever is missing, builds the wasm
# components and the release host, then runs every suite.
#
#   bash tests/run.sh
#
# Cargo's output goes to a cache outside the checkout (`target` becomes a
# symlink to $EDGECHAT_TARGET_CACHE, default ~/.cache/edgechat/target) so that
# fresh clones, like CI's, reuse one warm build of wasmtime.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

# --- system packages ---------------------------------------------------------
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v python3 >/dev/null || missing+=(python3)
# The widget's browser tests (tests/browser) drive Debian's chromium.
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The OpenAPI suite validates /openapi.json with a real spec validator.
if ! python3 -c 'import openapi_spec_validator' 2>/dev/null; then
  say "installing openapi-spec-validator"
  python3 -m pip install --quiet --disable-pip-version-check openapi-spec-validator
fi

# The api suite's fuzz test (tests/tests/api/schemathesis.rs) runs
# schemathesis from a virtualenv of its own, every package pinned.
st_venv="$HOME/.cache/edgechat/schemathesis"
st_pins=tests/tests/api/schemathesis/requirements.txt
st_version=$(sed -n 's/^schemathesis==//p' "$st_pins")
if ! "$st_venv/bin/st" --version 2>/dev/null | grep -qx "st, version $st_version"; then
  say "installing schemathesis $st_version"
  python3 -m venv "$st_venv" 2>/dev/null || {
    # Debian's python3 leaves venv (ensurepip) to a package of its own.
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$st_venv"
  }
  "$st_venv/bin/pip" install --quiet --disable-pip-version-check -r "$st_pins"
fi

# The webhook suite's receiver verifies deliveries with the official
# `standardwebhooks` package, from a virtualenv of its own, pinned.
wh_venv="$HOME/.cache/edgechat/webhook-receiver"
wh_pins=tests/tests/webhooks/receiver/requirements.txt
wh_version=$(sed -n 's/^standardwebhooks==//p' "$wh_pins")
if ! "$wh_venv/bin/pip" show standardwebhooks 2>/dev/null | grep -qx "Version: $wh_version"; then
  say "installing standardwebhooks $wh_version"
  python3 -m venv "$wh_venv" 2>/dev/null || {
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq python3-venv >/dev/null
    python3 -m venv "$wh_venv"
  }
  "$wh_venv/bin/pip" install --quiet --disable-pip-version-check -r "$wh_pins"
fi

# --- Rust --------------------------------------------------------------------
# rust-toolchain.toml names the target, but rustup only adds targets when it
# installs a toolchain, not to one that is already there.
rustup target add wasm32-wasip2 >/dev/null 2>&1 || rustup target add wasm32-wasip2

if [ ! -e target ]; then
  cache="${EDGECHAT_TARGET_CACHE:-$HOME/.cache/edgechat/target}"
  mkdir -p "$cache"
  ln -s "$cache" target
fi

# --- build -------------------------------------------------------------------
components=()
for dir in functions/*/ tests/components/*/; do
  components+=(-p "$(basename "$dir")")
done
say "building the wasm components"
cargo build --target wasm32-wasip2 --profile wasm "${components[@]}"
say "building the release host and the test suites"
# --all-targets resolves features exactly as `cargo test` does, so the tests
# below reuse this build instead of compiling wasmtime a second time.
cargo build --release --all-targets

# --- test --------------------------------------------------------------------
# playwright-core for the browser tests (pinned in tests/browser/package-lock.json).
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  say "installing the browser tests' npm packages"
  (cd tests/browser && npm ci --no-audit --no-fund)
fi
say "running every suite"
cargo test --release
