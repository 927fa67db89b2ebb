// libonnx 1.12's inference functions trust their context: e.g. convPoolShapeInference
// indexes `dilations` (sized from the input rank) with the weight rank, and divides by
// `strides`. Every schema handed to InferShapes is therefore a copy whose inference
// function first checks its inputs and throws InferenceError (the node is skipped,
// like any node libonnx cannot infer) when they would break those assumptions.
#include "guarded_inference.h"

#include <onnx/defs/schema.h>
#include <onnx/defs/shape_inference.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace edgeperf::onnx_io::detail {
namespace {

using onnx::InferenceContext;
using onnx::OpSchema;

const onnx::TensorShapeProto* known_shape(InferenceContext& ctx, std::size_t index) {
  if (index >= ctx.getNumInputs()) return nullptr;
  const onnx::TypeProto* type = ctx.getInputType(index);
  if (type == nullptr || !type->has_tensor_type() || !type->tensor_type().has_shape()) {
    return nullptr;
  }
  return &type->tensor_type().shape();
}

std::vector<std::int64_t> ints_attribute(InferenceContext& ctx, const std::string& name,
                                         bool* present) {
  const onnx::AttributeProto* attribute = ctx.getAttribute(name);
  *present = attribute != nullptr;
  if (attribute == nullptr) return {};
  return {attribute->ints().begin(), attribute->ints().end()};
}

void require(bool condition, const char* what) {
  if (!condition) fail_shape_inference("edgeperf guard: ", what);
}

// Required inputs must be typed tensors; shapes must have non-negative dimensions.
void guard_input_types(const OpSchema& schema, InferenceContext& ctx) {
  const std::vector<OpSchema::FormalParameter>& formals = schema.inputs();
  for (std::size_t i = 0; i < ctx.getNumInputs(); ++i) {
    const onnx::TypeProto* type = ctx.getInputType(i);
    if (type == nullptr) {
      const bool optional =
          !formals.empty() && formals[std::min(i, formals.size() - 1)].GetOption() ==
                                  OpSchema::FormalParameterOption::Optional;
      require(optional, "a required input has no type");
      continue;
    }
    require(type->has_tensor_type(), "an input is not a tensor");
    for (const onnx::TensorShapeProto_Dimension& dim : type->tensor_type().shape().dim()) {
      require(!dim.has_dim_value() || dim.dim_value() >= 0, "negative dimension");
    }
  }
}

struct ConvLikeInputs {
  std::size_t data;
  std::optional<std::size_t> weight;
};

std::optional<ConvLikeInputs> conv_like_inputs(const OpSchema& schema) {
  if (!schema.domain().empty()) return std::nullopt;
  static const std::set<std::string> kPools{"MaxPool", "AveragePool", "LpPool", "MaxUnpool"};
  const std::string& op = schema.Name();
  if (op == "Conv" || op == "ConvInteger" || op == "ConvTranspose") return ConvLikeInputs{0, 1};
  if (op == "QLinearConv") return ConvLikeInputs{0, 3};
  if (kPools.count(op)) return ConvLikeInputs{0, std::nullopt};
  return std::nullopt;
}

void guard_spatial_attribute(InferenceContext& ctx, const char* name, std::size_t expected_size,
                             std::int64_t minimum) {
  bool present = false;
  const std::vector<std::int64_t> values = ints_attribute(ctx, name, &present);
  if (!present) return;
  require(values.size() == expected_size, "spatial attribute size does not match the input rank");
  for (std::int64_t value : values)
    require(value >= minimum, "spatial attribute value out of range");
}

void guard_conv_like(const ConvLikeInputs& inputs, InferenceContext& ctx) {
  const onnx::TensorShapeProto* data = known_shape(ctx, inputs.data);
  if (data == nullptr) return;
  require(data->dim_size() >= 2, "convolution/pool input rank below 2");
  const auto spatial = static_cast<std::size_t>(data->dim_size() - 2);
  if (inputs.weight.has_value()) {
    const onnx::TensorShapeProto* weight = known_shape(ctx, *inputs.weight);
    require(weight == nullptr || weight->dim_size() == data->dim_size(),
            "weight rank differs from input rank");
  }
  guard_spatial_attribute(ctx, "kernel_shape", spatial, 1);
  guard_spatial_attribute(ctx, "strides", spatial, 1);
  guard_spatial_attribute(ctx, "dilations", spatial, 1);
  guard_spatial_attribute(ctx, "pads", 2 * spatial, 0);
  guard_spatial_attribute(ctx, "output_padding", spatial, 0);
  guard_spatial_attribute(ctx, "output_shape", spatial, 0);
}

void guard_transpose(InferenceContext& ctx) {
  const onnx::TensorShapeProto* data = known_shape(ctx, 0);
  bool present = false;
  const std::vector<std::int64_t> perm = ints_attribute(ctx, "perm", &present);
  if (data == nullptr || !present) return;
  std::vector<bool> seen(static_cast<std::size_t>(data->dim_size()), false);
  require(perm.size() == seen.size(), "perm size differs from input rank");
  for (std::int64_t axis : perm) {
    require(axis >= 0 && axis < data->dim_size() && !seen[axis], "perm is not a permutation");
    seen[axis] = true;
  }
}

// Ops whose inference makes the output rank equal to the length of a 1-D shape input
// (e.g. ConstantOfShape of x: int64[2^31] would allocate 2^31 dimensions).
std::optional<std::size_t> shape_input_index(const OpSchema& schema) {
  if (!schema.domain().empty()) return std::nullopt;
  const std::string& op = schema.Name();
  if (op == "ConstantOfShape") return 0;
  if (op == "Expand" || op == "Reshape") return 1;
  return std::nullopt;
}

void guard_shape_input(std::size_t index, InferenceContext& ctx) {
  constexpr std::int64_t kMaxRank = 1024;
  const onnx::TensorShapeProto* shape = known_shape(ctx, index);
  if (shape == nullptr) return;
  for (const onnx::TensorShapeProto_Dimension& dim : shape->dim()) {
    require(!dim.has_dim_value() || dim.dim_value() <= kMaxRank, "shape input too long");
  }
}

void guard_node(const OpSchema& schema, InferenceContext& ctx) {
  guard_input_types(schema, ctx);
  if (const std::optional<std::size_t> index = shape_input_index(schema)) {
    guard_shape_input(*index, ctx);
  }
  if (const std::optional<ConvLikeInputs> conv = conv_like_inputs(schema)) {
    guard_conv_like(*conv, ctx);
  }
  if (schema.domain().empty() && schema.Name() == "Transpose") guard_transpose(ctx);
}

// Hands out guarded copies of the global schemas; lives for one InferShapes call.
class GuardedSchemaRegistry final : public onnx::ISchemaRegistry {
 public:
  const OpSchema* GetSchema(const std::string& key, const int max_inclusive_version,
                            const std::string& domain) const override {
    const OpSchema* original =
        onnx::OpSchemaRegistry::Instance()->GetSchema(key, max_inclusive_version, domain);
    if (original == nullptr) return nullptr;
    auto [slot, inserted] = guarded_.try_emplace(original);
    if (inserted) slot->second = guarded_copy(*original);
    return slot->second.get();
  }

 private:
  static std::unique_ptr<OpSchema> guarded_copy(const OpSchema& original) {
    auto copy = std::make_unique<OpSchema>(original);
    const onnx::InferenceFunction inner = original.GetTypeAndShapeInferenceFunction();
    if (inner) {
      const OpSchema* schema = copy.get();
      copy->TypeAndShapeInferenceFunction([schema, inner](InferenceContext& ctx) {
        guard_node(*schema, ctx);
        inner(ctx);
      });
    }
    return copy;
  }

  mutable std::map<const OpSchema*, std::unique_ptr<OpSchema>> guarded_;
};

}  // namespace

bool infer_shapes_guarded(onnx::ModelProto& model) {
  const GuardedSchemaRegistry registry;
  try {
    onnx::shape_inference::InferShapes(model, &registry);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

}  // namespace edgeperf::onnx_io::detail
