#include "edgeperf/runtime/fuse_decomposed_ops.h"

#include <cmath>
#include <map>
#include <optional>
#include <unordered_map>

#include "edgeperf/graph/editor.h"

namespace edgeperf::runtime {
namespace {

class Fuser {
 public:
  explicit Fuser(graph::Graph& graph)
      : graph_(graph), readers_(graph::consumers_of(graph)), erase_(graph.nodes.size()) {}

  DecomposedOpsFused run() {
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (erase_[i]) continue;
      const std::string& op = node(i).op_type;
      if (op == "Erf") try_gelu(i);
      if (op == "ReduceMean") try_layer_norm(i);
    }
    if (fused_.gelu + fused_.layer_norm == 0) return fused_;
    std::vector<graph::Node> nodes;
    for (std::size_t i = 0; i < graph_.nodes.size(); ++i) {
      if (const auto found = replacements_.find(i); found != replacements_.end()) {
        nodes.push_back(std::move(found->second));
      } else if (!erase_[i]) {
        nodes.push_back(std::move(graph_.nodes[i]));
      }
    }
    graph_.nodes = std::move(nodes);
    return fused_;
  }

 private:
  const graph::Node& node(std::size_t i) const { return graph_.nodes[i]; }

  const std::vector<std::size_t>& readers(const std::string& value) const {
    static const std::vector<std::size_t> kNone;
    const auto found = readers_.find(value);
    return found == readers_.end() ? kNone : found->second;
  }
  // The only reader of `value` (and it is no graph output).
  std::optional<std::size_t> sole_reader(const std::string& value) const {
    const std::vector<std::size_t>& found = readers(value);
    if (found.size() != 1 || graph_.is_output(value)) return std::nullopt;
    return found[0];
  }

  bool is(std::size_t i, std::string_view op) const {
    return !erase_[i] && node(i).op_type == op && node(i).domain.empty() &&
           node(i).outputs.size() == 1 && !node(i).outputs[0].empty();
  }

  // The f32 initializer `name` is, directly or through Identity nodes (exporters write
  // those for weights they deduplicated).
  const Tensor* initializer(const std::string& name, std::string* source = nullptr) const {
    std::string current = name;
    for (int hops = 0; hops < 8; ++hops) {
      if (const Tensor* tensor = graph_.f32_initializer(current)) {
        if (source != nullptr) *source = current;
        return tensor;
      }
      const graph::Node* producer = graph_.producer_of(current);
      if (producer == nullptr || producer->op_type != "Identity" || !producer->domain.empty() ||
          producer->inputs.size() != 1) {
        return nullptr;
      }
      current = producer->inputs[0];
    }
    return nullptr;
  }

  // The f32 scalar initializer `name`, if it is one.
  std::optional<float> scalar(const std::string& name) const {
    const Tensor* tensor = initializer(name);
    if (tensor == nullptr || tensor->numel() != 1) return std::nullopt;
    return tensor->data<float>()[0];
  }
  static bool near(std::optional<float> value, double want) {
    return value && std::fabs(*value - want) <= 1e-4 * std::fabs(want);
  }

  // Binary node `i` reading `x` and a scalar near `want` (`x` first unless commutative).
  bool takes_scalar(std::size_t i, const std::string& x, double want, bool commutative) const {
    const auto& in = node(i).inputs;
    if (in.size() != 2) return false;
    if (in[0] == x && near(scalar(in[1]), want)) return true;
    return commutative && in[1] == x && near(scalar(in[0]), want);
  }

  // Binary node `i` reading `a` and `b`, in either order when commutative.
  bool reads(std::size_t i, const std::string& a, const std::string& b, bool commutative) const {
    const auto& in = node(i).inputs;
    return in.size() == 2 &&
           ((in[0] == a && in[1] == b) || (commutative && in[0] == b && in[1] == a));
  }

  std::optional<std::size_t> next(std::size_t i, std::string_view op) const {
    const auto reader = sole_reader(node(i).outputs[0]);
    if (!reader || !is(*reader, op)) return std::nullopt;
    return reader;
  }

  void replace(const std::vector<std::size_t>& nodes, graph::Node fused) {
    for (std::size_t i : nodes) erase_[i] = true;
    replacements_.emplace(nodes.back(), std::move(fused));  // the last one: inputs are ready
  }

  void try_gelu(std::size_t erf) {
    if (!is(erf, "Erf") || node(erf).inputs.size() != 1) return;
    const auto scaled = graph_.producer_index(node(erf).inputs[0]);
    if (!scaled || !sole_reader(node(erf).inputs[0])) return;
    const auto& scale_inputs = node(*scaled).inputs;
    if (scale_inputs.empty()) return;
    const std::string x = scale_inputs[0];
    const bool divides = is(*scaled, "Div") && takes_scalar(*scaled, x, std::sqrt(2.0), false);
    const bool multiplies = is(*scaled, "Mul") && takes_scalar(*scaled, x, std::sqrt(0.5), false);
    if (!divides && !multiplies) return;
    const auto plus_one = next(erf, "Add");
    if (!plus_one || !takes_scalar(*plus_one, node(erf).outputs[0], 1.0, true)) return;
    const auto times_x = next(*plus_one, "Mul");
    if (!times_x || !reads(*times_x, x, node(*plus_one).outputs[0], true)) return;
    const auto half = next(*times_x, "Mul");
    if (!half || !takes_scalar(*half, node(*times_x).outputs[0], 0.5, true)) return;
    replace({*scaled, erf, *plus_one, *times_x, *half},
            graph::make_node("Gelu", node(*half).name, {x}, {node(*half).outputs[0]}));
    ++fused_.gelu;
  }

