#pragma once
// The one error type of edgeperf. Every failure a user can cause (bad file,
// bad node, bad option) is reported as an edgeperf::Error whose message is a
// single line naming what is wrong. The CLI prints it and exits non-zero.
#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace edgeperf {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}

  // Returns a copy whose message is prefixed with `context: `.
  [[nodiscard]] Error with_context(const std::string& context) const {
    return Error(context + ": " + what());
  }
};

template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// Runs `body`; an Error escaping it is rethrown with `context` prefixed.
template <typename Body>
decltype(auto) with_error_context(const std::string& context, Body&& body) {
  try {
    return body();
  } catch (const Error& error) {
    throw error.with_context(context);
  }
}

}  // namespace edgeperf

#define EP_CHECK(condition, ...)         \
  do {                                   \
    if (!(condition)) {                  \
      ::edgeperf::fail(__VA_ARGS__);     \
    }                                    \
  } while (0)
