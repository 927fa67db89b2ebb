#include "edgeperf/sensors/source.h"

#include <cerrno>
#include <cstdlib>

#include "edgeperf/core/error.h"
#include "edgeperf/sensors/mpu6050.h"
#include "edgeperf/sensors/replay_source.h"
#include "edgeperf/sensors/sim_source.h"

namespace edgeperf::sensors {
namespace {

constexpr std::uint64_t kDefaultSimSeed = 42;

std::uint64_t parse_seed(const std::string& text) {
  EP_CHECK(!text.empty() && text.find_first_not_of("0123456789") == std::string::npos,
           "sim: seed '{}' is not a non-negative integer", text);
  errno = 0;
  const unsigned long long seed = std::strtoull(text.c_str(), nullptr, 10);
  EP_CHECK(errno == 0, "sim: seed '{}' is out of range", text);
  return seed;
}

std::unique_ptr<Source> open_sim(const std::string& rest) {
  if (rest.empty()) return std::make_unique<SimSource>(kDefaultSimSeed, default_motion_script());
  const std::size_t colon = rest.find(':');
  const std::uint64_t seed = parse_seed(rest.substr(0, colon));
  if (colon == std::string::npos) return std::make_unique<SimSource>(seed, default_motion_script());
  return std::make_unique<SimSource>(seed, parse_motion_script(rest.substr(colon + 1)));
}

std::unique_ptr<Source> open_mpu6050(const std::string& rest) {
  const Mpu6050Spec spec = parse_mpu6050_spec(rest);
  return std::make_unique<Mpu6050Source>(open_linux_i2c(spec.device, spec.address), spec.config);
}

}  // namespace

std::unique_ptr<Source> open_source(const std::string& spec) {
  const std::size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string rest = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (kind == "sim") {
    EP_CHECK(colon == std::string::npos || !rest.empty(), "sim: empty seed in '{}'", spec);
    return open_sim(rest);
  }
  if (kind == "mpu6050") {
    EP_CHECK(!rest.empty(), "mpu6050: missing i2c device, expected mpu6050:/dev/i2c-N[@0x68]");
    return open_mpu6050(rest);
  }
  if (kind == "replay") {
    EP_CHECK(!rest.empty(), "replay: missing path, expected replay:PATH");
    return std::make_unique<ReplaySource>(rest);
  }
  fail("unknown source '{}' (expected sim[:seed], mpu6050:/dev/i2c-N[@0x68] or replay:PATH)", spec);
}

}  // namespace edgeperf::sensors
