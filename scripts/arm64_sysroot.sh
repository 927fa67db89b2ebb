#!/usr/bin/env bash
# Unpacks Debian's arm64 builds of the libraries edgeperf links against into a private
# sysroot (default build-arm64/sysroot), for cross-compiling with g++-aarch64-linux-gnu.
# Nothing is installed: several arm64 -dev packages cannot sit beside their amd64
# versions (libdnnl-dev's dnnl_config.h, libonnx-dev's libonnxifi, libxnnpack0). The C
# library comes from the cross toolchain (libc6-dev-arm64-cross). Idempotent: it does
# nothing when the sysroot already holds this package list.
# Usage: scripts/arm64_sysroot.sh [SYSROOT]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(realpath -m "${1:-build-arm64/sysroot}")

# What edgeperf links (arm64), and the architecture-independent headers it includes.
PACKAGES=(libonnx-dev libprotobuf-dev libdnnl-dev libfmt-dev libzstd-dev libsnappy-dev
          zlib1g-dev libcpp-httplib-dev libstb-dev libgtest-dev libgmock-dev libbenchmark-dev
          libgomp1)
INDEP=(nlohmann-json3-dev libcli11-dev)
# Provided by the cross toolchain, not taken from the arm64 archive.
TOOLCHAIN='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt-dev|libcrypt1|libgcc-s1|libstdc\+\+6|gcc-12-base|rpcsvc-proto|libnsl-dev|libnsl2|libtirpc-dev|libtirpc3):'

want="${PACKAGES[*]} ${INDEP[*]}"
if [ -f "$root/.packages" ] && [ "$(cat "$root/.packages")" == "$want" ] && [ -f "$root/.shlibs" ]; then
  exit 0
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO dpkg --add-architecture arm64
  $SUDO apt-get update -qq
fi

debs=$(mktemp -d)
trap 'rm -rf "$debs"' EXIT
mapfile -t arm64 < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances "${PACKAGES[@]/%/:arm64}" |
  grep -E '^[a-z0-9][^ ]*:arm64$' | grep -vE "$TOOLCHAIN" | sort -u)
(cd "$debs" && apt-get download "${arm64[@]}" "${INDEP[@]}" >/dev/null 2>&1)

rm -rf "$root.tmp"
mkdir -p "$root.tmp"
for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root.tmp"; done
# Absolute symlinks (libz.so -> /lib/...) point into the host; make them relative.
find "$root.tmp" -type l -lname '/*' | while read -r link; do
  target=$(readlink "$link")
  ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$root.tmp$target")" "$link"
done
# Which package each shared library belongs to, for dpkg-shlibdeps (scripts/package.sh):
# the package's shlibs file, or else one line per library its symbols file names, with
# the package's own version as the minimum.
for deb in "$debs"/*.deb; do
  if dpkg-deb -I "$deb" shlibs >/dev/null 2>&1; then
    dpkg-deb -I "$deb" shlibs | grep -vE '^\s*(#|$)'
  elif dpkg-deb -I "$deb" symbols >/dev/null 2>&1; then
    package=$(dpkg-deb -f "$deb" Package)
    upstream=$(dpkg-deb -f "$deb" Version | sed -E 's/^[0-9]+://; s/-[^-]*$//')
    dpkg-deb -I "$deb" symbols | sed -nE "s/^([^ *|#][^ ]*)\.so\.([^ ]+) .*/\1 \2 $package (>= $upstream)/p"
  fi
done > "$root.tmp/.shlibs"
echo "$want" > "$root.tmp/.packages"
rm -rf "$root"
mv "$root.tmp" "$root"
echo "arm64 sysroot: ${#arm64[@]} packages in $root"
