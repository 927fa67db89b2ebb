#include "edgeperf/core/npy.h"

#include <cstring>
#include <string_view>

#include "edgeperf/core/file_io.h"

namespace edgeperf {
namespace {

constexpr std::string_view kMagic = "\x93NUMPY";

struct NpyHeader {
  DType dtype = DType::f32;
  bool fortran_order = false;
  Shape shape;
};

std::string descr_for(DType dtype) {
  switch (dtype) {
    case DType::f32: return "<f4";
    case DType::f16: return "<f2";
    case DType::i8: return "|i1";
    case DType::u8: return "|u1";
    case DType::i32: return "<i4";
    case DType::i64: return "<i8";
    case DType::boolean: return "|b1";
  }
  return "";
}

DType dtype_for_descr(std::string_view descr, const std::string& source) {
  for (DType dtype : {DType::f32, DType::f16, DType::i8, DType::u8, DType::i32, DType::i64,
                      DType::boolean}) {
    const std::string expected = descr_for(dtype);
    const bool little_or_any_order = descr[0] == '<' || descr[0] == '|' || descr[0] == '=';
    if (descr.size() == 3 && little_or_any_order && descr.substr(1) == expected.substr(1)) {
      return dtype;
    }
  }
  fail("{}: .npy header: unsupported dtype '{}' (supported: f4 f2 i1 u1 i4 i8 b1, little-endian)",
       source, descr);
}

// Finds the value text after 'key': in a Python dict literal.
std::string_view dict_value(std::string_view header, std::string_view key,
                            const std::string& source) {
  const std::string quoted = "'" + std::string(key) + "'";
  const std::size_t at = header.find(quoted);
  EP_CHECK(at != std::string_view::npos, "{}: .npy header: missing '{}'", source, key);
  std::size_t colon = header.find(':', at + quoted.size());
  EP_CHECK(colon != std::string_view::npos, "{}: .npy header: malformed '{}'", source, key);
  std::size_t begin = colon + 1;
  while (begin < header.size() && header[begin] == ' ') ++begin;
  return header.substr(begin);
}

Shape parse_shape(std::string_view text, const std::string& source) {
  EP_CHECK(!text.empty() && text[0] == '(', "{}: .npy header: shape is not a tuple", source);
  const std::size_t close = text.find(')');
  EP_CHECK(close != std::string_view::npos, "{}: .npy header: unterminated shape", source);
  Shape shape;
  std::size_t i = 1;
  while (i < close) {
    while (i < close && (text[i] == ' ' || text[i] == ',')) ++i;
    if (i >= close) break;
    std::int64_t value = 0;
    bool any_digit = false;
    while (i < close && text[i] >= '0' && text[i] <= '9') {
      EP_CHECK(value <= (kMaxTensorElements), "{}: .npy header: dimension too large", source);
      value = value * 10 + (text[i] - '0');
      any_digit = true;
      ++i;
    }
    while (i < close && text[i] == 'L') ++i;
    EP_CHECK(any_digit, "{}: .npy header: bad shape '{}'", source, text.substr(0, close + 1));
    shape.push_back(value);
  }
  return shape;
}

NpyHeader parse_header(std::string_view header, const std::string& source) {
  NpyHeader parsed;
  std::string_view descr = dict_value(header, "descr", source);
  EP_CHECK(!descr.empty() && descr[0] == '\'', "{}: .npy header: descr is not a string", source);
  const std::size_t end = descr.find('\'', 1);
  EP_CHECK(end != std::string_view::npos, "{}: .npy header: unterminated descr", source);
  parsed.dtype = dtype_for_descr(descr.substr(1, end - 1), source);
  parsed.fortran_order = dict_value(header, "fortran_order", source).starts_with("True");
  parsed.shape = parse_shape(dict_value(header, "shape", source), source);
  EP_CHECK(!parsed.fortran_order, "{}: .npy: Fortran-order arrays are not supported", source);
  return parsed;
}

}  // namespace

Tensor parse_npy(std::span<const std::byte> bytes, const std::string& source) {
  const auto* data = reinterpret_cast<const char*>(bytes.data());
  EP_CHECK(bytes.size() >= 10 && std::string_view(data, 6) == kMagic,
           "{}: not a .npy file (bad magic)", source);
  const int major = static_cast<unsigned char>(data[6]);
  std::size_t header_length = 0;
  std::size_t prefix = 0;
  if (major == 1) {
    header_length = static_cast<unsigned char>(data[8]) | static_cast<unsigned char>(data[9]) << 8;
    prefix = 10;
  } else if (major == 2 || major == 3) {
    EP_CHECK(bytes.size() >= 12, "{}: truncated .npy header", source);
    for (int i = 3; i >= 0; --i) header_length = header_length << 8 | static_cast<unsigned char>(data[8 + i]);
    prefix = 12;
  } else {
    fail("{}: unsupported .npy version {}", source, major);
  }
  EP_CHECK(header_length <= bytes.size() - prefix, "{}: truncated .npy header", source);
  const NpyHeader header = parse_header(std::string_view(data + prefix, header_length), source);
  const std::int64_t count = element_count(header.shape, source);
  const std::size_t payload_offset = prefix + header_length;
  const std::size_t expected = static_cast<std::size_t>(count) * dtype_size(header.dtype);
  const std::size_t available = bytes.size() - payload_offset;
  EP_CHECK(available == expected,
           "{}: .npy data is {} bytes but the header's shape {} of {} needs {} bytes", source,
           available, shape_to_string(header.shape), dtype_name(header.dtype), expected);
  Tensor tensor(header.dtype, header.shape);
  if (expected > 0) std::memcpy(tensor.raw(), data + payload_offset, expected);
  if (header.dtype == DType::boolean) {
    for (auto& value : tensor.bytes()) {
      EP_CHECK(value == std::byte{0} || value == std::byte{1}, "{}: .npy bool data holds a value other than 0 or 1", source);
    }
  }
  return tensor;
}

Tensor read_npy(const std::filesystem::path& path) {
  const std::string contents = read_file(path);
  return parse_npy(std::as_bytes(std::span<const char>(contents.data(), contents.size())),
                   path.string());
}

std::string serialize_npy(const Tensor& tensor) {
  // Python tuple syntax: "()", "(3,)", "(2, 3)".
  std::string shape_text = "(";
  for (std::size_t i = 0; i < tensor.shape().size(); ++i) {
    shape_text += (i ? ", " : "") + std::to_string(tensor.shape()[i]);
  }
  shape_text += tensor.rank() == 1 ? ",)" : ")";
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   descr_for(tensor.dtype()), shape_text);
  const std::size_t unpadded = kMagic.size() + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::string out(kMagic);
  out.push_back('\x01');
  out.push_back('\x00');
  out.push_back(static_cast<char>(header.size() & 0xff));
  out.push_back(static_cast<char>(header.size() >> 8));
  out += header;
  const auto payload = tensor.bytes();
  out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return out;
}

void write_npy(const std::filesystem::path& path, const Tensor& tensor) {
  write_file_atomic(path, serialize_npy(tensor));
}

}  // namespace edgeperf
