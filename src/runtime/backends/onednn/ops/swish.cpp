// x * sigmoid(x) that no op before it took as a post-op: x from a DequantizeLinear (the
// f32 SiLU between EfficientNet's int8 convs), an Add or a region input. One pass of our
// swish kernel instead of an eltwise and a binary primitive, each a full pass.
#include "../output_tail.h"
#include "ops.h"

namespace edgeperf::runtime::onednn::ops {
namespace {

class SwishOp {
 public:
  explicit SwishOp(int threads) : threads_(threads) {}

  void operator()(const ArgMap& args) const {
    const dnnl::memory& src = args.at(DNNL_ARG_SRC);
    const auto count = static_cast<std::int64_t>(src.get_desc().get_size() / sizeof(float));
    swish_in_parts(static_cast<const float*>(src.get_data_handle()),
                   static_cast<float*>(args.at(DNNL_ARG_DST).get_data_handle()), count, threads_);
  }

 private:
  int threads_;
};

}  // namespace

bool match_swish(const MatchView& view, std::size_t index) {
  const std::optional<EltwiseOp> gate = parse_gate(view.planned(index), view.input().opset);
  return gate && gate->algorithm == dnnl::algorithm::eltwise_swish;
}

// Node `index` is the Sigmoid; it takes the Mul when that is the gate's only reader.
bool lower_swish(RegionContext& context, std::size_t index) {
  const std::string& x = context.planned(index).node->inputs[0];
  const std::string& gate = context.output_of(index);
  const std::optional<std::size_t> mul = context.sole_joining_reader(index, gate);
  if (!mul || !is_gating_mul(context.planned(*mul), x, gate)) return false;
  context.materialize_inputs(index);
  const dnnl::memory::desc md = context.value(x).md;
  if (md.data_type() != dnnl::memory::data_type::f32) return false;
  const int src = context.use_as(x, md);
  context.claim(*mul);
  const int dst = context.define_new(context.output_of(*mul), md);
  context.add_compute_op({}, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, dnnl::memory::desc(),
                         SwishOp(context.input().threads));
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
