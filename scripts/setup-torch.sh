#!/usr/bin/env bash
# Makes sure a PyPI torch==2.11.0 package exists and that `.torch` (read by .cargo/config.toml)
# points at it. Fast and silent when that is already so.
#
# Where torch comes from, first match wins:
#   NEGLECT_TORCH_DIR=/path/to/site-packages/torch   an existing torch package folder
#   NEGLECT_TORCH_PYTHON=/path/to/python             the torch that this Python has
#   otherwise                                        a project-local venv in .venv
# For the venv, NEGLECT_TORCH_INSTALL=lean|full picks the install (default: lean, then full if
# the lean one cannot load):
#   lean  the torch wheel without dependencies, plus the two CUDA runtime libraries that
#         libtorch_cpu.so is linked against (libcudart, libcupti): ~1.3 GB, CPU only.
#   full  `pip install torch==2.11.0` with all its NVIDIA wheels: ~4.6 GB, CPU and CUDA.
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.11.0
# The CUDA runtime wheels torch 2.11.0 pins (through cuda-toolkit 13.0.2).
LEAN_EXTRAS=("nvidia-cuda-runtime==13.0.96.*" "nvidia-cuda-cupti==13.0.85.*")
VENV=${NEGLECT_VENV:-.venv}
LINK=.torch

say() { echo "setup-torch: $*" >&2; }
die() { say "error: $*"; exit 1; }

# The torch package folder of a Python, found without importing torch (a lean install cannot
# `import torch`: its Python extension needs every CUDA library).
torch_dir_of() {
  "$1" - <<'PY' 2>/dev/null
import importlib.util
spec = importlib.util.find_spec("torch")
print(spec.submodule_search_locations[0] if spec and spec.submodule_search_locations else "")
PY
}

version_of() { sed -n "s/^__version__ = ['\"]\([^'\"]*\)['\"].*/\1/p" "$1/version.py" 2>/dev/null | head -1; }

# Can the dynamic loader open libtorch_cpu.so with everything it needs?
loads() { python3 -c "import ctypes,sys; ctypes.CDLL(sys.argv[1])" "$1/lib/libtorch_cpu.so" 2>/dev/null; }

check_dir() {
  local dir=$1 version
  [ -f "$dir/lib/libtorch_cpu.so" ] || return 1
  version=$(version_of "$dir")
  [ "${version%%+*}" = "$TORCH_VERSION" ] || { say "$dir has torch '$version', not $TORCH_VERSION"; return 1; }
  loads "$dir"
}

point_link_at() {
  local dir
  dir=$(cd "$1" && pwd -P)
  if [ "$(readlink "$LINK" 2>/dev/null)" != "$dir" ]; then
    ln -sfn "$dir" "$LINK"
    say "using torch $(version_of "$dir") at $dir"
  fi
}

if [ -n "${NEGLECT_TORCH_DIR:-}" ] || [ -n "${NEGLECT_TORCH_PYTHON:-}" ]; then
  dir=${NEGLECT_TORCH_DIR:-$(torch_dir_of "$NEGLECT_TORCH_PYTHON")}
  [ -n "$dir" ] || die "no torch package found for $NEGLECT_TORCH_PYTHON"
  check_dir "$dir" || die "$dir is not a loadable torch $TORCH_VERSION (libtorch_cpu.so must load)"
  point_link_at "$dir"
  exit 0
fi

# Already set up?
if [ -L "$LINK" ] && check_dir "$LINK"; then exit 0; fi

[ -x "$VENV/bin/python" ] || { say "creating $VENV"; python3 -m venv "$VENV"; }
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check -q)
dir=$(torch_dir_of "$VENV/bin/python")

mode=${NEGLECT_TORCH_INSTALL:-lean}
if [ -z "$dir" ] || ! check_dir "$dir"; then
  if [ "$mode" = lean ]; then
    say "installing torch==$TORCH_VERSION (lean: wheel without dependencies + CUDA runtime libraries)"
    "${PIP[@]}" install --no-deps "torch==$TORCH_VERSION" "${LEAN_EXTRAS[@]}"
    dir=$(torch_dir_of "$VENV/bin/python")
    if [ -n "$dir" ] && check_dir "$dir"; then
      point_link_at "$dir"; exit 0
    fi
    say "the lean install cannot load libtorch_cpu.so; falling back to the full install"
  fi
  say "installing torch==$TORCH_VERSION (full, ~4.6 GB)"
  "${PIP[@]}" install "torch==$TORCH_VERSION"
  dir=$(torch_dir_of "$VENV/bin/python")
  [ -n "$dir" ] && check_dir "$dir" || die "torch $TORCH_VERSION installed but libtorch_cpu.so does not load"
fi
point_link_at "$dir"
