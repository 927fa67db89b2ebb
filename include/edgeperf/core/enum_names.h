#pragma once
// One table per enum gives both directions of its user-facing names:
//
//   constexpr auto kModes = enum_names<SparseMode>(
//       "sparse mode", {{SparseMode::automatic, "auto"}, {SparseMode::off, "off"}});
//   kModes.parse("auto");              // SparseMode::automatic
//   kModes.parse("x");                 // Error: unknown sparse mode 'x' (expected auto or off)
//   kModes.name(SparseMode::off);      // "off"
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "edgeperf/core/error.h"

namespace edgeperf {

template <typename Enum>
struct EnumName {
  Enum value;
  std::string_view name;
};

template <typename Enum, std::size_t N>
class EnumNames {
 public:
  // `what` names the kind of value in errors ("sparse mode"); `unknown` is the name of a
  // value missing from the table.
  constexpr EnumNames(std::string_view what, std::array<EnumName<Enum>, N> entries,
                      std::string_view unknown)
      : what_(what), entries_(entries), unknown_(unknown) {}

  constexpr std::string_view name(Enum value) const {
    for (const EnumName<Enum>& entry : entries_) {
      if (entry.value == value) return entry.name;
    }
    return unknown_;
  }

  constexpr std::optional<Enum> find(std::string_view text) const {
    for (const EnumName<Enum>& entry : entries_) {
      if (entry.name == text) return entry.value;
    }
    return std::nullopt;
  }

  // Throws Error "unknown <what> '<text>' (expected a, b or c)" for a name not in the table.
  Enum parse(std::string_view text) const {
    if (const std::optional<Enum> value = find(text)) return *value;
    fail("unknown {} '{}' (expected {})", what_, text, expected());
  }

  // The names in table order: "a, b or c".
  std::string expected() const {
    std::string list;
    for (std::size_t i = 0; i < N; ++i) {
      if (i > 0) list += i + 1 == N ? " or " : ", ";
      list += entries_[i].name;
    }
    return list;
  }

  constexpr const std::array<EnumName<Enum>, N>& entries() const { return entries_; }

 private:
  std::string_view what_;
  std::array<EnumName<Enum>, N> entries_;
  std::string_view unknown_;
};

template <typename Enum, std::size_t N>
constexpr EnumNames<Enum, N> enum_names(std::string_view what, const EnumName<Enum> (&entries)[N],
                                        std::string_view unknown = "?") {
  std::array<EnumName<Enum>, N> table{};
  for (std::size_t i = 0; i < N; ++i) table[i] = entries[i];
  return EnumNames<Enum, N>(what, table, unknown);
}

}  // namespace edgeperf
