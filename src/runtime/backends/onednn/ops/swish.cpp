// x * sigmoid(x) that no op before it took as a post-op: x from a DequantizeLinear (the
// f32 SiLU between EfficientNet's int8 convs), an Add or a region input. One pass of our
// swish kernel instead of an eltwise and a binary primitive, each a full pass. When x
// is a dequantized value read by nothing else, the pass reads its int8 source and no
// f32 copy of x is made.
#include "../memory_descs.h"
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
                   static_cast<float*>(args.at(DNNL_ARG_DST).get_data_handle()), count,
                   run_threads(threads_));
  }

 private:
  int threads_;
};

class DequantizedSwishOp {
 public:
  DequantizedSwishOp(const ActivationQuant& quant, int threads)
      : dq_{quant.scale, quant.zero_point, quant.type == dnnl::memory::data_type::s8},
        threads_(threads) {}

  void operator()(const ArgMap& args) const {
    const dnnl::memory& src = args.at(DNNL_ARG_SRC);
    const auto count = static_cast<std::int64_t>(src.get_desc().get_size());
    swish_dequantized_in_parts(src.get_data_handle(), dq_,
                               static_cast<float*>(args.at(DNNL_ARG_DST).get_data_handle()), count,
                               run_threads(threads_));
  }

 private:
  Dequantization dq_;
  int threads_;
};

// x is the DequantizeLinear output `alias`, read only by the Sigmoid and the Mul, with
// no padding in its int8 source's layout (our pass would make padding nonzero).
bool reads_only_int8_source(const RegionContext& context, const std::string& x,
                            const QuantizedAlias* alias) {
  if (alias == nullptr || context.input().consumers_of(x).size() != 2 ||
      context.input().is_graph_output(x) || context.is_region_output(x)) {
    return false;
  }
  const dnnl::memory::desc& md = context.value(alias->source).md;
  std::int64_t elements = 1;
  for (dnnl::memory::dim d : md.dims()) elements *= d;
  return md.data_type() != dnnl::memory::data_type::f32 &&
         md.get_size() == static_cast<std::size_t>(elements);
}

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
  const int threads = context.input().threads;
  if (const QuantizedAlias* alias = context.alias_of(x);
      reads_only_int8_source(context, x, alias)) {
    const dnnl::memory::desc& int8_md = context.value(alias->source).md;
    const int src = context.use_as(alias->source, int8_md);
    context.claim(*mul);
    const int dst = context.define_new(context.output_of(*mul),
                                       with_type(int8_md, dnnl::memory::data_type::f32));
    context.add_compute_op({}, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, dnnl::memory::desc(),
                           DequantizedSwishOp(alias->quant, threads));
    return true;
  }
  context.materialize_inputs(index);
  const dnnl::memory::desc md = context.value(x).md;
  if (md.data_type() != dnnl::memory::data_type::f32) return false;
  const int src = context.use_as(x, md);
  context.claim(*mul);
  const int dst = context.define_new(context.output_of(*mul), md);
  context.add_compute_op({}, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}}, dnnl::memory::desc(),
                         SwishOp(threads));
  return true;
}

}  // namespace edgeperf::runtime::onednn::ops
