"""Tiny encoder for ONNX models in protobuf wire format, written from onnx.proto3.

Lets tests build small, deliberately odd models without the onnx Python package.
Only the fields the tests need are implemented.
"""

import struct

# TensorProto.DataType
FLOAT, UINT8, INT8, INT32, INT64, BOOL = 1, 2, 3, 6, 7, 9
# AttributeProto.AttributeType
ATTR_FLOAT, ATTR_INT, ATTR_STRING, ATTR_TENSOR, ATTR_FLOATS, ATTR_INTS = 1, 2, 3, 4, 6, 7

_WIRE_VARINT, _WIRE_LEN, _WIRE_FIXED32 = 0, 2, 5


def _varint(value):
    value &= (1 << 64) - 1  # negative int64 -> two's complement, 10 bytes
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field, wire):
    return _varint((field << 3) | wire)


def int_field(field, value):
    return _key(field, _WIRE_VARINT) + _varint(value)


def bytes_field(field, payload):
    if isinstance(payload, str):
        payload = payload.encode()
    return _key(field, _WIRE_LEN) + _varint(len(payload)) + payload


def float_field(field, value):
    return _key(field, _WIRE_FIXED32) + struct.pack("<f", value)


def tensor(name, data_type, dims, raw):
    """TensorProto with raw_data (little-endian bytes)."""
    out = b"".join(int_field(1, d) for d in dims)
    out += int_field(2, data_type) + bytes_field(8, name) + bytes_field(9, raw)
    return out


def value_info(name, elem_type, dims):
    """ValueInfoProto; a dim that is a str becomes a symbolic dim_param."""
    shape = b""
    for d in dims:
        dim = bytes_field(2, d) if isinstance(d, str) else int_field(1, d)
        shape += bytes_field(1, dim)
    tensor_type = int_field(1, elem_type) + bytes_field(2, shape)
    return bytes_field(1, name) + bytes_field(2, bytes_field(1, tensor_type))


def attr_int(name, value):
    return bytes_field(1, name) + int_field(20, ATTR_INT) + int_field(3, value)


def attr_float(name, value):
    return bytes_field(1, name) + int_field(20, ATTR_FLOAT) + float_field(2, value)


def attr_ints(name, values):
    return bytes_field(1, name) + int_field(20, ATTR_INTS) + b"".join(int_field(8, v) for v in values)


def attr_floats(name, values):
    return (bytes_field(1, name) + int_field(20, ATTR_FLOATS) +
            b"".join(float_field(7, v) for v in values))


def attr_string(name, value):
    return bytes_field(1, name) + int_field(20, ATTR_STRING) + bytes_field(4, value)


def attr_tensor(name, tensor_bytes):
    """A TENSOR attribute (e.g. a Constant node's `value`) holding a tensor() message."""
    return bytes_field(1, name) + int_field(20, ATTR_TENSOR) + bytes_field(5, tensor_bytes)


def node(op_type, inputs, outputs, name="", attributes=(), domain=""):
    out = b"".join(bytes_field(1, i) for i in inputs)
    out += b"".join(bytes_field(2, o) for o in outputs)
    out += bytes_field(3, name or f"{op_type}_{outputs[0]}") + bytes_field(4, op_type)
    out += b"".join(bytes_field(5, a) for a in attributes)
    if domain:
        out += bytes_field(7, domain)
    return out


def graph(nodes, inputs, outputs, initializers=(), name="g"):
    out = b"".join(bytes_field(1, n) for n in nodes) + bytes_field(2, name)
    out += b"".join(bytes_field(5, t) for t in initializers)
    out += b"".join(bytes_field(11, v) for v in inputs)
    out += b"".join(bytes_field(12, v) for v in outputs)
    return out


def model(graph_bytes, opset=17, ir_version=8):
    opset_import = bytes_field(1, "") + int_field(2, opset)
    return (int_field(1, ir_version) + bytes_field(2, "edgeperf-tests") +
            bytes_field(7, graph_bytes) + bytes_field(8, opset_import))


# ---- decoding: just enough to list a model's graph inputs and outputs ----


def _read_varint(buf, pos):
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def fields(buf):
    """Yields (field number, wire type, value) of one message; LEN values are bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == _WIRE_VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == _WIRE_LEN:
            length, pos = _read_varint(buf, pos)
            value, pos = bytes(buf[pos:pos + length]), pos + length
        elif wire == _WIRE_FIXED32:
            value, pos = bytes(buf[pos:pos + 4]), pos + 4
        elif wire == 1:
            value, pos = bytes(buf[pos:pos + 8]), pos + 8
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield field, wire, value


def _first(buf, number, default=None):
    for field, _, value in fields(buf):
        if field == number:
            return value
    return default


def _decode_value_info(buf):
    name = _first(buf, 1, b"").decode()
    tensor_type = _first(_first(buf, 2, b""), 1, b"")
    elem_type = _first(tensor_type, 1, 0)
    dims = []
    for field, _, dim in fields(_first(tensor_type, 2, b"")):
        if field == 1:
            value = _first(dim, 1)
            dims.append(value if value is not None else (_first(dim, 2, b"?").decode()))
    return name, elem_type, dims


def graph_io(model_bytes):
    """Returns (inputs, outputs) as lists of (name, elem_type, dims); initializers excluded."""
    graph_bytes = _first(model_bytes, 7, b"")
    initializer_names = {_first(t, 8, b"").decode() for f, _, t in fields(graph_bytes) if f == 5}
    inputs = [_decode_value_info(v) for f, _, v in fields(graph_bytes) if f == 11]
    outputs = [_decode_value_info(v) for f, _, v in fields(graph_bytes) if f == 12]
    return [i for i in inputs if i[0] not in initializer_names], outputs
