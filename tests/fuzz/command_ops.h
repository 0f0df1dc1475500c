// Ops made as a region server's commands make them (crdt/op_builder.h), chosen by fuzz input:
// the "built" mode of snapshot_merge_fuzz (docs/fuzzing.md).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "activekv/v1/op.pb.h"
#include "crdt/hlc.h"
#include "crdt/keyspace.h"
#include "fuzz_input.h"

namespace activekv::fuzz {

// One region: its keyspace and hybrid clock (its wall clock ticks 1 ms per op).
struct Replica {
  Replica(std::string n, const std::vector<std::string>& regions)
      : name(std::move(n)), ks(name, regions) {}
  crdt::Hlc Tick() { return clock.Now(++wall_ms); }
  std::string name;
  crdt::Keyspace ks;
  crdt::HybridClock clock;
  int64_t wall_ms = 1'000'000;
};

// Fills `*op` with the op a command picked by `in` makes on `r` (strings, counters, expiries,
// FLUSHALL / FLUSHDB, SWAPDB, functions, hashes, sets, sorted sets, lists, streams and their
// groups; keys k0..k2 of database 0 or 1), as the command would, against r's current state.
// False when the command makes no op (a WRONGTYPE refusal, nothing to remove). `*next_id`
// numbers the values written. The caller applies the op to r.ks.
bool MakeCommandOp(Replica& r, FuzzInput* in, int* next_id, v1::Op* op);

}  // namespace activekv::fuzz
