#include "edgeperf/cli/session_flags.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace edgeperf::cli {
namespace {

// Parses `args` (without the program name) into a command with the given flags.
runtime::SessionOptions parse(std::vector<std::string> args, const SessionFlagSet& which = {}) {
  CLI::App command("test");
  runtime::SessionOptions options;
  add_session_flags(command, options, which);
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments in reverse order
  command.parse(args);
  return options;
}

TEST(SessionFlags, FillSessionOptions) {
  const runtime::SessionOptions options = parse(
      {"--threads", "3", "--backend", "reference", "--sparse", "off", "--onednn-kernels-only"});
  EXPECT_EQ(options.threads, 3);
  EXPECT_EQ(options.backend, runtime::BackendKind::reference);
  EXPECT_EQ(options.sparse, runtime::SparseMode::off);
  EXPECT_FALSE(options.own_int8_kernels);
}

TEST(SessionFlags, DefaultsAreTheSessionDefaults) {
  const runtime::SessionOptions options = parse({});
  const runtime::SessionOptions defaults;
  EXPECT_EQ(options.threads, defaults.threads);
  EXPECT_EQ(options.backend, defaults.backend);
  EXPECT_EQ(options.sparse, defaults.sparse);
  EXPECT_EQ(options.own_int8_kernels, defaults.own_int8_kernels);
}

TEST(SessionFlags, BadValuesAreParseErrorsNamingTheFlag) {
  try {
    parse({"--backend", "gpu"});
    FAIL();
  } catch (const CLI::ParseError& error) {
    EXPECT_NE(std::string(error.what()).find("--backend"), std::string::npos);
  }
  EXPECT_THROW(parse({"--sparse", "sometimes"}), CLI::ParseError);
  EXPECT_THROW(parse({"--threads", "0"}), CLI::ParseError);
  EXPECT_EQ(parse({"--threads", "0"}, {.min_threads = 0}).threads, 0);
}

TEST(SessionFlags, OnlyTheChosenFlagsAreRegistered) {
  const SessionFlagSet threads_only{
      .backend = false, .sparse = false, .onednn_kernels_only = false};
  EXPECT_EQ(parse({"--threads", "2"}, threads_only).threads, 2);
  EXPECT_THROW(parse({"--backend", "reference"}, threads_only), CLI::ParseError);
  EXPECT_THROW(parse({"--threads", "2"}, {.threads = false}), CLI::ParseError);
}

}  // namespace
}  // namespace edgeperf::cli
