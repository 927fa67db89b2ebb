#pragma once
// The execution providers a session lowers with, made from its options. A new provider
// (XNNPACK on ARM, say) is one entry here; the session and the plan only see the list.
#include <memory>
#include <vector>

#include "edgeperf/runtime/backend.h"
#include "edgeperf/runtime/session.h"

namespace edgeperf::runtime {

// In the order lowering offers them nodes; the reference provider is always last.
std::vector<std::unique_ptr<Backend>> make_providers(const SessionOptions& options);

}  // namespace edgeperf::runtime
