#!/usr/bin/env bash
# The logic of the scimreplay GitHub Action (action.yml at the repository root), kept out of
# the YAML so that it runs, and is tested, outside GitHub (tests/integration/action.rs feeds it
# a fake GITHUB_* environment).
#
#   run.sh plan      how scimreplay is got: writes `install`, `bin`, `install-dir` and
#                    `cache-key` to $GITHUB_OUTPUT (the cache step keys on them)
#   run.sh install   builds (`cargo install --locked --path`) or downloads (a release
#                    archive, its SHA-256 checked) scimreplay into the install folder
#   run.sh run       runs it writing JSON, JUnit and Markdown (and HTML when the binary has
#                    --html), appends the Markdown to $GITHUB_STEP_SUMMARY, writes the exit
#                    code, the counts and the report paths to $GITHUB_OUTPUT, and exits with
#                    scimreplay's exit code
#
# Inputs arrive as INPUT_<NAME> variables, each mapped in action.yml (never interpolated into
# a script, so an input cannot inject shell). The token and the OAuth client secret arrive as
# INPUT_TOKEN and INPUT_OAUTH_CLIENT_SECRET and reach scimreplay only as the environment
# variables it reads; nothing here prints them. Written for bash 3.2 (macOS) and Git Bash.
set -euo pipefail

fail() {
  echo "::error title=scimreplay action::$*" >&2
  exit 3
}

# One `name=value` line in $GITHUB_OUTPUT; a value with a line break could forge other outputs.
output() {
  case "$2" in
    *$'\n'* | *$'\r'*) fail "output $1 would span lines" ;;
  esac
  printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum | cut -d' ' -f1
  else
    shasum -a 256 | cut -d' ' -f1
  fi
}

action_path() {
  # GitHub sets GITHUB_ACTION_PATH to the action's checkout; a local run uses this file's.
  if [ -n "${GITHUB_ACTION_PATH:-}" ]; then
    printf '%s' "$GITHUB_ACTION_PATH"
  else
    (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  fi
}

# The Rust target triple of a release archive for this runner.
release_triple() {
  case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) echo x86_64-unknown-linux-gnu ;;
    macOS/ARM64) echo aarch64-apple-darwin ;;
    macOS/X64) echo x86_64-apple-darwin ;;
    Windows/X64) echo x86_64-pc-windows-msvc ;;
    *) fail "no release binary for runner ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; use version: source" ;;
  esac
}

# A digest of what `cargo install --path` builds from, so the cache follows the source.
source_digest() {
  local root
  root="$(action_path)"
  (
    cd "$root"
    find Cargo.toml Cargo.lock build.rs src scenarios snapshots/reference -type f 2>/dev/null |
      LC_ALL=C sort |
      while IFS= read -r file; do
        printf '%s %s\n' "$file" "$(sha256 <"$file")"
      done
  ) | sha256
}

install_dir() {
  local base="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}"
  printf '%s/scimreplay-action/%s' "$base" "$1"
}

# Where the binary is, by the inputs alone (the same answer in every step).
locate() {
  local version="${INPUT_VERSION:-source}"
  if [ -n "${INPUT_BINARY:-}" ]; then
    BIN="$INPUT_BINARY"
    INSTALL=false
    return
  fi
  case "$version" in
    path)
      BIN=scimreplay
      INSTALL=false
      ;;
    source)
      DIGEST="$(source_digest)"
      KEY="scimreplay-source-${RUNNER_OS:-local}-${RUNNER_ARCH:-local}-${DIGEST:0:32}"
      DIR="$(install_dir "source-${DIGEST:0:32}")"
      BIN="$DIR/bin/scimreplay"
      INSTALL=true
      ;;
    v[0-9]*)
      KEY="scimreplay-release-${RUNNER_OS:-local}-${RUNNER_ARCH:-local}-$version"
      DIR="$(install_dir "release-$version")"
      BIN="$DIR/bin/scimreplay"
      INSTALL=true
      ;;
    *) fail "version must be source, path or a release tag such as v0.1.0 (got: $version)" ;;
  esac
}

plan() {
  locate
  output install "$INSTALL"
  output bin "$BIN"
  if [ "$INSTALL" = true ]; then
    output install-dir "$DIR"
    output cache-key "$KEY"
  fi
}

install() {
  locate
  if [ "$INSTALL" != true ]; then
    echo "scimreplay: nothing to install ($BIN)"
    return
  fi
  mkdir -p "$DIR/bin"
  local version="${INPUT_VERSION:-source}"
  if [ "$version" = source ]; then
    cargo install --locked --path "$(action_path)" --root "$DIR"
    return
  fi
  local triple repo name archive url tmp
  triple="$(release_triple)"
  repo="${GITHUB_ACTION_REPOSITORY:-${GITHUB_REPOSITORY:-}}"
  [ -n "$repo" ] || fail "cannot tell which repository's releases to download from"
  name="scimreplay-$version-$triple"
  case "$triple" in
    *windows*) archive="$name.zip" ;;
    *) archive="$name.tar.gz" ;;
  esac
  url="${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download/$version"
  tmp="$(mktemp -d)"
  # Expanded now: the variable is gone when the trap runs at exit.
  trap "rm -rf '$tmp'" EXIT
  curl --fail --silent --show-error --location --retry 3 -o "$tmp/$archive" "$url/$archive"
  curl --fail --silent --show-error --location --retry 3 -o "$tmp/$archive.sha256" "$url/$archive.sha256"
  local want got
  want="$(cut -d' ' -f1 <"$tmp/$archive.sha256")"
  got="$(sha256 <"$tmp/$archive")"
  [ "$want" = "$got" ] || fail "$archive: SHA-256 $got does not match the release's $want"
  case "$archive" in
    *.zip)
      # Windows runners have 7-Zip; Git Bash may lack unzip.
      if command -v unzip >/dev/null 2>&1; then
        (cd "$tmp" && unzip -q "$archive")
      else
        7z x -y -o"$tmp" "$tmp/$archive" >/dev/null
      fi
      ;;
    *) tar xzf "$tmp/$archive" -C "$tmp" ;;
  esac
  cp "$tmp/$name/"scimreplay* "$DIR/bin/"
}

