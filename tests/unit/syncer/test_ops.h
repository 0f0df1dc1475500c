#pragma once

// Hand-made ops for SyncerCore / ReplicationLog tests (no keyspace needed).

#include <cstdint>
#include <string>

#include "activekv/v1/op.pb.h"
#include "crdt/types.h"

namespace activekv::syncer::testing {

// A SET of key "k" to `value_bytes` bytes, stamped at `hlc_ms`.
inline v1::Op MakeOp(const std::string& origin, uint64_t seq, int64_t hlc_ms = 1'000,
                     size_t value_bytes = 1) {
  v1::Op op;
  op.set_origin(origin);
  op.set_seq(seq);
  op.set_hlc(crdt::HlcFromMs(hlc_ms));
  op.set_key("k");
  op.mutable_set()->set_value(std::string(value_bytes, 'x'));
  return op;
}

}  // namespace activekv::syncer::testing
