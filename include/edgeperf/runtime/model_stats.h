#pragma once
// Static facts about a model, for `inspect` and benchmark reports.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "edgeperf/runtime/session.h"

namespace edgeperf::runtime {

struct ModelStats {
  std::map<std::string, int> op_histogram;
  std::int64_t parameters = 0;
  std::size_t weight_bytes = 0;
  // Multiply-accumulates of Conv, ConvTranspose, Gemm, MatMul and their int8 and int4
  // forms (ConvInteger, QLinearConv, MatMulInteger, QLinearMatMul, MatMulNBits).
  std::int64_t macs = 0;
  MemoryPlanInfo memory;
};

// Multiply-accumulates of one node given its inferred input/output descriptors.
std::int64_t node_macs(const graph::Node& node, const std::vector<TensorDesc>& inputs,
                       const std::vector<TensorDesc>& outputs);

ModelStats model_stats(const Session& session);

}  // namespace edgeperf::runtime
