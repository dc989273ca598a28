#!/usr/bin/env bash
# Installs code-server 4.100.3 (= VS Code 1.100.3) into a git-ignored cache folder, offline-safe.
# @vscode/test-electron cannot download VS Code on these machines; code-server from the npm registry
# carries a full VS Code server + web workbench. Idempotent: a finished install is reused, a
# half-finished one (no .complete marker) is wiped and redone.
set -euo pipefail
VERSION=4.100.3
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${CODE_SERVER_CACHE:-$ROOT/.vscode-test/code-server-$VERSION}"
MARK="$CACHE/.complete"
CS="$CACHE/node_modules/code-server"

if [ -f "$MARK" ] && [ -f "$CS/out/node/entry.js" ]; then
  echo "code-server $VERSION: cached at $CACHE"
  exit 0
fi

missing=()
command -v rg >/dev/null 2>&1 || missing+=("ripgrep (provides /usr/bin/rg)")
[ -e /usr/include/krb5.h ] || [ -e /usr/include/krb5/krb5.h ] || missing+=("libkrb5-dev (kerberos headers for code-server's native module)")
command -v g++ >/dev/null 2>&1 || missing+=("g++ (native modules)")
command -v make >/dev/null 2>&1 || missing+=("make (native modules)")
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-code-server: missing system packages:" >&2
  for m in "${missing[@]}"; do echo "  - $m" >&2; done
  echo "Fix: apt-get update && apt-get install -y ripgrep libkrb5-dev g++ make" >&2
  exit 3
fi

if [ -d "$CACHE" ]; then
  echo "code-server $VERSION: found a half-finished install at $CACHE; starting over"
  rm -rf "$CACHE"
fi
mkdir -p "$CACHE"
cd "$CACHE"
echo '{"name":"code-server-cache","private":true}' > package.json
log="$CACHE/install.log"
step() { echo "code-server $VERSION: $1"; }
run() { if ! "$@" >>"$log" 2>&1; then echo "install-code-server: failed: $* (see $log)" >&2; tail -20 "$log" >&2; exit 4; fi; }

step "npm install (scripts off: its own postinstall downloads ripgrep and refuses root)"
run npm install --no-audit --no-fund --ignore-scripts --no-save code-server@$VERSION
run npm rebuild argon2
cd "$CS/lib/vscode"
step "VS Code server dependencies"
run npm install --omit=dev --ignore-scripts --no-audit --no-fund
step "native modules"
npm_config_yes=true run npm rebuild @vscode/spdlog node-pty native-watchdog @vscode/deviceid kerberos
mkdir -p node_modules/@vscode/ripgrep/bin
cp "$(command -v rg)" node_modules/@vscode/ripgrep/bin/rg
[ -e node_modules.asar ] || ln -s node_modules node_modules.asar
step "built-in extensions' dependencies"
cd extensions
run npm install --omit=dev --ignore-scripts --no-audit --no-fund
touch "$MARK"
step "ready at $CACHE"
