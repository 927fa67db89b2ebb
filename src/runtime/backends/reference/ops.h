#pragma once
// Registration functions of the reference kernels, one pair per op (or family).
// Families dispatch on node.op_type; registry.cpp lists which op types each serves.
#include <memory>

#include "edgeperf/runtime/kernel.h"

namespace edgeperf::runtime::reference {

#define EP_REFERENCE_OP(name)                 \
  void infer_##name(PrepareContext& context); \
  std::unique_ptr<Kernel> create_##name(const PrepareContext& context);

EP_REFERENCE_OP(conv)                 // conv.cpp
EP_REFERENCE_OP(conv_transpose)       // conv_transpose.cpp
EP_REFERENCE_OP(batch_normalization)  // batch_normalization.cpp
EP_REFERENCE_OP(normalization)        // normalization.cpp: LayerNormalization InstanceNormalization
EP_REFERENCE_OP(gemm)                 // gemm.cpp
EP_REFERENCE_OP(matmul)               // matmul.cpp
EP_REFERENCE_OP(binary)               // elementwise_binary.cpp: Add Sub Mul Div Pow, comparisons
EP_REFERENCE_OP(where)                // elementwise_binary.cpp
EP_REFERENCE_OP(variadic)             // elementwise_binary.cpp: Sum Mean Max Min
EP_REFERENCE_OP(unary)                // unary.cpp: activations and math functions
EP_REFERENCE_OP(softmax)              // softmax.cpp: Softmax LogSoftmax
EP_REFERENCE_OP(pool)                 // pooling.cpp: MaxPool AveragePool
EP_REFERENCE_OP(global_pool)          // pooling.cpp: GlobalAveragePool GlobalMaxPool
EP_REFERENCE_OP(reduce)               // reduce.cpp: ReduceMean ReduceSum ReduceMax ReduceMin
EP_REFERENCE_OP(arg_reduce)           // reduce.cpp: ArgMax ArgMin
EP_REFERENCE_OP(reshape)              // shape_ops.cpp
EP_REFERENCE_OP(flatten)              // shape_ops.cpp
EP_REFERENCE_OP(squeeze)              // shape_ops.cpp
EP_REFERENCE_OP(unsqueeze)            // shape_ops.cpp
EP_REFERENCE_OP(identity)             // shape_ops.cpp: Identity Dropout
EP_REFERENCE_OP(shape)                // shape_ops.cpp
EP_REFERENCE_OP(transpose)            // transpose.cpp
EP_REFERENCE_OP(expand)               // transpose.cpp
EP_REFERENCE_OP(tile)                 // transpose.cpp
EP_REFERENCE_OP(concat)               // concat_split.cpp
EP_REFERENCE_OP(split)                // concat_split.cpp
EP_REFERENCE_OP(slice)                // slice.cpp
EP_REFERENCE_OP(gather)               // gather.cpp
EP_REFERENCE_OP(scatter_nd)           // scatter_nd.cpp
EP_REFERENCE_OP(constant)             // constant.cpp
EP_REFERENCE_OP(constant_of_shape)    // constant.cpp
EP_REFERENCE_OP(range)                // constant.cpp
EP_REFERENCE_OP(pad)                  // pad.cpp
EP_REFERENCE_OP(cast)                 // cast.cpp
EP_REFERENCE_OP(resize)               // resize.cpp
EP_REFERENCE_OP(quantize_linear)      // quantize_linear.cpp
EP_REFERENCE_OP(dequantize_linear)    // quantize_linear.cpp
EP_REFERENCE_OP(dynamic_quantize_linear)      // quantize_linear.cpp
EP_REFERENCE_OP(qlinear_conv)                 // qlinear_conv.cpp
EP_REFERENCE_OP(conv_integer)                 // qlinear_conv.cpp
EP_REFERENCE_OP(qlinear_matmul)               // qlinear_matmul.cpp
EP_REFERENCE_OP(matmul_integer)               // qlinear_matmul.cpp
EP_REFERENCE_OP(matmul_nbits)                 // matmul_nbits.cpp: com.microsoft.MatMulNBits
EP_REFERENCE_OP(qlinear_add)                  // qlinear_contrib.cpp: com.microsoft.QLinearAdd
EP_REFERENCE_OP(qlinear_global_average_pool)  // qlinear_contrib.cpp: com.microsoft
EP_REFERENCE_OP(dequantize_int4)              // dequantize_int4.cpp: edgeperf.DequantizeInt4
EP_REFERENCE_OP(sparse_weight)                // sparse_weight.cpp: edgeperf.SparseWeight
EP_REFERENCE_OP(if)                           // control_flow.cpp
EP_REFERENCE_OP(topk)                         // topk.cpp
EP_REFERENCE_OP(gather_nd)                    // gather_nd.cpp
EP_REFERENCE_OP(nonzero)                      // data_dependent.cpp
EP_REFERENCE_OP(non_max_suppression)          // data_dependent.cpp
EP_REFERENCE_OP(roi_align)                    // roi_align.cpp
EP_REFERENCE_OP(gather_elements)              // gather_elements.cpp
EP_REFERENCE_OP(cumsum)                       // cumsum.cpp
EP_REFERENCE_OP(einsum)                       // einsum.cpp

#undef EP_REFERENCE_OP

}  // namespace edgeperf::runtime::reference
