#pragma once
// Running parted ops (region_context.h: PartedOp) alone or in sequences. An OpenMP fork
// and join costs 1.6 us on two threads of our 2-vCPU machines, a spin barrier 0.25 us; an
// int8 op of a small model runs for 3 to 10 us. So a region runs each sequence of parted
// ops in one parallel region: every thread runs its parts of an op, waits at the barrier
// for the others, and goes on to the next op.
#include <atomic>
#include <memory>
#include <optional>
#include <span>

#include "region_context.h"

namespace edgeperf::runtime::onednn {

// A PartedOp over `op`, which has max_parts(), run_part(args, part, parts) and, if it
// needs one, finish(args, parts).
template <typename Op>
PartedOp parted(Op op) {
  auto shared = std::make_shared<const Op>(std::move(op));
  PartedOp result{
      shared->max_parts(),
      [shared](const ArgMap& args, int part, int parts) { shared->run_part(args, part, parts); },
      {}};
  if constexpr (requires(const ArgMap& args) { shared->finish(args, 1); }) {
    result.finish = [shared](const ArgMap& args, int parts) { shared->finish(args, parts); };
  }
  return result;
}

// `primitive`, made while OpenMP had one thread (so it never forks), as a parted op of one
// part: run on `args` when given, else on the arguments the region passes.
PartedOp one_part_primitive(dnnl::primitive primitive, const dnnl::engine& engine,
                            std::optional<ArgMap> args = std::nullopt);

// The op alone: its parts in a parallel region of their own (one part per thread, or
// every part in turn on one thread), then its finish.
CustomOp run_alone(std::shared_ptr<const PartedOp> op);

// A barrier for the threads of one parallel region that spins (yielding the core after a
// while, for a thread descheduled by another process) instead of sleeping.
class SpinBarrier {
 public:
  void wait(int team);

 private:
  alignas(64) std::atomic<int> arrived_{0};
  alignas(64) std::atomic<unsigned> generation_{0};
};

// One op of a sequence and the arguments it runs on.
struct PartedStep {
  const PartedOp* op = nullptr;
  const ArgMap* args = nullptr;
  int most_parts = 0;  // > 0: at most this many parts (1: the op runs on the first thread)
};

// Called on the first thread after each op of a sequence finished on every thread.
using StepDone = std::function<void(std::size_t index)>;

// Runs `steps` in order in one parallel region of up to `threads` threads: op k+1 starts
// only when every part of op k and its finish are done.
void run_parted_sequence(std::span<const PartedStep> steps, int threads, SpinBarrier& barrier,
                         const StepDone& done = {});

}  // namespace edgeperf::runtime::onednn
