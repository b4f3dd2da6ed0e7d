import protobuf from 'protobufjs'

/**
 * The part of the ONNX protobuf schema (onnx/onnx.proto3, IR version 8) that a feed-forward model needs,
 * with the official field numbers, encoded by protobufjs. Why a subset: the full schema adds training,
 * sparse tensors and functions we never write; unknown fields are not an issue for readers.
 */
const ONNX_SUBSET = `
syntax = "proto3";
package onnx;
message AttributeProto {
  enum AttributeType { UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; FLOATS = 6; INTS = 7; STRINGS = 8; }
  string name = 1;
  float f = 2;
  int64 i = 3;
  bytes s = 4;
  TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  string doc_string = 13;
  AttributeType type = 20;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  string name = 3;
  string op_type = 4;
  repeated AttributeProto attribute = 5;
  string doc_string = 6;
  string domain = 7;
}
message StringStringEntryProto { string key = 1; string value = 2; }
message ModelProto {
  int64 ir_version = 1;
  string producer_name = 2;
  string producer_version = 3;
  string domain = 4;
  int64 model_version = 5;
  string doc_string = 6;
  GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8;
  repeated StringStringEntryProto metadata_props = 14;
}
message GraphProto {
  repeated NodeProto node = 1;
  string name = 2;
  repeated TensorProto initializer = 5;
  string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}
message TensorProto {
  repeated int64 dims = 1;
  int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  string name = 8;
  bytes raw_data = 9;
  string doc_string = 12;
}
message TensorShapeProto {
  message Dimension {
    oneof value { int64 dim_value = 1; string dim_param = 2; }
    string denotation = 3;
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
  string denotation = 6;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
`

/** TensorProto.DataType values we write. */
export const ONNX_FLOAT = 1
export const ONNX_INT64 = 7
/** AttributeProto.AttributeType values we write. */
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const

let root: protobuf.Root | null = null

/** ModelProto message type (parsed once). */
export function modelProtoType(): protobuf.Type {
  root ??= protobuf.parse(ONNX_SUBSET, { keepCase: true }).root
  return root.lookupType('onnx.ModelProto')
}

/** Encodes a plain ModelProto object (snake_case field names as in the schema) to bytes; throws when invalid. */
export function encodeModel(model: Record<string, unknown>): Uint8Array {
  const type = modelProtoType()
  const error = type.verify(model)
  if (error) throw new Error(`Invalid ONNX model: ${error}`)
  return type.encode(type.fromObject(model)).finish()
}

/** Decodes ONNX bytes back to a plain object (for tests and inspection). */
export function decodeModel(bytes: Uint8Array): Record<string, unknown> {
  const type = modelProtoType()
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Buffer, defaults: false })
}
