#include "edgeperf/eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "edgeperf/core/error.h"

namespace edgeperf::eval {
namespace {

void check_same_shape(const Tensor& a, const Tensor& b, const std::string& what) {
  EP_CHECK(a.shape() == b.shape(), "{}: shapes {} and {} differ", what, shape_to_string(a.shape()),
           shape_to_string(b.shape()));
}

// Class indices of the `k` largest logits of `row`, largest first.
std::vector<std::int64_t> top_classes(const float* row, std::int64_t classes, std::size_t k) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(classes));
  std::iota(order.begin(), order.end(), 0);
  const auto top = static_cast<std::ptrdiff_t>(std::min(k, order.size()));
  std::partial_sort(order.begin(), order.begin() + top, order.end(),
                    [&](std::int64_t a, std::int64_t b) { return row[a] > row[b]; });
  order.resize(static_cast<std::size_t>(top));
  return order;
}

std::vector<double> per_class_recall(const std::vector<std::vector<std::int64_t>>& confusion) {
  std::vector<double> recall;
  for (const auto& row : confusion) {
    const std::int64_t total = std::accumulate(row.begin(), row.end(), std::int64_t{0});
    const std::size_t index = recall.size();
    recall.push_back(total ? static_cast<double>(row[index]) / static_cast<double>(total) : 0.0);
  }
  return recall;
}

}  // namespace

Accuracy score(const Tensor& logits, const std::vector<std::int64_t>& labels) {
  EP_CHECK(logits.rank() == 2 && logits.dtype() == DType::f32,
           "accuracy needs [N, classes] f32 outputs, got {} {}", dtype_name(logits.dtype()),
           shape_to_string(logits.shape()));
  const std::int64_t n = logits.dim(0), classes = logits.dim(1);
  EP_CHECK(n == static_cast<std::int64_t>(labels.size()), "{} outputs for {} labels", n,
           labels.size());
  Accuracy result;
  result.samples = n;
  result.confusion.assign(static_cast<std::size_t>(classes),
                          std::vector<std::int64_t>(static_cast<std::size_t>(classes), 0));
  const float* data = logits.data<float>();
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int64_t label = labels[static_cast<std::size_t>(i)];
    EP_CHECK(label < classes, "label {} at row {} is outside the model's {} classes", label, i,
             classes);
    const std::vector<std::int64_t> top = top_classes(data + i * classes, classes, 5);
    result.top1_correct += top[0] == label;
    result.top5_correct += std::find(top.begin(), top.end(), label) != top.end();
    ++result.confusion[static_cast<std::size_t>(label)][static_cast<std::size_t>(top[0])];
  }
  result.top1 = static_cast<double>(result.top1_correct) / static_cast<double>(n);
  result.top5 = static_cast<double>(result.top5_correct) / static_cast<double>(n);
  result.per_class = per_class_recall(result.confusion);
  return result;
}

void SqnrSums::add(const Tensor& reference, const Tensor& approximation, const std::string& what) {
  check_same_shape(reference, approximation, what);
  const std::vector<double> ref = reference.to_doubles();
  const std::vector<double> approx = approximation.to_doubles();
  for (std::size_t i = 0; i < ref.size(); ++i) {
    signal_ += ref[i] * ref[i];
    noise_ += (ref[i] - approx[i]) * (ref[i] - approx[i]);
  }
}

double SqnrSums::db() const {
  if (noise_ == 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(signal_ / noise_);
}

double sqnr_db(const Tensor& reference, const Tensor& approximation) {
  SqnrSums sums;
  sums.add(reference, approximation, "sqnr_db");
  return sums.db();
}

double cosine_similarity(const Tensor& a, const Tensor& b) {
  check_same_shape(a, b, "cosine similarity");
  const std::vector<double> x = a.to_doubles(), y = b.to_doubles();
  double dot = 0, x_norm = 0, y_norm = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    dot += x[i] * y[i];
    x_norm += x[i] * x[i];
    y_norm += y[i] * y[i];
  }
  return x_norm > 0 && y_norm > 0 ? dot / std::sqrt(x_norm * y_norm) : 0.0;
}

double top1_agreement(const Tensor& reference, const Tensor& candidate) {
  check_same_shape(reference, candidate, "top-1 agreement");
  const std::vector<double> ref = reference.to_doubles(), out = candidate.to_doubles();
  const std::int64_t rows = reference.rank() >= 2 ? reference.dim(0) : 1;
  const std::int64_t width =
      static_cast<std::int64_t>(ref.size()) / std::max<std::int64_t>(rows, 1);
  std::int64_t agree = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    const auto ref_row = ref.begin() + r * width, out_row = out.begin() + r * width;
    agree += std::max_element(ref_row, ref_row + width) - ref_row ==
             std::max_element(out_row, out_row + width) - out_row;
  }
  return static_cast<double>(agree) / static_cast<double>(rows);
}

Fidelity compare_outputs(const Tensor& reference, const Tensor& candidate) {
  EP_CHECK(reference.shape() == candidate.shape() && reference.dtype() == DType::f32 &&
               candidate.dtype() == DType::f32,
           "fidelity needs two f32 outputs of one shape, got {} and {}",
           shape_to_string(reference.shape()), shape_to_string(candidate.shape()));
  return {top1_agreement(reference, candidate), sqnr_db(reference, candidate),
          cosine_similarity(reference, candidate)};
}

}  // namespace edgeperf::eval
