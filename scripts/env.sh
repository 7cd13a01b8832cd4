# Sourced by the project's scripts: puts the project's own toolchain first on PATH.
# The npm packages ship the real anvil/forge/cast binaries in per-platform packages; calling them
# directly skips the Node.js launcher that node_modules/.bin adds in front of every call.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for _tool in anvil forge cast; do
  for _dir in "$_root"/node_modules/@foundry-rs/"$_tool"-*/bin; do
    [ -x "$_dir/$_tool" ] && PATH="$_dir:$PATH"
  done
done
export PATH="$_root/.venv/bin:$_root/node_modules/.bin:$PATH"
unset _root _tool _dir
