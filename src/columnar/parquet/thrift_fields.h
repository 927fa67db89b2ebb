#pragma once
// Thrift structs described once, by a table of their fields, and written and read from
// that one table (so a field id is stated in one place).
//
//   template <> struct StructFields<Statistics> {
//     static constexpr const char* name = "Statistics";
//     static constexpr std::array fields{field<&Statistics::null_count>(3, "null_count"), ...};
//   };
//   write_struct_fields(writer, stats);  read_struct_fields(reader, stats);
//
// Members map to Thrift types by their C++ type: int32/int64/bool/string, std::optional of
// one (written only when set), std::vector of int32/string/struct (lists), and structs that
// have a StructFields table themselves. Fields that fit no member use custom functions.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "edgeperf/core/error.h"
#include "thrift_compact.h"

namespace edgeperf::columnar::thrift {

enum class Presence { optional, required };

template <typename S>
struct Field {
  std::int16_t id;
  const char* name;
  Presence presence;
  void (*write)(CompactWriter&, std::int16_t id, const S&);
  void (*read)(CompactReader&, CType, S&);  // nullptr: write-only, skipped when read
};

// Specialized per struct: `name` and `fields` (in id order, the order they are written).
template <typename S>
struct StructFields;

template <typename S>
void write_struct_fields(CompactWriter& w, const S& value) {
  for (const Field<S>& field : StructFields<S>::fields) field.write(w, field.id, value);
}

// Reads the fields of the current struct up to its stop byte (unknown ones are skipped),
// then checks that every required field was there.
template <typename S>
void read_struct_fields(CompactReader& r, S& value) {
  std::uint64_t seen = 0;
  std::int16_t id = 0;
  CType type = CType::stop;
  while (r.next_field(id, type)) {
    const Field<S>* match = nullptr;
    for (const Field<S>& field : StructFields<S>::fields) {
      if (field.id == id && field.read != nullptr) match = &field;
    }
    if (match == nullptr) {
      r.skip(type);
      continue;
    }
    match->read(r, type, value);
    seen |= std::uint64_t{1} << id;
  }
  for (const Field<S>& field : StructFields<S>::fields) {
    EP_CHECK(field.presence == Presence::optional || (seen & (std::uint64_t{1} << field.id)),
             "{} lacks required field {}", StructFields<S>::name, field.name);
  }
}

template <typename T>
struct Codec;

template <>
struct Codec<std::int32_t> {
  static void write(CompactWriter& w, std::int16_t id, std::int32_t v) { w.field_i32(id, v); }
  static void read(CompactReader& r, CType t, std::int32_t& v) { v = r.read_i32(t); }
};
template <>
struct Codec<std::uint32_t> {  // stored as a Thrift i32 with the same bits (a CRC)
  static void write(CompactWriter& w, std::int16_t id, std::uint32_t v) {
    w.field_i32(id, static_cast<std::int32_t>(v));
  }
  static void read(CompactReader& r, CType t, std::uint32_t& v) {
    v = static_cast<std::uint32_t>(r.read_i32(t));
  }
};
template <>
struct Codec<std::int64_t> {
  static void write(CompactWriter& w, std::int16_t id, std::int64_t v) { w.field_i64(id, v); }
  static void read(CompactReader& r, CType t, std::int64_t& v) { v = r.read_i64(t); }
};
template <>
struct Codec<bool> {
  static void write(CompactWriter& w, std::int16_t id, bool v) { w.field_bool(id, v); }
  static void read(CompactReader& r, CType t, bool& v) { v = r.read_bool(t); }
};
template <>
struct Codec<std::string> {
  static void write(CompactWriter& w, std::int16_t id, const std::string& v) {
    w.field_binary(id, v);
  }
  static void read(CompactReader& r, CType t, std::string& v) { v = r.read_binary(t); }
};

// A nested struct field.
template <typename S>
struct Codec {
  static void write(CompactWriter& w, std::int16_t id, const S& v) {
    w.begin_struct_field(id);
    write_struct_fields(w, v);
    w.end_struct();
  }
  static void read(CompactReader& r, CType t, S& v) {
    r.expect(t, CType::structure);
    read_element(r, v);
  }
  static void write_element(CompactWriter& w, const S& v) {
    w.begin_struct_element();
    write_struct_fields(w, v);
    w.end_struct();
  }
  static void read_element(CompactReader& r, S& v) {
    r.begin_struct();
    read_struct_fields(r, v);
    r.end_struct();
  }
};

template <typename T>
struct Codec<std::optional<T>> {
  static void write(CompactWriter& w, std::int16_t id, const std::optional<T>& v) {
    if (v) Codec<T>::write(w, id, *v);
  }
  static void read(CompactReader& r, CType t, std::optional<T>& v) {
    T value{};
    Codec<T>::read(r, t, value);
    v = std::move(value);
  }
};

template <>
struct Codec<std::vector<std::int32_t>> {
  static void write(CompactWriter& w, std::int16_t id, const std::vector<std::int32_t>& v) {
    w.begin_list_field(id, CType::i32, v.size());
    for (std::int32_t element : v) w.element_i32(element);
  }
  static void read(CompactReader& r, CType t, std::vector<std::int32_t>& v) {
    const ListHeader list = r.read_list_header(t);
    for (std::size_t i = 0; i < list.size; ++i) v.push_back(r.read_i32(list.element));
  }
};
template <>
struct Codec<std::vector<std::string>> {
  static void write(CompactWriter& w, std::int16_t id, const std::vector<std::string>& v) {
    w.begin_list_field(id, CType::binary, v.size());
    for (const std::string& element : v) w.element_binary(element);
  }
  static void read(CompactReader& r, CType t, std::vector<std::string>& v) {
    const ListHeader list = r.read_list_header(t);
    for (std::size_t i = 0; i < list.size; ++i) v.push_back(r.read_binary(list.element));
  }
};
template <typename S>
struct Codec<std::vector<S>> {  // a list of structs
  static void write(CompactWriter& w, std::int16_t id, const std::vector<S>& v) {
    w.begin_list_field(id, CType::structure, v.size());
    for (const S& element : v) Codec<S>::write_element(w, element);
  }
  static void read(CompactReader& r, CType t, std::vector<S>& v) {
    const ListHeader list = r.read_list_header(t);
    r.expect(list.element, CType::structure);
    std::vector<S> elements;
    elements.reserve(list.size);
    for (std::size_t i = 0; i < list.size; ++i) Codec<S>::read_element(r, elements.emplace_back());
    v = std::move(elements);
  }
};

template <typename M>
struct MemberOf;
template <typename S, typename T>
struct MemberOf<T S::*> {
  using Struct = S;
  using Type = T;
};

// The field of struct member `Member`, written and read by the Codec of its type.
template <auto Member>
constexpr Field<typename MemberOf<decltype(Member)>::Struct> field(
    std::int16_t id, const char* name, Presence presence = Presence::optional) {
  using S = typename MemberOf<decltype(Member)>::Struct;
  using T = typename MemberOf<decltype(Member)>::Type;
  return Field<S>{id, name, presence,
                  [](CompactWriter& w, std::int16_t field_id, const S& s) {
                    Codec<T>::write(w, field_id, s.*Member);
                  },
                  [](CompactReader& r, CType type, S& s) { Codec<T>::read(r, type, s.*Member); }};
}

}  // namespace edgeperf::columnar::thrift
