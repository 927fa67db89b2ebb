#include "one_thread_primitive.h"

#include <cstring>
#include <memory>

#include "edgeperf/runtime/scoped_omp_threads.h"

namespace edgeperf::runtime::onednn {
namespace {

using DescPtr = std::unique_ptr<dnnl_primitive_desc, decltype(&dnnl_primitive_desc_destroy)>;

const char* implementation(const_dnnl_primitive_desc_t pd) {
  const char* info = nullptr;
  if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info) != dnnl_success)
    return nullptr;
  return info;
}

bool same_implementation(const_dnnl_primitive_desc_t a, const_dnnl_primitive_desc_t b) {
  const char* first = implementation(a);
  const char* second = implementation(b);
  return first != nullptr && second != nullptr && std::strcmp(first, second) == 0;
}

DescPtr remade_reorder(const_dnnl_primitive_desc_t pd, dnnl_engine_t engine,
                       const_dnnl_primitive_attr_t attr) {
  const dnnl_memory_desc_t* src = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
  const dnnl_memory_desc_t* dst = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
  dnnl_primitive_desc_t made = nullptr;
  if (src == nullptr || dst == nullptr ||
      dnnl_reorder_primitive_desc_create(&made, src, engine, dst, engine, attr) != dnnl_success)
    made = nullptr;
  return {made, dnnl_primitive_desc_destroy};
}

// The implementation of the op descriptor's list with `pd`'s name (the lowering may have
// skipped a reference one to reach it).
DescPtr remade_op(const_dnnl_primitive_desc_t pd, dnnl_engine_t engine,
                  const_dnnl_primitive_attr_t attr) {
  const_dnnl_op_desc_t op_desc = nullptr;
  dnnl_primitive_desc_iterator_t iterator = nullptr;
  if (dnnl_primitive_desc_query(pd, dnnl_query_op_d, 0, static_cast<void*>(&op_desc)) !=
          dnnl_success ||
      op_desc == nullptr ||
      dnnl_primitive_desc_iterator_create(&iterator, op_desc, attr, engine, nullptr) !=
          dnnl_success) {
    return {nullptr, dnnl_primitive_desc_destroy};
  }
  DescPtr found(nullptr, dnnl_primitive_desc_destroy);
  do {
    DescPtr candidate(dnnl_primitive_desc_iterator_fetch(iterator), dnnl_primitive_desc_destroy);
    if (candidate && same_implementation(candidate.get(), pd)) {
      found = std::move(candidate);
      break;
    }
  } while (dnnl_primitive_desc_iterator_next(iterator) == dnnl_success);
  dnnl_primitive_desc_iterator_destroy(iterator);
  return found;
}

bool same_layouts(const_dnnl_primitive_desc_t a, const_dnnl_primitive_desc_t b,
                  const std::vector<int>& args) {
  for (int arg : args) {
    const dnnl_memory_desc_t* first = dnnl_primitive_desc_query_md(a, dnnl_query_exec_arg_md, arg);
    const dnnl_memory_desc_t* second = dnnl_primitive_desc_query_md(b, dnnl_query_exec_arg_md, arg);
    if (first == nullptr || second == nullptr || dnnl_memory_desc_equal(first, second) == 0)
      return false;
  }
  return true;
}

}  // namespace

std::optional<OneThreadPrimitive> make_one_thread_primitive(const dnnl::primitive& wide,
                                                            const dnnl::engine& engine,
                                                            std::size_t scratchpad_limit,
                                                            const std::vector<int>& args) {
  const ScopedOmpThreads one(1);
  const_dnnl_primitive_desc_t pd = wide.get_primitive_desc();
  const_dnnl_primitive_attr_t attr = nullptr;
  if (dnnl_primitive_desc_get_attr(pd, &attr) != dnnl_success) return std::nullopt;
  DescPtr made = wide.get_kind() == dnnl::primitive::kind::reorder
                     ? remade_reorder(pd, engine.get(), attr)
                     : remade_op(pd, engine.get(), attr);
  if (!made || !same_implementation(made.get(), pd) || !same_layouts(made.get(), pd, args))
    return std::nullopt;
  const dnnl_memory_desc_t* scratchpad =
      dnnl_primitive_desc_query_md(made.get(), dnnl_query_scratchpad_md, 0);
  OneThreadPrimitive result;
  if (scratchpad != nullptr) result.scratchpad = dnnl::memory::desc(*scratchpad);
  if (result.scratchpad.get_size() > scratchpad_limit) return std::nullopt;
  dnnl_primitive_t primitive = nullptr;
  if (dnnl_primitive_create(&primitive, made.get()) != dnnl_success) return std::nullopt;
  result.primitive = dnnl::primitive(primitive);
  return result;
}

}  // namespace edgeperf::runtime::onednn