# The command as echoed in the log: a --header's value may be a key, so only its name shows.
shown() {
  local out="" hide=false arg
  for arg in "$@"; do
    if [ "$hide" = true ]; then
      arg="${arg%%:*}: ***"
      hide=false
    elif [ "$arg" = --header ]; then
      hide=true
    fi
    out="$out $arg"
  done
  printf '%s' "${out# }"
}

# A number from the JSON report's top-level `summary` (pretty-printed by scimreplay).
summary_count() {
  sed -n '/^  "summary": {$/,/^  }/s/^    "'"$1"'": \([0-9][0-9]*\),\{0,1\}$/\1/p' "$JSON" | head -n 1
}

run() {
  locate
  : "${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set: run.sh runs inside a GitHub Actions step}"
  : "${GITHUB_STEP_SUMMARY:?GITHUB_STEP_SUMMARY is not set}"
  # A relative binary path is the caller's, from before the change of folder.
  case "$BIN" in
    */*) BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")" ;;
  esac
  if [ -n "${INPUT_WORKING_DIRECTORY:-}" ]; then
    cd "$INPUT_WORKING_DIRECTORY" || fail "working-directory $INPUT_WORKING_DIRECTORY does not exist"
  fi
  local dir="${INPUT_REPORT_DIR:-${RUNNER_TEMP:-.}/scimreplay-reports}"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  JSON="$dir/scimreplay.json"
  local junit="$dir/scimreplay-junit.xml" markdown="$dir/scimreplay.md" html="$dir/scimreplay.html"
  # A report left by an earlier run in the same folder must not pass for this one's.
  rm -f "$JSON" "$junit" "$markdown" "$html"

  local args=(run --json "$JSON" --junit "$junit" --markdown "$markdown")
  # --html is newer than some binaries: ask this one (read whole, so no pipe is cut short).
  local help
  help="$("$BIN" run --help 2>/dev/null || true)"
  case "$help" in
    *--html*) args+=(--html "$html") ;;
  esac
  [ -z "${INPUT_TARGET:-}" ] || args+=(--target "$INPUT_TARGET")
  [ -z "${INPUT_BASELINE:-}" ] || args+=(--baseline "$INPUT_BASELINE")
  [ -z "${INPUT_MAPPINGS:-}" ] || args+=(--mappings "$INPUT_MAPPINGS")
  # Extra arguments: split on spaces and line breaks, no quoting, no globbing, no expansion.
  local word
  set -f
  for word in ${INPUT_ARGS:-}; do
    args+=("$word")
  done
  set +f

  if [ -n "${INPUT_TOKEN:-}" ]; then
    export SCIMREPLAY_TOKEN="$INPUT_TOKEN"
  fi
  if [ -n "${INPUT_OAUTH_CLIENT_SECRET:-}" ]; then
    export SCIMREPLAY_CLIENT_SECRET="$INPUT_OAUTH_CLIENT_SECRET"
  fi
  unset INPUT_TOKEN INPUT_OAUTH_CLIENT_SECRET

  echo "scimreplay $(shown "${args[@]}")"
  local code=0
  "$BIN" "${args[@]}" || code=$?

  if [ -s "$markdown" ]; then
    cat "$markdown" >>"$GITHUB_STEP_SUMMARY"
  else
    printf '### scimreplay\n\nscimreplay exited with code %s before writing a report; the step log says why.\n' \
      "$code" >>"$GITHUB_STEP_SUMMARY"
  fi

  output exit-code "$code"
  output report-dir "$dir"
  local name
  if [ -s "$JSON" ]; then
    output json "$JSON"
    output verdict "$(sed -n 's/^  "verdict": "\([a-z-]*\)",\{0,1\}$/\1/p' "$JSON" | head -n 1)"
    for name in scenarios steps passed failed warned drift errored skipped causes; do
      output "$name" "$(summary_count "$name")"
    done
  fi
  [ ! -s "$junit" ] || output junit "$junit"
  [ ! -s "$markdown" ] || output markdown "$markdown"
  [ ! -s "$html" ] || output html "$html"
  if [ "$code" -ne 0 ]; then
    echo "::error title=scimreplay::scimreplay exited with code $code (see the job summary)"
  fi
  exit "$code"
}

case "${1:-}" in
  plan) plan ;;
  install) install ;;
  run) run ;;
  *) fail "usage: run.sh plan|install|run" ;;
esac
