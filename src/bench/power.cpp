#include "edgeperf/bench/power.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "sysfs_read.h"

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawn

namespace edgeperf::bench {
namespace fs = std::filesystem;
using sysfs::read_line;
using sysfs::read_number;
using sysfs::sorted_entries;
namespace {

// A rail that feeds the whole module: Jetson names its input rail VDD_IN, POM_5V_IN or
// VIN_SYS_5V0; the other rails are branches of it.
bool is_input_rail(const std::string& name) {
  return name.rfind("VIN", 0) == 0 ||
         (name.size() >= 3 && name.compare(name.size() - 3, 3, "_IN") == 0) || name == "5V_IN";
}

std::string numbered(const char* prefix, int n, const char* suffix) {
  return prefix + std::to_string(n) + suffix;
}

std::vector<std::string> pmic_args() { return {"pmic_read_adc"}; }

class Pipe {
 public:
  Pipe() {
    if (::pipe2(fds_, O_CLOEXEC) != 0) fds_[0] = fds_[1] = -1;
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return fds_[0] >= 0; }
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_read() { close_fd(fds_[0]); }
  void close_write() { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

// Reads the child's output until EOF or the deadline; false on timeout.
bool read_until_eof(int fd, std::chrono::steady_clock::time_point deadline, std::string& out) {
  char buffer[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd waiting{fd, POLLIN, 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return true;
    out.append(buffer, static_cast<std::size_t>(got));
  }
}

}  // namespace

std::optional<std::string> run_program(const fs::path& program,
                                       const std::vector<std::string>& args,
                                       std::chrono::milliseconds timeout) {
  std::error_code error;
  if (!fs::is_regular_file(program, error) || ::access(program.c_str(), X_OK) != 0) {
    return std::nullopt;
  }
  Pipe output;
  if (!output.ok()) return std::nullopt;
  std::vector<std::string> argv_text{program.string()};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& arg : argv_text) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, output.write_end(), STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t child = -1;
  const int spawned = posix_spawn(&child, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return std::nullopt;
  output.close_write();

  std::string text;
  const bool finished =
      read_until_eof(output.read_end(), std::chrono::steady_clock::now() + timeout, text);
  if (!finished) ::kill(child, SIGKILL);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!finished || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return text;
}

double total_watts(const std::vector<PowerRail>& rails) {
  double total = 0;
  for (const PowerRail& rail : rails) total += rail.in_total ? rail.watts : 0;
  return total;
}

std::vector<PowerRail> parse_pmic_adc(const std::string& text) {
  static const std::regex kLine(
      R"(^\s*([A-Za-z0-9_]+)_([AV])\s+(current|volt)\(\d+\)=([-0-9.eE+]+)[AV]\s*$)");
  std::vector<std::string> order;
  std::vector<std::pair<std::optional<double>, std::optional<double>>> amps_volts;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch match;
    if (!std::regex_match(line, match, kLine)) continue;
    const std::string rail = match[1];
    double value = 0;
    try {
      value = std::stod(match[4]);
    } catch (const std::exception&) {
      continue;
    }
    auto found = std::find(order.begin(), order.end(), rail);
    if (found == order.end()) {
      order.push_back(rail);
      amps_volts.emplace_back();
      found = order.end() - 1;
    }
    auto& [amps, volts] = amps_volts[static_cast<std::size_t>(found - order.begin())];
    (match[2] == "A" ? amps : volts) = value;
  }
  std::vector<PowerRail> rails;
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& [amps, volts] = amps_volts[i];
    if (amps && volts) rails.push_back(PowerRail{order[i], *amps * *volts, true});
  }
  return rails;
}

PowerProbe::PowerProbe(const MachinePaths& paths) : vcgencmd_(paths.vcgencmd) {
  find_ina3221_hwmon(paths.sys);
  if (channels_.empty()) find_ina3221_iio(paths.sys);
  if (!channels_.empty()) return;
  if (const auto text = run_program(vcgencmd_, pmic_args())) {
    for (const PowerRail& rail : parse_pmic_adc(*text)) pmic_rails_.push_back(rail.name);
    if (!pmic_rails_.empty()) {
      kind_ = Kind::kPiPmic;
      return;
    }
  }
  find_hwmon_power(paths.sys);
}

void PowerProbe::find_ina3221_hwmon(const fs::path& sys) {
  for (const fs::path& hwmon : sorted_entries(sys / "class/hwmon", std::regex(R"(hwmon\d+)"))) {
    if (read_line(hwmon / "name").value_or("") != "ina3221") continue;
    for (int n = 1; n <= 3; ++n) {
      Channel channel{read_line(hwmon / numbered("in", n, "_label")).value_or(""),
                      {},
                      hwmon / numbered("in", n, "_input"),
                      hwmon / numbered("curr", n, "_input")};
      if (channel.name == "NC") continue;  // not connected
      if (channel.name.empty())
        channel.name = hwmon.filename().string() + "/in" + std::to_string(n);
      if (read_number(channel.millivolts) && read_number(channel.milliamps)) {
        channels_.push_back(std::move(channel));
      }
    }
  }
  if (!channels_.empty()) kind_ = Kind::kIna3221Hwmon;
}

void PowerProbe::find_ina3221_iio(const fs::path& sys) {
  for (const fs::path& device :
       sorted_entries(sys / "bus/iio/devices", std::regex(R"(iio:device\d+)"))) {
    if (read_line(device / "name").value_or("").rfind("ina3221", 0) != 0) continue;
    for (int k = 0; k <= 2; ++k) {
      Channel channel{read_line(device / numbered("rail_name_", k, "")).value_or(""),
                      device / numbered("in_power", k, "_input"),
                      {},
                      {}};
      if (channel.name.empty() || channel.name == "NC") continue;
      if (read_number(channel.power)) channels_.push_back(std::move(channel));
    }
  }
  if (!channels_.empty()) kind_ = Kind::kIna3221Iio;
}

void PowerProbe::find_hwmon_power(const fs::path& sys) {
  for (const fs::path& hwmon : sorted_entries(sys / "class/hwmon", std::regex(R"(hwmon\d+)"))) {
    const std::string device = read_line(hwmon / "name").value_or(hwmon.filename().string());
    for (const fs::path& input : sorted_entries(hwmon, std::regex(R"(power\d+_input)"))) {
      if (!read_number(input)) continue;
      const std::string stem =
          input.filename().string().substr(0, input.filename().string().find('_'));
      const std::string label = read_line(hwmon / (stem + "_label")).value_or(stem);
      channels_.push_back(Channel{device + "/" + label, input, {}, {}});
    }
  }
  if (!channels_.empty()) kind_ = Kind::kHwmonPower;
}

std::string PowerProbe::method() const {
  std::string names;
  const auto add = [&names](const std::string& name) {
    names += (names.empty() ? "" : ",") + name;
  };
  for (const Channel& channel : channels_) add(channel.name);
  for (const std::string& rail : pmic_rails_) add(rail);
  switch (kind_) {
    case Kind::kIna3221Hwmon:
    case Kind::kIna3221Iio:
      return "ina3221:" + names;
    case Kind::kPiPmic:
      return "pi5-pmic:" + names;
    case Kind::kHwmonPower:
      return "hwmon-power:" + names;
    case Kind::kNone:
      break;
  }
  return "unavailable";
}

std::string PowerProbe::coverage() const {
  switch (kind_) {
    case Kind::kIna3221Hwmon:
    case Kind::kIna3221Iio: {
      const bool has_input = std::any_of(channels_.begin(), channels_.end(),
                                         [](const Channel& c) { return is_input_rail(c.name); });
      return has_input ? "the module's input rail (whole module: CPU, GPU, memory, SoC)"
                       : "the sum of the INA3221 rails";
    }
    case Kind::kPiPmic:
      return "the sum of the PMIC's output rails, current x voltage (SoC, memory, I/O; not the "
             "5 V input's conversion losses or USB devices)";
    case Kind::kHwmonPower:
      return "the sum of the hwmon power sensors";
    case Kind::kNone:
      break;
  }
  return "nothing";
}

std::chrono::milliseconds PowerProbe::sample_interval() const {
  // vcgencmd asks the firmware over a mailbox and takes milliseconds per call.
  return kind_ == Kind::kPiPmic ? std::chrono::milliseconds(100) : std::chrono::milliseconds(20);
}

std::optional<double> PowerProbe::read_channel_watts(const Channel& channel) const {
  if (kind_ == Kind::kIna3221Hwmon) {
    const auto millivolts = read_number(channel.millivolts);
    const auto milliamps = read_number(channel.milliamps);
    if (!millivolts || !milliamps) return std::nullopt;
    return *millivolts * *milliamps / 1e6;
  }
  const auto power = read_number(channel.power);
  if (!power) return std::nullopt;
  return kind_ == Kind::kIna3221Iio ? *power / 1e3 : *power / 1e6;  // mW (iio), uW (hwmon)
}

void PowerProbe::mark_total(std::vector<PowerRail>& rails) const {
  if (kind_ != Kind::kIna3221Hwmon && kind_ != Kind::kIna3221Iio) return;
  const bool has_input = std::any_of(rails.begin(), rails.end(),
                                     [](const PowerRail& r) { return is_input_rail(r.name); });
  if (!has_input) return;
  for (PowerRail& rail : rails) rail.in_total = is_input_rail(rail.name);
}

std::optional<std::vector<PowerRail>> PowerProbe::read_rails() const {
  std::vector<PowerRail> rails;
  if (kind_ == Kind::kPiPmic) {
    const auto text = run_program(vcgencmd_, pmic_args());
    if (!text) return std::nullopt;
    rails = parse_pmic_adc(*text);
    if (rails.empty()) return std::nullopt;
    return rails;
  }
  if (kind_ == Kind::kNone) return std::nullopt;
  for (const Channel& channel : channels_) {
    const auto watts = read_channel_watts(channel);
    if (!watts) return std::nullopt;
    rails.push_back(PowerRail{channel.name, *watts, true});
  }
  mark_total(rails);
  return rails;
}

std::optional<double> PowerProbe::read_total_watts() const {
  const auto rails = read_rails();
  if (!rails) return std::nullopt;
  return total_watts(*rails);
}

PowerSampler::PowerSampler(const PowerProbe& probe)
    : PowerSampler(probe, probe.sample_interval()) {}

PowerSampler::PowerSampler(const PowerProbe& probe, std::chrono::milliseconds interval)
    : probe_(probe), interval_(interval), start_(std::chrono::steady_clock::now()) {
  sample();
  thread_ = std::thread([this] { loop(); });
}

PowerSampler::~PowerSampler() { stop(); }

void PowerSampler::sample() {
  const auto watts = probe_.read_total_watts();
  if (!watts) return;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::lock_guard lock(mutex_);
  readings_.emplace_back(seconds, *watts);
}

void PowerSampler::loop() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    sample();
    lock.lock();
  }
}

std::optional<SampledEnergy> PowerSampler::stop() {
  if (!thread_.joinable()) return std::nullopt;
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  sample();
  if (readings_.size() < 3) return std::nullopt;
  SampledEnergy energy;
  energy.samples = readings_.size();
  for (std::size_t i = 1; i < readings_.size(); ++i) {
    const auto& [t0, w0] = readings_[i - 1];
    const auto& [t1, w1] = readings_[i];
    energy.joules += 0.5 * (w0 + w1) * (t1 - t0);
  }
  energy.seconds = readings_.back().first - readings_.front().first;
  return energy;
}

}  // namespace edgeperf::bench
