// Placeholder until the oneDNN backend lands: claims no node.
#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime {
namespace {
class OnednnBackend final : public Backend {
 public:
  std::string name() const override { return "onednn"; }
  std::vector<Step> lower(const LoweringInput&) override { return {}; }
};
}  // namespace
std::unique_ptr<Backend> make_onednn_backend() { return std::make_unique<OnednnBackend>(); }
}  // namespace edgeperf::runtime
