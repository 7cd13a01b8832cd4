# Sourced by the project's scripts: puts the project's own toolchain first on PATH.
# The npm packages ship the real anvil/forge/cast binaries in per-platform packages; calling them
# directly skips the Node.js launcher that node_modules/.bin adds in front of every call.
# The launcher also loses the binary's exit status (a failing `forge test` would exit 0), so the
# native directories must come first on PATH, ahead of node_modules/.bin.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PATH="$_root/.venv/bin:$_root/node_modules/.bin:$PATH"
for _tool in anvil forge cast; do
  for _dir in "$_root"/node_modules/@foundry-rs/"$_tool"-*/bin; do
    if [ -x "$_dir/$_tool" ]; then PATH="$_dir:$PATH"; fi
  done
done
export PATH
unset _root _tool _dir
