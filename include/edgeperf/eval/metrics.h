#pragma once
// The one home of output metrics: top-k accuracy, SQNR, cosine similarity and top-1
// agreement. Quantization, pruning and benchmarking all score models with these.
#include <cstdint>
#include <string>
#include <vector>

#include "edgeperf/core/tensor.h"

namespace edgeperf::eval {

struct Accuracy {
  std::int64_t samples = 0;
  std::int64_t top1_correct = 0, top5_correct = 0;
  double top1 = 0, top5 = 0;                         // fractions in [0, 1]
  std::vector<double> per_class;                     // recall per class
  std::vector<std::vector<std::int64_t>> confusion;  // [true][predicted]
};

// Scores [N, classes] f32 logits against N labels. Errors name the row of a label outside
// the classes.
Accuracy score(const Tensor& logits, const std::vector<std::int64_t>& labels);

// Signal and noise energy summed over any number of (reference, approximation) pairs; the
// SQNR of the whole is their ratio in dB.
class SqnrSums {
 public:
  // `what` names the pair in the error when the shapes differ.
  void add(const Tensor& reference, const Tensor& approximation, const std::string& what);
  // 10 log10(sum ref^2 / sum (ref - approx)^2); +inf when the noise is 0.
  double db() const;

 private:
  double signal_ = 0.0;
  double noise_ = 0.0;
};

// SQNR in dB of one pair (any dtypes, one shape); +inf when identical.
double sqnr_db(const Tensor& reference, const Tensor& approximation);
// dot(a, b) / (|a| |b|); 0 when either is all zeros.
double cosine_similarity(const Tensor& a, const Tensor& b);
// Fraction of rows (dimension 0) whose argmax agrees.
double top1_agreement(const Tensor& reference, const Tensor& candidate);

struct Fidelity {
  double top1_agreement = 0;  // fraction of samples whose argmax agrees
  double sqnr_db = 0;         // inf when identical
  double cosine = 0;
};
// All three, for two f32 outputs of one shape.
Fidelity compare_outputs(const Tensor& reference, const Tensor& candidate);

}  // namespace edgeperf::eval
