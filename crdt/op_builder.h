#pragma once

#include <cstdint>
#include <string_view>

#include "activekv/v1/op.pb.h"
#include "crdt/keyspace.h"
#include "crdt/types.h"

namespace activekv::crdt {

// Builders for the ops local commands emit. Each returns an op whose dot is the next local seq
// of `ks`, stamped with `hlc`; ops that remove state carry the observed context (the keyspace's
// version vector, the local entry left implicit). Apply the op to `ks` before building the next
// one: the seq comes from ks.applied().
v1::Op MakeSetOp(const Keyspace& ks, Hlc hlc, std::string_view key, std::string_view value,
                 v1::ExpiryChange::Kind expiry, int64_t deadline_ms = 0);
v1::Op MakeDeleteOp(const Keyspace& ks, Hlc hlc, std::string_view key);
v1::Op MakeIncrementOp(const Keyspace& ks, Hlc hlc, std::string_view key, int64_t delta);
// `delta_text` must pass ParseRedisLongDouble.
v1::Op MakeFloatIncrementOp(const Keyspace& ks, Hlc hlc, std::string_view key,
                            std::string_view delta_text);
// kind PERSIST or DEADLINE.
v1::Op MakeExpireOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::ExpiryChange::Kind kind,
                    int64_t deadline_ms = 0);
v1::Op MakeFlushOp(const Keyspace& ks, Hlc hlc);

}  // namespace activekv::crdt
