# ep_openmp: the OpenMP every edgeperf library and program links (instead of
# OpenMP::OpenMP_CXX), with the runtime chosen by EP_OPENMP_RUNTIME.
#
# oneDNN opens one parallel region per primitive, and an INT8 primitive of a small model
# runs for a few microseconds. An empty two-thread region costs about 2.9 us in GNU
# libgomp and 1.5 us in LLVM's libomp on the 2-vCPU machines we measure on, and libomp
# also serves libgomp's GOMP_* entry points. With "llvm", libomp is linked ahead of every
# other library of a program, so the GOMP_* calls of our own code and of Debian's oneDNN
# and libtorch (built against libgomp) all bind to it; libgomp is still loaded by those
# libraries, and left unused. `edgeperf bench` reports the runtime a run found
# (system.openmp_runtime).
set(EP_OPENMP_RUNTIME "auto" CACHE STRING
    "OpenMP runtime: auto (llvm when libomp is found on a native g++ build), llvm or gnu")
set_property(CACHE EP_OPENMP_RUNTIME PROPERTY STRINGS auto llvm gnu)

file(GLOB EP_LLVM_LIB_DIRS /usr/lib/llvm-*/lib)
find_library(EP_LIBOMP NAMES libomp.so.5 omp HINTS ${EP_LLVM_LIB_DIRS})

set(EP_OPENMP_USES_LIBOMP OFF)
if(EP_OPENMP_RUNTIME STREQUAL "llvm")
  if(NOT EP_LIBOMP)
    message(FATAL_ERROR "EP_OPENMP_RUNTIME=llvm needs LLVM's libomp (Debian's libomp-dev: "
                        "scripts/setup.sh); or configure with -DEP_OPENMP_RUNTIME=gnu")
  endif()
  set(EP_OPENMP_USES_LIBOMP ON)
elseif(EP_OPENMP_RUNTIME STREQUAL "auto")
  if(EP_LIBOMP AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT CMAKE_CROSSCOMPILING)
    set(EP_OPENMP_USES_LIBOMP ON)
  endif()
elseif(NOT EP_OPENMP_RUNTIME STREQUAL "gnu")
  message(FATAL_ERROR "EP_OPENMP_RUNTIME must be auto, llvm or gnu, not '${EP_OPENMP_RUNTIME}'")
endif()

add_library(ep_openmp INTERFACE)
target_link_libraries(ep_openmp INTERFACE OpenMP::OpenMP_CXX)
if(EP_OPENMP_USES_LIBOMP)
  # A link option, so it comes before the objects and every library on the command line,
  # and libomp is the first DT_NEEDED entry: the dynamic linker then finds its GOMP_* and
  # omp_* symbols before libgomp's.
  target_link_options(ep_openmp INTERFACE
                      "SHELL:-Wl,--push-state,--no-as-needed ${EP_LIBOMP} -Wl,--pop-state")
  file(REAL_PATH ${EP_LIBOMP} EP_LIBOMP_FILE)
  get_filename_component(EP_EXPECTED_OPENMP_LIBRARY ${EP_LIBOMP_FILE} NAME)
  message(STATUS "OpenMP runtime: LLVM libomp (${EP_LIBOMP})")
else()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set(EP_EXPECTED_OPENMP_LIBRARY libgomp.so.1)
  else()
    set(EP_EXPECTED_OPENMP_LIBRARY "")  # the test that checks it is skipped
  endif()
  message(STATUS "OpenMP runtime: the compiler's (${OpenMP_CXX_LIB_NAMES})")
endif()
