'use strict';
// Minimal reader/writer for the NumPy .npy format (format spec: numpy.lib.format).
// Reads versions 1.0, 2.0 and 3.0; writes 1.0. C order only, little-endian only.
// An array is {dtype, shape, data} where dtype is the ONNX Runtime type name.

const fs = require('fs');
const path = require('path');

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);  // "\x93NUMPY"
const HEADER_ALIGN = 64;

// descr -> {dtype (ORT name), bytes per element, typed array constructor}
const DESCR_TO_TYPE = {
  '<f4': {dtype: 'float32', size: 4, Array: Float32Array},
  '<f8': {dtype: 'float64', size: 8, Array: Float64Array},
  '<i8': {dtype: 'int64', size: 8, Array: BigInt64Array},
  '<i4': {dtype: 'int32', size: 4, Array: Int32Array},
  '|u1': {dtype: 'uint8', size: 1, Array: Uint8Array},
  '|i1': {dtype: 'int8', size: 1, Array: Int8Array},
  '|b1': {dtype: 'bool', size: 1, Array: Uint8Array},
};
const DTYPE_TO_DESCR = Object.fromEntries(
    Object.entries(DESCR_TO_TYPE).map(([descr, t]) => [t.dtype, descr]));
// Single-byte types may also be spelled with '<' or '>' by some writers.
const DESCR_ALIASES = {'<u1': '|u1', '>u1': '|u1', '<i1': '|i1', '>i1': '|i1', '<b1': '|b1',
                       '>b1': '|b1'};

class NpyError extends Error {}

function parseHeaderDict(text, file) {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{') || !trimmed.endsWith('}')) {
    throw new NpyError(`${file}: npy header is not a dict literal`);
  }
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(trimmed);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(trimmed);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(trimmed);
  if (!descr || !fortran || !shape) {
    throw new NpyError(`${file}: npy header lacks descr, fortran_order or shape`);
  }
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  for (const d of dims) {
    if (!/^\d+$/.test(d)) throw new NpyError(`${file}: npy shape has bad dimension '${d}'`);
  }
  return {descr: descr[1], fortranOrder: fortran[1] === 'True', shape: dims.map(Number)};
}

function elementCount(shape) {
  return shape.reduce((n, d) => n * d, 1);
}

function parseNpy(buf, file = '<buffer>') {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new NpyError(`${file}: not an npy file (bad magic)`);
  }
  const major = buf[6];
  let headerLen;
  let headerStart;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new NpyError(`${file}: truncated npy header`);
    headerLen = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new NpyError(`${file}: unsupported npy version ${major}.${buf[7]}`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > buf.length) throw new NpyError(`${file}: truncated npy header`);
  const header = parseHeaderDict(buf.toString('latin1', headerStart, dataStart), file);
  if (header.fortranOrder) throw new NpyError(`${file}: fortran_order arrays are not supported`);
  const descr = DESCR_ALIASES[header.descr] || header.descr;
  const type = DESCR_TO_TYPE[descr];
  if (!type) throw new NpyError(`${file}: unsupported npy dtype '${header.descr}'`);
  const count = elementCount(header.shape);
  const expectedBytes = count * type.size;
  const actualBytes = buf.length - dataStart;
  if (actualBytes !== expectedBytes) {
    throw new NpyError(`${file}: npy data is ${actualBytes} bytes but shape ` +
                       `[${header.shape}] of ${header.descr} needs ${expectedBytes}`);
  }
  // Copy into a fresh, aligned buffer so the typed array view is always valid.
  const bytes = new Uint8Array(expectedBytes);
  bytes.set(buf.subarray(dataStart, dataStart + expectedBytes));
  const data = new type.Array(bytes.buffer, 0, count);
  return {dtype: type.dtype, shape: header.shape, data};
}

function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new NpyError(`${file}: cannot read npy file (${e.code || e.message})`);
  }
  return parseNpy(buf, file);
}

function shapeLiteral(shape) {
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

function encodeNpy(array) {
  const descr = DTYPE_TO_DESCR[array.dtype];
  if (!descr) throw new NpyError(`cannot write npy of dtype '${array.dtype}'`);
  const count = elementCount(array.shape);
  if (array.data.length !== count) {
    throw new NpyError(`npy data has ${array.data.length} elements, shape ` +
                       `[${array.shape}] needs ${count}`);
  }
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeLiteral(array.shape)}, }`;
  const unpadded = MAGIC.length + 2 + 2 + dict.length + 1;  // +1 for the final '\n'
  dict += ' '.repeat((HEADER_ALIGN - (unpadded % HEADER_ALIGN)) % HEADER_ALIGN) + '\n';
  if (dict.length > 0xffff) throw new NpyError('npy header too long for version 1.0');
  const prefix = Buffer.alloc(10);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(dict.length, 8);
  const body = Buffer.from(array.data.buffer, array.data.byteOffset,
                           count * DESCR_TO_TYPE[descr].size);
  return Buffer.concat([prefix, Buffer.from(dict, 'latin1'), body]);
}

// Writes atomically: temp file in the same directory, fsync, rename.
function writeNpy(file, array) {
  const bytes = encodeNpy(array);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

module.exports = {NpyError, parseNpy, readNpy, encodeNpy, writeNpy};
