#include "parted_ops.h"

#include <omp.h>

#include <algorithm>
#include <thread>

namespace edgeperf::runtime::onednn {
namespace {

// Spins before the waiting thread starts giving its core away: 4096 pauses took 78-80 us
// on our Zen machines (a pause is about 60 cycles there, longer on recent Intel cores).
constexpr int kSpinsBeforeYield = 4096;

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

int parts_for(const PartedOp& op, int threads) {
  return std::max(1, std::min(op.max_parts, threads));
}

}  // namespace

PartedOp one_part_primitive(dnnl::primitive primitive, const dnnl::engine& engine,
                            std::optional<ArgMap> args) {
  return PartedOp{
      1,
      [primitive = std::move(primitive), stream = dnnl::stream(engine), own = std::move(args)](
          const ArgMap& bound, int, int) mutable { primitive.execute(stream, own ? *own : bound); },
      {}};
}

CustomOp run_alone(std::shared_ptr<const PartedOp> op) {
  return [op = std::move(op)](const ArgMap& args) {
    const int parts = parts_for(*op, omp_get_max_threads());
#pragma omp parallel for num_threads(parts) schedule(static, 1) if (parts > 1)
    for (int part = 0; part < parts; ++part) op->run_part(args, part, parts);
    if (op->finish) op->finish(args, parts);
  };
}

void SpinBarrier::wait(int team) {
  if (team <= 1) return;
  const unsigned generation = generation_.load(std::memory_order_acquire);
  if (arrived_.fetch_add(1, std::memory_order_acq_rel) == team - 1) {
    arrived_.store(0, std::memory_order_relaxed);
    generation_.store(generation + 1, std::memory_order_release);
    return;
  }
  for (int spins = 0; generation_.load(std::memory_order_acquire) == generation; ++spins) {
    if (spins < kSpinsBeforeYield) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

void run_parted_sequence(std::span<const PartedStep> steps, int threads, SpinBarrier& barrier,
                         const StepDone& done) {
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    const int thread = omp_get_thread_num();
    const int team = omp_get_num_threads();
    for (std::size_t index = 0; index < steps.size(); ++index) {
      const PartedStep& step = steps[index];
      const int parts = step.most_parts > 0 ? std::min(parts_for(*step.op, team), step.most_parts)
                                            : parts_for(*step.op, team);
      for (int part = thread; part < parts; part += team)
        step.op->run_part(*step.args, part, parts);
      barrier.wait(team);
      if (step.op->finish) {
        if (thread == 0) step.op->finish(*step.args, parts);
        barrier.wait(team);
      }
      if (thread == 0 && done) done(index);
    }
  }
}

}  // namespace edgeperf::runtime::onednn
