#include <gtest/gtest.h>

#include <string>

#include "edgeperf/core/error.h"
#include "edgeperf/sensors/mpu6050.h"
#include "edgeperf/sensors/sim_source.h"
#include "edgeperf/sensors/source.h"

namespace edgeperf::sensors {
namespace {

std::string error_of(const std::string& spec) {
  try {
    open_source(spec);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(SourceSpec, OpensSimWithDefaultsSeedAndScript) {
  EXPECT_NE(open_source("sim")->describe().find("seed 42"), std::string::npos);
  EXPECT_NE(open_source("sim:7")->describe().find("seed 7"), std::string::npos);
  const auto scripted = open_source("sim:7:shaking=1,still=2");
  EXPECT_NE(scripted->describe().find("shaking=1,still=2"), std::string::npos);
  EXPECT_EQ(scripted->motion_state(), MotionState::shaking);
}

TEST(SourceSpec, RejectsBadSpecsWithOneLineErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"bogus", "unknown source"},
      {"", "unknown source"},
      {"simulator", "unknown source"},
      {"sim:", "empty seed"},
      {"sim:abc", "seed 'abc'"},
      {"sim:-3", "seed '-3'"},
      {"sim:99999999999999999999999", "out of range"},
      {"sim:1:still=0", "still=0"},
      {"sim:1:dancing=2", "dancing"},
      {"mpu6050", "missing i2c device"},
      {"mpu6050:", "missing i2c device"},
      {"mpu6050:@0x68", "missing i2c device"},
      {"mpu6050:/dev/i2c-1@0x99", "0x99"},
      {"mpu6050:/dev/i2c-1@zz", "i2c address"},
      {"mpu6050:/dev/i2c-1:accel=3", "accel range"},
      {"mpu6050:/dev/i2c-1:gyro=300", "gyro range"},
      {"mpu6050:/dev/i2c-1:speed=3", "unknown option"},
      {"mpu6050:/nonexistent/i2c-9", "/nonexistent/i2c-9"},
      {"replay:", "missing path"},
      {"replay:/nonexistent/logs", "/nonexistent/logs"},
  };
  for (const auto& [spec, expected] : cases) {
    const std::string message = error_of(spec);
    EXPECT_NE(message.find(expected), std::string::npos) << spec << " -> '" << message << "'";
    EXPECT_EQ(message.find('\n'), std::string::npos) << spec;
  }
}

TEST(SourceSpec, ParsesMpu6050Options) {
  const Mpu6050Spec spec = parse_mpu6050_spec("/dev/i2c-3@0x69:accel=8,gyro=2000");
  EXPECT_EQ(spec.device, "/dev/i2c-3");
  EXPECT_EQ(spec.address, 0x69);
  EXPECT_EQ(spec.config.accel_range_g, 8);
  EXPECT_EQ(spec.config.gyro_range_dps, 2000);
  const Mpu6050Spec plain = parse_mpu6050_spec("/dev/i2c-1");
  EXPECT_EQ(plain.address, 0x68);
  EXPECT_EQ(plain.config.accel_range_g, 4);
  EXPECT_EQ(parse_mpu6050_spec("/dev/i2c-1@104").address, 104);
}

TEST(MotionState, NamesRoundTrip) {
  for (MotionState state : {MotionState::still, MotionState::moving, MotionState::shaking}) {
    EXPECT_EQ(parse_motion_state(motion_state_name(state)), state);
  }
  EXPECT_THROW(parse_motion_state("running"), Error);
}

}  // namespace
}  // namespace edgeperf::sensors
