#pragma once
// oneDNN fixes a primitive's thread count when its descriptor is created: a convolution
// made while OpenMP had 2 threads forks 2 whenever it runs, even with OpenMP lowered to
// 1 around it (7 us per run on our 2-vCPU machines, against 1 for one made on 1 thread).
// An op the plan runs on one thread (Kernel::set_part_threads) gets its primitive made
// again on one thread: the same implementation, the same arguments.
#include <dnnl.hpp>
#include <optional>
#include <vector>

namespace edgeperf::runtime::onednn {

struct OneThreadPrimitive {
  dnnl::primitive primitive;
  dnnl::memory::desc scratchpad;  // empty when it needs none
};

// `wide` made again with OpenMP on one thread, when oneDNN gives the same implementation,
// the same layout for each of `args` (DNNL_ARG_*: a conv's weights may be blocked
// otherwise for another thread count, and the region packed them for `wide`) and a
// scratchpad of at most `scratchpad_limit` bytes; nullopt otherwise (the op then keeps
// `wide`).
std::optional<OneThreadPrimitive> make_one_thread_primitive(const dnnl::primitive& wide,
                                                            const dnnl::engine& engine,
                                                            std::size_t scratchpad_limit,
                                                            const std::vector<int>& args);

}  // namespace edgeperf::runtime::onednn
