#include "thrift_compact.h"

#include <cstring>

#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/error.h"

namespace edgeperf::columnar::thrift {
namespace {

constexpr std::size_t kMaxNesting = 64;

constexpr auto kCTypes = enum_names<CType>("Thrift compact type",
                                           {{CType::stop, "stop"},
                                            {CType::bool_true, "bool"},
                                            {CType::bool_false, "bool"},
                                            {CType::byte, "byte"},
                                            {CType::i16, "i16"},
                                            {CType::i32, "i32"},
                                            {CType::i64, "i64"},
                                            {CType::dbl, "double"},
                                            {CType::binary, "binary"},
                                            {CType::list, "list"},
                                            {CType::set, "set"},
                                            {CType::map, "map"},
                                            {CType::structure, "struct"}},
                                           "unknown");

}  // namespace

const char* ctype_name(CType type) {
  // Every name in the table is a literal, so its data() is NUL-terminated.
  return kCTypes.name(type).data();
}

// ---- writer ----

void CompactWriter::varint(std::uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<char>(value));
}

void CompactWriter::field_header(std::int16_t id, CType type) {
  const int delta = id - last_ids_.back();
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    out_.push_back(static_cast<char>(type));
    varint(zigzag(id));
  }
  last_ids_.back() = id;
}

void CompactWriter::field_i32(std::int16_t id, std::int32_t value) {
  field_header(id, CType::i32);
  varint(zigzag(value));
}

void CompactWriter::field_i64(std::int16_t id, std::int64_t value) {
  field_header(id, CType::i64);
  varint(zigzag(value));
}

void CompactWriter::field_bool(std::int16_t id, bool value) {
  field_header(id, value ? CType::bool_true : CType::bool_false);
}

void CompactWriter::field_binary(std::int16_t id, std::string_view value) {
  field_header(id, CType::binary);
  element_binary(value);
}

void CompactWriter::element_binary(std::string_view value) {
  varint(value.size());
  out_.append(value);
}

void CompactWriter::begin_struct_field(std::int16_t id) {
  field_header(id, CType::structure);
  last_ids_.push_back(0);
}

void CompactWriter::begin_list_field(std::int16_t id, CType element, std::size_t size) {
  field_header(id, CType::list);
  if (size < 15) {
    out_.push_back(static_cast<char>((size << 4) | static_cast<int>(element)));
  } else {
    out_.push_back(static_cast<char>(0xf0 | static_cast<int>(element)));
    varint(size);
  }
}

void CompactWriter::end_struct() {
  out_.push_back(0);
  last_ids_.pop_back();
}

// ---- reader ----

void CompactReader::truncated() const { fail("thrift data truncated at byte {}", pos_); }

std::uint8_t CompactReader::byte() {
  if (pos_ >= size_) truncated();
  return data_[pos_++];
}

std::uint64_t CompactReader::varint() {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    const std::uint8_t b = byte();
    value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return value;
  }
  fail("thrift varint longer than 10 bytes at byte {}", pos_);
}

std::int64_t CompactReader::zigzag_varint() {
  const std::uint64_t raw = varint();
  return static_cast<std::int64_t>(raw >> 1) ^ -static_cast<std::int64_t>(raw & 1);
}

bool CompactReader::next_field(std::int16_t& id, CType& type) {
  const std::uint8_t header = byte();
  if (header == 0) return false;
  const int type_bits = header & 0x0f;
  EP_CHECK(type_bits <= static_cast<int>(CType::structure),
           "thrift field type {} invalid at byte {}", type_bits, pos_ - 1);
  type = static_cast<CType>(type_bits);
  const int delta = header >> 4;
  if (delta != 0) {
    id = static_cast<std::int16_t>(last_ids_.back() + delta);
  } else {
    const std::int64_t raw = zigzag_varint();
    EP_CHECK(raw >= INT16_MIN && raw <= INT16_MAX, "thrift field id {} out of range at byte {}",
             raw, pos_);
    id = static_cast<std::int16_t>(raw);
  }
  last_ids_.back() = id;
  return true;
}

void CompactReader::begin_struct() {
  EP_CHECK(last_ids_.size() < kMaxNesting, "thrift structs nested deeper than {} at byte {}",
           kMaxNesting, pos_);
  last_ids_.push_back(0);
}

void CompactReader::end_struct() {
  if (last_ids_.size() > 1) last_ids_.pop_back();
}