  // ReduceMean over the last axis only, keeping it.
  bool reduces_last_axis(std::size_t i) const {
    const graph::Node& n = node(i);
    if (n.attr_int("keepdims", 1) != 1) return false;
    std::vector<std::int64_t> axes;
    if (n.inputs.size() >= 2 && !n.inputs[1].empty()) {
      const auto found = graph_.initializers.find(n.inputs[1]);
      if (found == graph_.initializers.end() || found->second.dtype() != DType::i64) return false;
      const Tensor& t = found->second;
      axes.assign(t.data<std::int64_t>(), t.data<std::int64_t>() + t.numel());
    } else {
      axes = n.attr_ints("axes");
    }
    return axes == std::vector<std::int64_t>{-1};
  }

  // A 1-D f32 initializer of more than one element (one element would broadcast over
  // the axis, which LayerNormalization's scale does not).
  bool is_vector(const std::string& name) const {
    const Tensor* tensor = initializer(name);
    return tensor != nullptr && tensor->rank() == 1 && tensor->numel() > 1;
  }

  void try_layer_norm(std::size_t mean) {
    if (!is(mean, "ReduceMean") || !reduces_last_axis(mean)) return;
    const std::string x = node(mean).inputs[0];
    const auto centered = next(mean, "Sub");
    if (!centered || !reads(*centered, x, node(mean).outputs[0], false)) return;
    const std::string& d = node(*centered).outputs[0];
    const auto& d_readers = readers(d);
    if (d_readers.size() != 2 || graph_.is_output(d)) return;
    const std::size_t pow = is(d_readers[0], "Pow") ? d_readers[0] : d_readers[1];
    const std::size_t divide = pow == d_readers[0] ? d_readers[1] : d_readers[0];
    if (!is(pow, "Pow") || !takes_scalar(pow, d, 2.0, false) || !is(divide, "Div")) return;
    const auto variance = next(pow, "ReduceMean");
    if (!variance || !reduces_last_axis(*variance)) return;
    const auto plus_eps = next(*variance, "Add");
    if (!plus_eps || node(*plus_eps).inputs.size() != 2) return;
    const auto& eps_inputs = node(*plus_eps).inputs;
    const std::string& v = node(*variance).outputs[0];
    const auto epsilon = scalar(eps_inputs[0] == v ? eps_inputs[1] : eps_inputs[0]);
    if (!epsilon || (eps_inputs[0] != v && eps_inputs[1] != v)) return;
    const auto root = next(*plus_eps, "Sqrt");
    if (!root || sole_reader(node(*root).outputs[0]) != divide ||
        !reads(divide, d, node(*root).outputs[0], false)) {
      return;
    }
    const auto scale = next(divide, "Mul");
    if (!scale) return;
    const auto& scale_inputs = node(*scale).inputs;
    const std::string& normalized = node(divide).outputs[0];
    const std::string gamma = scale_inputs[0] == normalized ? scale_inputs[1] : scale_inputs[0];
    if (!reads(*scale, normalized, gamma, true) || !is_vector(gamma)) return;
    const auto shift = next(*scale, "Add");
    if (!shift) return;
    const auto& shift_inputs = node(*shift).inputs;
    const std::string& scaled = node(*scale).outputs[0];
    const std::string beta = shift_inputs[0] == scaled ? shift_inputs[1] : shift_inputs[0];
    if (!reads(*shift, scaled, beta, true) || !is_vector(beta) ||
        initializer(beta)->numel() != initializer(gamma)->numel()) {
      return;
    }
    std::string gamma_source, beta_source;
    initializer(gamma, &gamma_source);
    initializer(beta, &beta_source);
    replace({mean, *centered, pow, *variance, *plus_eps, *root, divide, *scale, *shift},
            graph::make_node("LayerNormalization", node(*shift).name,
                             {x, gamma_source, beta_source}, {node(*shift).outputs[0]},
                             {{"axis", std::int64_t{-1}}, {"epsilon", *epsilon}}));
    ++fused_.layer_norm;
  }

  graph::Graph& graph_;
  std::map<std::string, std::vector<std::size_t>> readers_;
  std::vector<bool> erase_;
  std::unordered_map<std::size_t, graph::Node> replacements_;
  DecomposedOpsFused fused_;
};

}  // namespace

DecomposedOpsFused fuse_decomposed_ops(graph::Graph& graph) { return Fuser(graph).run(); }

}  // namespace edgeperf::runtime
