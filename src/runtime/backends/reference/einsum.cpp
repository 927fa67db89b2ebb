// Einsum (opset 12): explicit ("ij,jk->ik") and implicit ("ij,jk", output = labels used
// once, alphabetical) equations over any number of operands, repeated labels within an
// operand (diagonals: "ii->i"), and "..." for broadcast leading dims. Every output element
// sums the product of the operands over the labels missing from the output.
#include <algorithm>
#include <map>

#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {
namespace {

struct EinsumPlan {
  std::vector<char> labels;  // output labels first, then summed ones
  std::size_t output_count = 0;
  std::vector<std::int64_t> sizes;                 // per label
  std::vector<std::vector<std::int64_t>> strides;  // per operand, per label (0: unused)
  Shape output;
};

bool is_label(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The operand's labels with "..." expanded to the ellipsis labels of its broadcast dims
// ('0'.. for the outermost of `ellipsis_rank` dims, right-aligned).
std::vector<char> expand_term(const std::string& term, std::size_t rank, std::size_t& ellipsis_rank,
                              const std::string& where) {
  const std::size_t dots = term.find("...");
  std::string letters = term;
  if (dots != std::string::npos) letters.erase(dots, 3);
  for (char c : letters) EP_CHECK(is_label(c), "{}: '{}' is not a label letter", where, c);
  EP_CHECK(letters.size() <= rank && (dots != std::string::npos || letters.size() == rank),
           "{}: term '{}' does not match an operand of rank {}", where, term, rank);
  std::vector<char> labels(letters.begin(), letters.end());
  if (dots == std::string::npos) return labels;
  const std::size_t broadcast = rank - letters.size();
  ellipsis_rank = std::max(ellipsis_rank, broadcast);
  std::vector<char> ellipsis;
  for (std::size_t i = 0; i < broadcast; ++i) ellipsis.push_back(static_cast<char>('0' + i));
  labels.insert(labels.begin() + static_cast<std::ptrdiff_t>(dots), ellipsis.begin(),
                ellipsis.end());
  return labels;
}

EinsumPlan einsum_plan(const PrepareContext& context) {
  const graph::Node& node = context.node;
  const std::string where = fmt::format("node {}", node.label());
  std::string equation;
  for (char c : node.attr_string("equation", "")) {
    if (c != ' ') equation += c;
  }
  EP_CHECK(!equation.empty(), "{}: missing attribute 'equation'", where);
  const std::size_t arrow = equation.find("->");
  const std::string inputs = equation.substr(0, arrow);
  std::vector<std::string> terms;
  for (std::size_t start = 0;;) {
    const std::size_t comma = inputs.find(',', start);
    terms.push_back(inputs.substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  EP_CHECK(terms.size() == context.inputs.size(), "{}: equation '{}' has {} terms for {} inputs",
           where, equation, terms.size(), context.inputs.size());
  std::size_t ellipsis_rank = 0;
  std::vector<std::vector<char>> operand_labels;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    check_dtype(context, i, {DType::f32, DType::i32, DType::i64}, "Inputs");
    EP_CHECK(context.inputs[i].dtype == context.inputs[0].dtype, "{}: inputs differ in dtype",
             where);
    operand_labels.push_back(expand_term(terms[i], context.inputs[i].shape.size(), ellipsis_rank,
                                         where + " equation '" + equation + "'"));
  }
  // Ellipsis labels are right-aligned: an operand with fewer broadcast dims uses the last ones.
  for (auto& labels : operand_labels) {
    std::size_t own = 0;
    for (char c : labels) own += c >= '0' && c <= '9';
    for (char& c : labels) {
      if (c >= '0' && c <= '9') c = static_cast<char>(c + (ellipsis_rank - own));
    }
  }
  EinsumPlan plan;
  std::map<char, std::int64_t> size_of;
  for (std::size_t i = 0; i < operand_labels.size(); ++i) {
    for (std::size_t d = 0; d < operand_labels[i].size(); ++d) {
      const char label = operand_labels[i][d];
      const std::int64_t size = context.inputs[i].shape[d];
      auto [known, inserted] = size_of.emplace(label, size);
      const bool broadcast = label >= '0' && label <= '9' && (size == 1 || known->second == 1);
      EP_CHECK(inserted || known->second == size || broadcast,
               "{}: label '{}' has size {} in input {} but {} elsewhere", where, label, size, i,
               known->second);
      if (broadcast) known->second = std::max(known->second, size);
    }
  }
  std::vector<char> output;
  if (arrow != std::string::npos) {
    std::string out_term = equation.substr(arrow + 2);
    const std::size_t dots = out_term.find("...");
    if (dots != std::string::npos) {
      out_term.erase(dots, 3);
      std::string ellipsis;
      for (std::size_t i = 0; i < ellipsis_rank; ++i) ellipsis += static_cast<char>('0' + i);
      out_term.insert(dots, ellipsis);
    }
    for (char c : out_term) {
      EP_CHECK(is_label(c) || (c >= '0' && c <= '9'), "{}: '{}' in the output of '{}'", where, c,
               equation);
      EP_CHECK(size_of.count(c), "{}: output label '{}' is in no input of '{}'", where, c,
               equation);
      EP_CHECK(std::count(output.begin(), output.end(), c) == 0,
               "{}: output label '{}' repeats in '{}'", where, c, equation);
      output.push_back(c);
    }
  } else {
    for (std::size_t i = 0; i < ellipsis_rank; ++i) output.push_back(static_cast<char>('0' + i));
    std::map<char, int> uses;
    for (const auto& labels : operand_labels) {
      for (char c : labels) uses[c] += is_label(c) ? 1 : 0;
    }
    for (const auto& [c, count] : uses) {
      if (count == 1) output.push_back(c);
    }
  }
  plan.labels = output;
  plan.output_count = output.size();
  for (const auto& [label, size] : size_of) {
    if (std::find(output.begin(), output.end(), label) == output.end())
      plan.labels.push_back(label);
  }
  for (char label : plan.labels) plan.sizes.push_back(size_of.at(label));
  for (std::size_t i = 0; i < operand_labels.size(); ++i) {
    const std::vector<std::int64_t> contiguous = contiguous_strides(context.inputs[i].shape);
    std::vector<std::int64_t> strides(plan.labels.size(), 0);
    for (std::size_t d = 0; d < operand_labels[i].size(); ++d) {
      if (context.inputs[i].shape[d] == 1 && size_of.at(operand_labels[i][d]) != 1) continue;
      const auto at = std::find(plan.labels.begin(), plan.labels.end(), operand_labels[i][d]);
      strides[static_cast<std::size_t>(at - plan.labels.begin())] += contiguous[d];
    }
    plan.strides.push_back(std::move(strides));
  }
  plan.output.assign(plan.sizes.begin(),
                     plan.sizes.begin() + static_cast<std::ptrdiff_t>(plan.output_count));
  return plan;
}

template <typename T>
void run_einsum(const EinsumPlan& plan, std::span<const Tensor> inputs, T* out) {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
  const std::size_t labels = plan.labels.size();
  const Shape summed(plan.sizes.begin() + static_cast<std::ptrdiff_t>(plan.output_count),
                     plan.sizes.end());
  const std::int64_t outputs = element_count(plan.output), terms = element_count(summed);
  std::vector<const T*> data;
  for (const Tensor& input : inputs) data.push_back(input.data<T>());
  std::vector<std::int64_t> index(labels, 0);
  for (std::int64_t o = 0; o < outputs; ++o) {
    Acc sum = 0;
    std::fill(index.begin() + static_cast<std::ptrdiff_t>(plan.output_count), index.end(), 0);
    for (std::int64_t s = 0; s < terms; ++s) {
      Acc product = 1;
      for (std::size_t i = 0; i < data.size(); ++i) {
        std::int64_t offset = 0;
        for (std::size_t l = 0; l < labels; ++l) offset += index[l] * plan.strides[i][l];
        product *= static_cast<Acc>(data[i][offset]);
      }
      sum += product;
      for (std::size_t l = labels; l-- > plan.output_count;) {
        if (++index[l] < plan.sizes[l]) break;
        index[l] = 0;
      }
    }
    out[o] = static_cast<T>(sum);
    for (std::size_t l = plan.output_count; l-- > 0;) {
      if (++index[l] < plan.sizes[l]) break;
      index[l] = 0;
    }
  }
}

}  // namespace

void infer_einsum(PrepareContext& context) {
  check_input_count(context, 1, 64);
  const EinsumPlan plan = einsum_plan(context);
  prepare_outputs(context, 1, 1);
  set_output(context, 0, context.inputs[0].dtype, plan.output);
}

std::unique_ptr<Kernel> create_einsum(const PrepareContext& context) {
  const EinsumPlan plan = einsum_plan(context);
  const graph::Node node = context.node;
  const DType dtype = context.inputs[0].dtype;
  return make_kernel([=](std::span<const Tensor> in, std::span<Tensor> out) {
    dispatch_numeric(node, dtype, [&](auto tag) {
      using T = decltype(tag);
      run_einsum<T>(plan, in, out[0].data<T>());
    });
  });
}

}  // namespace edgeperf::runtime::reference
