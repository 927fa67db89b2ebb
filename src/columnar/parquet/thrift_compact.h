#pragma once
// Thrift compact protocol, just the subset Parquet metadata uses.
//
// Why our own and not libthrift: Parquet needs ~10 small structs, and the
// generated C++ code drags in libthrift's transports, exceptions with their own
// hierarchy and unbounded allocations driven by untrusted lengths. A ~300-line
// encoder/decoder that checks every length against the bytes left is simpler
// to audit and lets a corrupted footer fail with one clear edgeperf::Error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgeperf::columnar::thrift {

enum class CType : std::uint8_t {
  stop = 0,
  bool_true = 1,
  bool_false = 2,
  byte = 3,
  i16 = 4,
  i32 = 5,
  i64 = 6,
  dbl = 7,
  binary = 8,
  list = 9,
  set = 10,
  map = 11,
  structure = 12,
};

const char* ctype_name(CType type);

class CompactWriter {
 public:
  explicit CompactWriter(std::string& out) : out_(out) { last_ids_.push_back(0); }

  void field_i32(std::int16_t id, std::int32_t value);
  void field_i64(std::int16_t id, std::int64_t value);
  void field_bool(std::int16_t id, bool value);
  void field_binary(std::int16_t id, std::string_view value);
  void begin_struct_field(std::int16_t id);
  void begin_list_field(std::int16_t id, CType element, std::size_t size);
  // List elements.
  void element_i32(std::int32_t value) { varint(zigzag(value)); }
  void element_binary(std::string_view value);
  void begin_struct_element() { last_ids_.push_back(0); }
  // Ends the innermost struct (or the top-level one).
  void end_struct();

 private:
  static std::uint64_t zigzag(std::int64_t value) {
    return (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
  }
  void field_header(std::int16_t id, CType type);
  void varint(std::uint64_t value);

  std::string& out_;
  std::vector<std::int16_t> last_ids_;
};

struct ListHeader {
  CType element;
  std::size_t size;
};

// Every read checks the bytes left; failures throw Error("... at byte N").
class CompactReader {
 public:
  CompactReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}

  // Reads the next field header of the current struct; false at its stop byte.
  bool next_field(std::int16_t& id, CType& type);
  void begin_struct();  // entering a nested struct (field or list element)
  void end_struct();    // after next_field returned false
  std::int32_t read_i32(CType type);
  std::int64_t read_i64(CType type);
  bool read_bool(CType type);
  std::string read_binary(CType type);
  ListHeader read_list_header(CType type);
  std::int32_t read_list_i32(CType element);
  void expect(CType actual, CType wanted) const;
  void skip(CType type);
  std::size_t position() const { return pos_; }

 private:
  std::uint8_t byte();
  std::uint64_t varint();
  std::int64_t zigzag_varint();
  void skip_depth(CType type, int depth);
  void skip_element(CType type, int depth);
  [[noreturn]] void truncated() const;

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::vector<std::int16_t> last_ids_{0};
};

}  // namespace edgeperf::columnar::thrift