void CompactReader::expect(CType actual, CType wanted) const {
  const bool both_bool = (actual == CType::bool_true || actual == CType::bool_false) &&
                         (wanted == CType::bool_true || wanted == CType::bool_false);
  EP_CHECK(actual == wanted || both_bool, "thrift field is {} where {} was expected at byte {}",
           ctype_name(actual), ctype_name(wanted), pos_);
}

std::int32_t CompactReader::read_i32(CType type) {
  if (type == CType::byte) return static_cast<std::int8_t>(byte());
  if (type != CType::i16) expect(type, CType::i32);
  const std::int64_t value = zigzag_varint();
  EP_CHECK(value >= INT32_MIN && value <= INT32_MAX, "thrift i32 out of range at byte {}", pos_);
  return static_cast<std::int32_t>(value);
}

std::int64_t CompactReader::read_i64(CType type) {
  if (type == CType::i32 || type == CType::i16 || type == CType::byte) return read_i32(type);
  expect(type, CType::i64);
  return zigzag_varint();
}

bool CompactReader::read_bool(CType type) {
  expect(type, CType::bool_true);
  return type == CType::bool_true;
}

std::string CompactReader::read_binary(CType type) {
  expect(type, CType::binary);
  const std::uint64_t length = varint();
  if (length > size_ - pos_) truncated();
  std::string value(reinterpret_cast<const char*>(data_ + pos_), length);
  pos_ += length;
  return value;
}

ListHeader CompactReader::read_list_header(CType type) {
  if (type != CType::set) expect(type, CType::list);
  const std::uint8_t header = byte();
  const int element_bits = header & 0x0f;
  EP_CHECK(element_bits <= static_cast<int>(CType::structure) && element_bits != 0,
           "thrift list element type {} invalid at byte {}", element_bits, pos_ - 1);
  std::uint64_t size = header >> 4;
  if (size == 15) size = varint();
  // Every element takes at least one byte, so a larger count is corruption;
  // checking here keeps a flipped length from driving a huge allocation.
  if (size > size_ - pos_) truncated();
  return {static_cast<CType>(element_bits), static_cast<std::size_t>(size)};
}

std::int32_t CompactReader::read_list_i32(CType element) { return read_i32(element); }

void CompactReader::skip(CType type) { skip_depth(type, 0); }

void CompactReader::skip_element(CType type, int depth) {
  // Booleans inside containers take one byte each.
  if (type == CType::bool_true || type == CType::bool_false) {
    byte();
  } else {
    skip_depth(type, depth);
  }
}

void CompactReader::skip_depth(CType type, int depth) {
  EP_CHECK(depth < static_cast<int>(kMaxNesting), "thrift values nested deeper than {} at byte {}",
           kMaxNesting, pos_);
  switch (type) {
    case CType::bool_true:
    case CType::bool_false:
    case CType::stop:
      return;
    case CType::byte:
      byte();
      return;
    case CType::i16:
    case CType::i32:
    case CType::i64:
      varint();
      return;
    case CType::dbl:
      if (size_ - pos_ < 8) truncated();
      pos_ += 8;
      return;
    case CType::binary: {
      const std::uint64_t length = varint();
      if (length > size_ - pos_) truncated();
      pos_ += length;
      return;
    }
    case CType::list:
    case CType::set: {
      const ListHeader list = read_list_header(type);
      for (std::size_t i = 0; i < list.size; ++i) skip_element(list.element, depth + 1);
      return;
    }
    case CType::map: {
      const std::uint64_t size = varint();
      if (size == 0) return;
      if (size > size_ - pos_) truncated();
      const std::uint8_t types = byte();
      const auto key = static_cast<CType>(types >> 4);
      const auto value = static_cast<CType>(types & 0x0f);
      EP_CHECK((types >> 4) <= 12 && (types & 0x0f) <= 12, "thrift map types invalid at byte {}",
               pos_);
      for (std::uint64_t i = 0; i < size; ++i) {
        skip_element(key, depth + 1);
        skip_element(value, depth + 1);
      }
      return;
    }
    case CType::structure: {
      begin_struct();
      std::int16_t id = 0;
      CType field = CType::stop;
      while (next_field(id, field)) skip_depth(field, depth + 1);
      end_struct();
      return;
    }
  }
}

}  // namespace edgeperf::columnar::thrift
