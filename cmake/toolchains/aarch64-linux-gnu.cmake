# Cross-compiles edgeperf for arm64 (Raspberry Pi 4/5, Jetson) with Debian's
# g++-aarch64-linux-gnu against Debian's arm64 libraries, unpacked into a private
# sysroot by scripts/arm64_sysroot.sh (`make build-arm64` does both).
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DEP_ARM64_SYSROOT=$PWD/build-arm64/sysroot
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

if(NOT EP_ARM64_SYSROOT)
  set(EP_ARM64_SYSROOT "$ENV{EP_ARM64_SYSROOT}")
endif()
if(NOT EXISTS "${EP_ARM64_SYSROOT}/.packages")
  message(FATAL_ERROR "EP_ARM64_SYSROOT='${EP_ARM64_SYSROOT}' is not an arm64 sysroot: "
                      "run scripts/arm64_sysroot.sh first")
endif()
# Try-compiles (find_package(OpenMP) and friends) see the same settings.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES EP_ARM64_SYSROOT)

# Libraries and CMake packages only from the sysroot and the cross toolchain; programs
# (protoc, python3) from the host.
set(CMAKE_FIND_ROOT_PATH "${EP_ARM64_SYSROOT}" /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The sysroot's headers after the toolchain's own (its C library comes first), and its
# libraries for the linker, including the ones shared libraries pull in.
set(_ep_lib "${EP_ARM64_SYSROOT}/usr/lib/aarch64-linux-gnu")
set(_ep_base_lib "${EP_ARM64_SYSROOT}/lib/aarch64-linux-gnu")  # zlib, ...
set(CMAKE_CXX_FLAGS_INIT
    "-idirafter ${EP_ARM64_SYSROOT}/usr/include/aarch64-linux-gnu -idirafter ${EP_ARM64_SYSROOT}/usr/include")
set(CMAKE_C_FLAGS_INIT "${CMAKE_CXX_FLAGS_INIT}")
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-L${_ep_lib} -Wl,-rpath-link,${_ep_lib} -Wl,-rpath-link,${_ep_base_lib}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${CMAKE_EXE_LINKER_FLAGS_INIT}")

set(ENV{PKG_CONFIG_LIBDIR} "${_ep_lib}/pkgconfig:${EP_ARM64_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${EP_ARM64_SYSROOT}")

# Test binaries run under user-mode emulation (test discovery included).
set(CMAKE_CROSSCOMPILING_EMULATOR
    qemu-aarch64 -E LD_LIBRARY_PATH=${_ep_lib}:${_ep_base_lib})
