#pragma once
// Training over edgeperf graphs, with libtorch as the autograd engine (a host-side tool:
// the edgeperf-train program; see docs/training.md). Two jobs:
//   - quantization-aware training of a static QDQ model: every weight DequantizeLinear
//     becomes a float master weight under fake quantization with a learnable scale (LSQ),
//     every activation QuantizeLinear -> DequantizeLinear pair a fake quantizer with a
//     learnable scale; the result is the same QDQ layout with new integers and scales;
//   - fine-tuning a float (pruned) model while its zeros stay zero.
// The loss is cross-entropy on labels, a KL term on softened teacher logits, or both.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/eval/dataset.h"
#include "edgeperf/graph/graph.h"

namespace edgeperf::train {

struct TrainOptions {
  int epochs = 5;
  double lr = 1e-4;
  int batch = 32;
  std::uint64_t seed = 0;
  int threads = 1;  // torch's intra-op threads; the same seed and threads give the same bytes
  // Distillation: loss = (1 - alpha) * CE + alpha * T^2 * KL(teacher || student) with
  // labels; T^2 * KL alone without labels.
  double temperature = 4.0;
  double alpha = 0.5;
  // QAT only: the weight grid, [-(2^(bits-1) - 1), 2^(bits-1) - 1] (7 for --reduce-range).
  int weight_bits = 8;
};

struct EpochReport {
  int epoch = 0;  // 1-based
  int epochs = 0;
  double loss = 0.0;               // mean over the epoch's batches
  std::optional<double> held_out;  // accuracy in [0, 1] of the trained graph on --data
  double seconds = 0.0;
};

// Called after each batch (done, total) and each epoch; either may be empty.
struct Progress {
  std::function<void(int epoch, std::int64_t done, std::int64_t total, double loss)> on_batch;
  std::function<void(const EpochReport&)> on_epoch;
};

struct TrainInputs {
  const eval::Dataset* train = nullptr;     // required, non-empty; labels optional
  const graph::Graph* teacher = nullptr;    // float model whose logits the student learns
  const eval::Dataset* held_out = nullptr;  // labeled, optional
};

struct TrainResult {
  graph::Graph model;
  std::vector<EpochReport> epochs;
  std::vector<std::string> log;  // what was trained: parameter counts, masks, quantizers
};

// Quantization-aware training of `qdq` (a static QDQ model). `float_model`, when given, is
// the float graph `qdq` was quantized from (same node names): its weights start the float
// master weights; otherwise they start at the dequantized integers. Throws Error for a
// model with no trainable layers, bad data or teacher, and a loss that is not finite.
TrainResult quantization_aware(const graph::Graph& qdq, const graph::Graph* float_model,
                               const TrainInputs& inputs, const TrainOptions& options,
                               const Progress& progress = {});

// Fine-tunes the float weights (Conv, Gemm, MatMul; BatchNorm scale and bias with its
// statistics frozen) of `model`. Every weight element that is zero stays exactly zero.
TrainResult finetune_masked(const graph::Graph& model, const TrainInputs& inputs,
                            const TrainOptions& options, const Progress& progress = {});

// Top-1 accuracy in [0, 1] of `model` as the training engine runs it (float ops, fake
// quantization for QDQ pairs), on a labeled dataset.
double engine_accuracy(const graph::Graph& model, const eval::Dataset& data, int threads = 1);

}  // namespace edgeperf::train
