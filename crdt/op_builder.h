#pragma once

#include <cstdint>
#include <string_view>

#include "activekv/v1/op.pb.h"
#include "crdt/keyspace.h"
#include "crdt/types.h"

namespace activekv::crdt {

// Builders for the ops local commands emit. Each fills `*op` (a new or cleared message, e.g. one
// on an arena) with the next local seq of `ks`, stamped with `hlc`; ops that remove state carry
// the observed context (the keyspace's version vector, the local entry left implicit). Apply the
// op to `ks` before building the next one: the seq comes from ks.applied().
void MakeSetOp(const Keyspace& ks, Hlc hlc, std::string_view key, std::string_view value,
               v1::ExpiryChange::Kind expiry, int64_t deadline_ms, v1::Op* op);
void MakeDeleteOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op);
void MakeIncrementOp(const Keyspace& ks, Hlc hlc, std::string_view key, int64_t delta, v1::Op* op);
// `delta_text` must pass ParseRedisLongDouble.
void MakeFloatIncrementOp(const Keyspace& ks, Hlc hlc, std::string_view key,
                          std::string_view delta_text, v1::Op* op);
// kind PERSIST or DEADLINE.
void MakeExpireOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::ExpiryChange::Kind kind,
                  int64_t deadline_ms, v1::Op* op);
void MakeFlushOp(const Keyspace& ks, Hlc hlc, v1::Op* op);
// Databases (docs/crdt-semantics.md, "Databases"). Key ops name their physical namespace in
// op->db() (0 by default): set it after building them. FLUSHDB of physical namespace `ns`:
void MakeFlushDbOp(const Keyspace& ks, Hlc hlc, uint32_t ns, v1::Op* op);
// SWAPDB: the database mapping becomes `mapping`.
void MakeSwapDbOp(const Keyspace& ks, Hlc hlc, const DbMapping& mapping, v1::Op* op);
// FUNCTION LOAD / DELETE: library `name` gets `code` (empty: deleted).
void MakeFunctionOp(const Keyspace& ks, Hlc hlc, std::string_view name, std::string_view code,
                    v1::Op* op);

// Element ops (docs/crdt-semantics.md, "Hashes", "Sets", "Sorted sets"). They carry the observed
// context, so each element replaces or removes every instance of it that `ks` has applied. Fill the
// elements with Add*Element after making the op, before applying it.
void MakeHashSetOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op);
void MakeHashDelOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op);
void MakeSetAddOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op);
void MakeSetRemoveOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op);
// Adds a field (with `value` for HashSet) to a HashSet/HashDel op.
void AddHashElement(std::string_view field, std::string_view value, v1::Op* op);
// Adds a member to a SetAdd/SetRemove op.
void AddSetElement(std::string_view member, v1::Op* op);
// `delta_text` empty: an integer increment; else it must pass ParseRedisLongDouble.
void MakeHashIncrementOp(const Keyspace& ks, Hlc hlc, std::string_view key, std::string_view field,
                         int64_t delta, std::string_view delta_text, v1::Op* op);
// Sorted sets ("Sorted sets"): scores and deltas are never NaN.
void MakeZsetAddOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op);
void MakeZsetRemoveOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op);
// Adds a member (with `score` for ZsetAdd) to a ZsetAdd/ZsetRemove op.
void AddZsetElement(std::string_view member, double score, v1::Op* op);
void MakeZsetIncrementOp(const Keyspace& ks, Hlc hlc, std::string_view key, std::string_view member,
                         double delta, v1::Op* op);
// Lists ("Lists"): no context (a list op names exactly the elements it touches). An insert of
// `values` (in list order) at `placement` (ListValue::Place*); the elements' tags are (this op's
// dot, index in `values`). Add values with AddListValue.
void MakeListInsertOp(const Keyspace& ks, Hlc hlc, std::string_view key,
                      const ListValue::Placement& placement, v1::Op* op);
void AddListValue(std::string_view value, v1::Op* op);
// A removal of elements; add each with AddListRef.
void MakeListRemoveOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op);
void AddListRef(const Keyspace& ks, const ListValue::Element& element, v1::Op* op);
// LSET of `element` to `value`.
void MakeListSetOp(const Keyspace& ks, Hlc hlc, std::string_view key,
                   const ListValue::Element& element, std::string_view value, v1::Op* op);

// Streams ("Streams"): a stream op without context (removals name the instances they remove);
// the caller fills the body (op->mutable_xadd() / xdel() / xmeta()) before applying it.
void MakeStreamOp(const Keyspace& ks, Hlc hlc, std::string_view key, v1::Op* op);

}  // namespace activekv::crdt
