#!/usr/bin/env bash
# Writes dist/edgeperf_<version>_<arch>.deb from a build directory: `cmake --install` into
# a staging tree, Depends from dpkg-shlibdeps, then dpkg-deb. The file appears atomically.
# Usage: [EP_DIST_DIR=DIR] scripts/package.sh BUILD_DIR ARCH [SYSROOT]  (DIR: dist/)
#   ARCH is a Debian architecture (amd64, arm64). For a cross build, SYSROOT is the arm64
#   sysroot (scripts/arm64_sysroot.sh): its libraries are not installed packages, so its
#   .shlibs file (from the .debs it was unpacked from) tells dpkg-shlibdeps their packages.
set -euo pipefail
build=$(realpath "$1")
dist=$(realpath -m "${EP_DIST_DIR:-$(dirname "$0")/../dist}")
cd "$(dirname "$0")/.."
arch=$2
sysroot=${3:+$(realpath "$3")}
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || { echo "package: no project version in $build/CMakeCache.txt" >&2; exit 1; }
[ -x "$build/edgeperf" ] || { echo "package: $build/edgeperf is not built" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/stage
DESTDIR=$stage cmake --install "$build" --prefix /usr --strip >/dev/null

# dpkg-shlibdeps wants to run in a source package: an empty debian/control will do.
mkdir -p "$work/src/debian"
touch "$work/src/debian/control"
libdirs=()
if [ -n "$sysroot" ]; then
  [ -f "$sysroot/.shlibs" ] || { echo "package: $sysroot/.shlibs missing (rerun scripts/arm64_sysroot.sh)" >&2; exit 1; }
  cp "$sysroot/.shlibs" "$work/src/debian/shlibs.local"
  for dir in "$sysroot/usr/lib/aarch64-linux-gnu" "$sysroot/lib/aarch64-linux-gnu"; do
    [ -d "$dir" ] && libdirs+=("-l$dir")
  done
fi
multiarch=$(dpkg-architecture -a"$arch" -qDEB_HOST_MULTIARCH 2>/dev/null)
# Every ELF file installed: the program and the video module (FFmpeg), when built.
binaries=("$stage/usr/bin/edgeperf")
[ -f "$stage/usr/lib/edgeperf/edgeperf-video.so" ] && binaries+=("$stage/usr/lib/edgeperf/edgeperf-video.so")
depends=$(cd "$work/src" && DEB_HOST_ARCH=$arch DEB_HOST_MULTIARCH=$multiarch \
  dpkg-shlibdeps -O "${libdirs[@]}" "${binaries[@]}" 2>"$work/shlibdeps.log" |
  sed -n 's/^shlibs:Depends=//p') || true
if [ -z "$depends" ]; then
  echo "package: dpkg-shlibdeps found no dependencies for $arch:" >&2
  cat "$work/shlibdeps.log" >&2
  exit 1
fi

size=$(du -sk "$stage" | cut -f1)
mkdir -p "$stage/DEBIAN"
cat > "$stage/DEBIAN/control" <<EOF
Package: edgeperf
Version: $version
Architecture: $arch
Maintainer: edgeperf developers <edgeperf@users.noreply.invalid>
Installed-Size: $size
Depends: $depends
Section: science
Priority: optional
Description: run, optimize and honestly measure ML models on edge CPUs
 edgeperf runs ONNX models on CPUs (Raspberry Pi, Jetson, x86), quantizes and prunes
 them, and measures latency distributions, throughput, memory, startup, energy and
 accuracy, with a live sensor dashboard. Reports in JSON, Markdown and HTML.
EOF
(cd "$stage" && find usr -type f -exec md5sum {} + | sort -k2 > DEBIAN/md5sums)

mkdir -p "$dist"
name=edgeperf_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$dist/.$name.tmp" >/dev/null
sync "$dist/.$name.tmp"
mv "$dist/.$name.tmp" "$dist/$name"
echo "$dist/$name"
