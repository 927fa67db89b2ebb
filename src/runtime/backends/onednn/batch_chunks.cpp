#include "batch_chunks.h"

#include <memory>

namespace edgeperf::runtime::onednn {
namespace {

using dnnl::memory;

class BatchChunks {
 public:
  BatchChunks(dnnl::primitive primitive, const dnnl::engine& engine, const memory::desc& chunk_src,
              const memory::desc& chunk_dst, memory::dim chunks)
      : primitive_(std::move(primitive)),
        stream_(engine),
        src_(chunk_src, engine, DNNL_MEMORY_NONE),
        dst_(chunk_dst, engine, DNNL_MEMORY_NONE),
        src_bytes_(chunk_src.get_size()),
        dst_bytes_(chunk_dst.get_size()),
        chunks_(chunks) {}

  void run(const ArgMap& args) {
    if (chunk_args_.empty()) {  // the other arguments' handles are bound in place
      chunk_args_ = args;
      chunk_args_.insert_or_assign(DNNL_ARG_SRC, src_);
      chunk_args_.insert_or_assign(DNNL_ARG_DST, dst_);
    }
    auto* src = static_cast<std::byte*>(args.at(DNNL_ARG_SRC).get_data_handle());
    auto* dst = static_cast<std::byte*>(args.at(DNNL_ARG_DST).get_data_handle());
    for (memory::dim chunk = 0; chunk < chunks_; ++chunk) {
      src_.set_data_handle(src + chunk * src_bytes_);
      dst_.set_data_handle(dst + chunk * dst_bytes_);
      primitive_.execute(stream_, chunk_args_);
    }
    stream_.wait();
  }

 private:
  dnnl::primitive primitive_;
  dnnl::stream stream_;
  memory src_, dst_;
  std::size_t src_bytes_, dst_bytes_;
  memory::dim chunks_;
  ArgMap chunk_args_;
};

}  // namespace

CustomOp run_in_batch_chunks(dnnl::primitive primitive, const dnnl::engine& engine,
                             const memory::desc& chunk_src, const memory::desc& chunk_dst,
                             memory::dim chunks) {
  auto chunked =
      std::make_shared<BatchChunks>(std::move(primitive), engine, chunk_src, chunk_dst, chunks);
  return [chunked](const ArgMap& args) { chunked->run(args); };
}

}  // namespace edgeperf::runtime::onednn
