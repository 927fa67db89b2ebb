#!/usr/bin/env bash
# Installs everything edgeperf needs to build, test and run its peers.
# Idempotent: it installs only what is missing. Debian packages and npm only.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  cmake g++ make ccache pkg-config clang libclang-rt-14-dev
  # dpkg-shlibdeps and dpkg-architecture for `make package` (scripts/package.sh).
  dpkg-dev
  libonnx-dev protobuf-compiler libprotobuf-dev
  libdnnl-dev libcli11-dev nlohmann-json3-dev libfmt-dev libcpp-httplib-dev
  # LLVM's OpenMP runtime: oneDNN's parallel regions fork and join faster on it than on
  # libgomp (cmake/openmp_runtime.cmake).
  libomp-dev
  libzstd-dev libsnappy-dev zlib1g-dev libthrift-dev libstb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # edgeperf vision: video files through FFmpeg; the ffmpeg command makes the test videos.
  libavformat-dev libavcodec-dev libswscale-dev libavutil-dev ffmpeg
  python3 python3-numpy
  chromium wrk
  # qemu-x86_64 -cpu Haswell runs the default build on a CPU without AVX-512 (e2e test).
  qemu-user
  # The model suite (bench/suite): torchvision exports and python3-onnx rewrites; `make
  # test` builds its CI subset.
  python3-torch python3-torchvision python3-onnx
  # Keyword-spotting audio made locally (tools/make_kws_data.py) and checked (e2e).
  espeak-ng sox
)
# The training engine (edgeperf qat / finetune: libtorch) is built on x86-64 only.
[ "$(dpkg --print-architecture)" = amd64 ] && APT_PACKAGES+=(libtorch-dev)
# Only for tools/ (training the fixtures in models/fixtures): `scripts/setup.sh --tools`.
TOOLS_PACKAGES=(python3-sklearn)
# Cross-building for arm64 (`make build-arm64`, `scripts/setup.sh --arm64`): the cross
# compiler, qemu, and the arm64 C/C++ runtime qemu-aarch64 runs the binaries with
# (Multi-Arch: same, beside the amd64 one). The libraries edgeperf links go to a private
# sysroot instead (scripts/arm64_sysroot.sh): some arm64 -dev packages conflict with amd64.
ARM64_PACKAGES=(g++-aarch64-linux-gnu qemu-user libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
for arg in "$@"; do
  case "$arg" in
    --tools) APT_PACKAGES+=("${TOOLS_PACKAGES[@]}") ;;
    --arm64)
      APT_PACKAGES+=("${ARM64_PACKAGES[@]}")
      if ! dpkg --print-foreign-architectures | grep -qx arm64; then
        $SUDO dpkg --add-architecture arm64
        $SUDO apt-get update -qq
      fi ;;
    *) echo "setup: unknown option '$arg' (expected --tools or --arm64)" >&2; exit 2 ;;
  esac
done

# Node.js: Debian's nodejs + npm only where no node is installed (the machine image may
# ship its own Node.js, whose bundled npm conflicts with Debian's npm package).
command -v node >/dev/null && command -v npm >/dev/null || APT_PACKAGES+=(nodejs npm)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

NPM_FLAGS=(--ignore-scripts --no-audit --no-fund --loglevel=error)

# On an arm64 board (Raspberry Pi OS, Jetson): package.json pins the linux-x64 builds of
# the native peers, because their parents list every platform's build as optional and npm
# skips those on Node 20 (they ask for Node 22). npm refuses x64 packages on arm64, so
# there DuckDB's linux-arm64 build takes their place and Polars is left out (0.26.1 has no
# linux-arm64 build; the Polars peer reports itself skipped). onnxruntime-node ships
# linux/arm64 binaries. package-lock.json stays the x64 one.
npm_install_arm64() {
  local tmp
  tmp=$(mktemp -d)
  sed -e 's#"@duckdb/node-bindings-linux-x64"#"@duckdb/node-bindings-linux-arm64"#' \
      -e '/"nodejs-polars-linux-x64-gnu"/d' package.json > "$tmp/package.json"
  npm install --prefix "$tmp" --no-package-lock "${NPM_FLAGS[@]}"
  rm -rf node_modules
  mv "$tmp/node_modules" node_modules
  rm -rf "$tmp"
}

# Node peers (parity tests, benchmarks, browser tests). --ignore-scripts: the
# onnxruntime-node install script tries to download GPU binaries.
if [ -f package.json ]; then
  stamp=node_modules/.edgeperf-stamp
  if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ]; then
    echo "setup: npm install"
    case "$(uname -m)" in
      aarch64) npm_install_arm64 ;;
      *) npm install "${NPM_FLAGS[@]}" ;;
    esac
    touch "$stamp"
  fi
fi
