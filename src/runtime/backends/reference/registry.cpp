#include <algorithm>
#include <array>

#include "edgeperf/runtime/reference.h"
#include "ops.h"

namespace edgeperf::runtime {
namespace {

using namespace reference;

// The op table: plain data, one row per ONNX op type.
constexpr std::array kReferenceKernels{
    KernelRegistration{"Abs", infer_unary, create_unary},
    KernelRegistration{"Add", infer_binary, create_binary},
    KernelRegistration{"And", infer_binary, create_binary},
    KernelRegistration{"ArgMax", infer_arg_reduce, create_arg_reduce},
    KernelRegistration{"ArgMin", infer_arg_reduce, create_arg_reduce},
    KernelRegistration{"AveragePool", infer_pool, create_pool},
    KernelRegistration{"BatchNormalization", infer_batch_normalization, create_batch_normalization},
    KernelRegistration{"Cast", infer_cast, create_cast},
    KernelRegistration{"Ceil", infer_unary, create_unary},
    KernelRegistration{"Clip", infer_unary, create_unary},
    KernelRegistration{"Concat", infer_concat, create_concat},
    KernelRegistration{"Constant", infer_constant, create_constant},
    KernelRegistration{"ConstantOfShape", infer_constant_of_shape, create_constant_of_shape},
    KernelRegistration{"Conv", infer_conv, create_conv},
    KernelRegistration{"ConvInteger", infer_conv_integer, create_conv_integer},
    KernelRegistration{"ConvTranspose", infer_conv_transpose, create_conv_transpose},
    KernelRegistration{"CumSum", infer_cumsum, create_cumsum},
    KernelRegistration{"DequantizeLinear", infer_dequantize_linear, create_dequantize_linear},
    KernelRegistration{"Div", infer_binary, create_binary},
    KernelRegistration{"Dropout", infer_identity, create_identity},
    KernelRegistration{"DynamicQuantizeLinear", infer_dynamic_quantize_linear,
                       create_dynamic_quantize_linear},
    KernelRegistration{"Einsum", infer_einsum, create_einsum},
    KernelRegistration{"Elu", infer_unary, create_unary},
    KernelRegistration{"Equal", infer_binary, create_binary},
    KernelRegistration{"Erf", infer_unary, create_unary},
    KernelRegistration{"Exp", infer_unary, create_unary},
    KernelRegistration{"Expand", infer_expand, create_expand},
    KernelRegistration{"Flatten", infer_flatten, create_flatten},
    KernelRegistration{"Floor", infer_unary, create_unary},
    KernelRegistration{"Gather", infer_gather, create_gather},
    KernelRegistration{"GatherElements", infer_gather_elements, create_gather_elements},
    KernelRegistration{"GatherND", infer_gather_nd, create_gather_nd},
    KernelRegistration{"Gelu", infer_unary, create_unary},
    KernelRegistration{"Gemm", infer_gemm, create_gemm},
    KernelRegistration{"GlobalAveragePool", infer_global_pool, create_global_pool},
    KernelRegistration{"GlobalMaxPool", infer_global_pool, create_global_pool},
    KernelRegistration{"Greater", infer_binary, create_binary},
    KernelRegistration{"GreaterOrEqual", infer_binary, create_binary},
    KernelRegistration{"HardSigmoid", infer_unary, create_unary},
    KernelRegistration{"HardSwish", infer_unary, create_unary},
    KernelRegistration{"Identity", infer_identity, create_identity},
    KernelRegistration{"If", infer_if, create_if},
    KernelRegistration{"InstanceNormalization", infer_normalization, create_normalization},
    KernelRegistration{"LayerNormalization", infer_normalization, create_normalization},
    KernelRegistration{"LeakyRelu", infer_unary, create_unary},
    KernelRegistration{"Less", infer_binary, create_binary},
    KernelRegistration{"LessOrEqual", infer_binary, create_binary},
    KernelRegistration{"Log", infer_unary, create_unary},
    KernelRegistration{"LogSoftmax", infer_softmax, create_softmax},
    KernelRegistration{"MatMul", infer_matmul, create_matmul},
    KernelRegistration{"MatMulInteger", infer_matmul_integer, create_matmul_integer},
    KernelRegistration{"Max", infer_variadic, create_variadic},
    KernelRegistration{"MaxPool", infer_pool, create_pool},
    KernelRegistration{"Mean", infer_variadic, create_variadic},
    KernelRegistration{"Min", infer_variadic, create_variadic},
    KernelRegistration{"Mod", infer_binary, create_binary},
    KernelRegistration{"Mul", infer_binary, create_binary},
    KernelRegistration{"Neg", infer_unary, create_unary},
    KernelRegistration{"NonMaxSuppression", infer_non_max_suppression, create_non_max_suppression},
    KernelRegistration{"NonZero", infer_nonzero, create_nonzero},
    KernelRegistration{"Not", infer_unary, create_unary},
    KernelRegistration{"Or", infer_binary, create_binary},
    KernelRegistration{"Pad", infer_pad, create_pad},
    KernelRegistration{"Pow", infer_binary, create_binary},
    KernelRegistration{"QLinearConv", infer_qlinear_conv, create_qlinear_conv},
    KernelRegistration{"QLinearMatMul", infer_qlinear_matmul, create_qlinear_matmul},
    KernelRegistration{"QuantizeLinear", infer_quantize_linear, create_quantize_linear},
    KernelRegistration{"Range", infer_range, create_range},
    KernelRegistration{"Reciprocal", infer_unary, create_unary},
    KernelRegistration{"ReduceMax", infer_reduce, create_reduce},
    KernelRegistration{"ReduceMean", infer_reduce, create_reduce},
    KernelRegistration{"ReduceMin", infer_reduce, create_reduce},
    KernelRegistration{"ReduceProd", infer_reduce, create_reduce},
    KernelRegistration{"ReduceSum", infer_reduce, create_reduce},
    KernelRegistration{"Relu", infer_unary, create_unary},
    KernelRegistration{"Reshape", infer_reshape, create_reshape},
    KernelRegistration{"Resize", infer_resize, create_resize},
    KernelRegistration{"RoiAlign", infer_roi_align, create_roi_align},
    KernelRegistration{"ScatterND", infer_scatter_nd, create_scatter_nd},
    KernelRegistration{"Shape", infer_shape, create_shape},
    KernelRegistration{"Sigmoid", infer_unary, create_unary},
    KernelRegistration{"Slice", infer_slice, create_slice},
    KernelRegistration{"Softmax", infer_softmax, create_softmax},
    KernelRegistration{"Split", infer_split, create_split},
    KernelRegistration{"Sqrt", infer_unary, create_unary},
    KernelRegistration{"Squeeze", infer_squeeze, create_squeeze},
    KernelRegistration{"Sub", infer_binary, create_binary},
    KernelRegistration{"Sum", infer_variadic, create_variadic},
    KernelRegistration{"Tanh", infer_unary, create_unary},
    KernelRegistration{"Tile", infer_tile, create_tile},
    KernelRegistration{"TopK", infer_topk, create_topk},
    KernelRegistration{"Transpose", infer_transpose, create_transpose},
    KernelRegistration{"Unsqueeze", infer_unsqueeze, create_unsqueeze},
    KernelRegistration{"Upsample", infer_resize, create_resize},
    KernelRegistration{"Where", infer_where, create_where},
    KernelRegistration{"com.microsoft.MatMulNBits", infer_matmul_nbits, create_matmul_nbits},
    KernelRegistration{"com.microsoft.QLinearAdd", infer_qlinear_add, create_qlinear_add},
    KernelRegistration{"com.microsoft.QLinearGlobalAveragePool", infer_qlinear_global_average_pool,
                       create_qlinear_global_average_pool},
    KernelRegistration{"edgeperf.DequantizeInt4", infer_dequantize_int4, create_dequantize_int4},
    KernelRegistration{"edgeperf.SparseWeight", infer_sparse_weight, create_sparse_weight},
};

}  // namespace

std::span<const KernelRegistration> reference_kernels() { return kReferenceKernels; }

const KernelRegistration* find_reference_kernel(std::string_view op_type) {
  const auto found =
      std::find_if(kReferenceKernels.begin(), kReferenceKernels.end(),
                   [&](const KernelRegistration& entry) { return entry.op_type == op_type; });
  return found == kReferenceKernels.end() ? nullptr : &*found;
}

std::string registry_key(const graph::Node& node) {
  const bool default_domain = node.domain.empty() || node.domain == "ai.onnx";
  return default_domain ? node.op_type : node.domain + "." + node.op_type;
}

const KernelRegistration* find_reference_kernel(const graph::Node& node) {
  return find_reference_kernel(registry_key(node));
}

}  // namespace edgeperf::runtime
