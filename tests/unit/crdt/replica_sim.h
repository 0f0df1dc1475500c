#pragma once

// A few in-process replicas with a hand-driven network, for CRDT tests. Deterministic: no
// clocks, no threads; every region's wall clock is a number the test sets.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crdt/hlc.h"
#include "crdt/keyspace.h"
#include "crdt/op_builder.h"
#include "gtest/gtest.h"

namespace activekv::crdt::testing {

// The applied version vector of `ks` as proto entries (what a replication ack carries).
inline google::protobuf::RepeatedPtrField<v1::VersionEntry> ToEntries(const Keyspace& ks) {
  google::protobuf::RepeatedPtrField<v1::VersionEntry> out;
  for (RegionId r = 0; r < ks.applied().size(); ++r) {
    v1::VersionEntry* e = out.Add();
    e->set_region(ks.regions().Name(r));
    e->set_seq(ks.applied().Get(r));
  }
  return out;
}

// True when `removal` (a DEL or FLUSHALL with its observed context) observed op (origin, seq):
// the context's entry for that origin covers it, or it is an earlier op of the same origin.
inline bool Observed(const v1::Op& removal, const std::string& origin, uint64_t seq) {
  uint64_t seen = removal.origin() == origin ? removal.seq() - 1 : 0;
  for (const auto& e : removal.context()) {
    if (e.region() == origin) seen = e.seq();
  }
  return seq <= seen;
}

class Replica {
 public:
  Replica(const std::string& name, const std::vector<std::string>& all)
      : ks_(name, all), name_(name) {}

  Keyspace& ks() { return ks_; }
  const std::string& name() const { return name_; }
  int64_t wall_ms = 1'000'000;

  Hlc Tick() { return clock_.Now(wall_ms); }
  // Applies a locally built op and returns it (for delivery elsewhere).
  v1::Op Local(v1::Op op) {
    auto r = ks_.Apply(op);
    EXPECT_TRUE(r.ok()) << r.status();
    return op;
  }
  v1::Op Set(const std::string& k, const std::string& v) {
    v1::Op op;
    MakeSetOp(ks_, Tick(), k, v, v1::ExpiryChange::PERSIST, 0, &op);
    return Local(std::move(op));
  }
  v1::Op Del(const std::string& k) {
    v1::Op op;
    MakeDeleteOp(ks_, Tick(), k, &op);
    return Local(std::move(op));
  }
  v1::Op Incr(const std::string& k, int64_t d) {
    v1::Op op;
    MakeIncrementOp(ks_, Tick(), k, d, &op);
    return Local(std::move(op));
  }
  v1::Op IncrFloat(const std::string& k, const std::string& d) {
    v1::Op op;
    MakeFloatIncrementOp(ks_, Tick(), k, d, &op);
    return Local(std::move(op));
  }
  v1::Op Expire(const std::string& k, int64_t deadline) {
    v1::Op op;
    MakeExpireOp(ks_, Tick(), k, v1::ExpiryChange::DEADLINE, deadline, &op);
    return Local(std::move(op));
  }
  v1::Op Persist(const std::string& k) {
    v1::Op op;
    MakeExpireOp(ks_, Tick(), k, v1::ExpiryChange::PERSIST, 0, &op);
    return Local(std::move(op));
  }
  v1::Op Flush() {
    v1::Op op;
    MakeFlushOp(ks_, Tick(), &op);
    return Local(std::move(op));
  }

  // Receives a remote op; returns false if it had to be refused (out of order).
  bool Receive(const v1::Op& op) {
    clock_.Observe(op.hlc());
    auto r = ks_.Apply(op);
    if (!r.ok()) {
      EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
      return false;
    }
    return true;
  }

  // Visible value, "(nil)" when the key does not exist.
  std::string Get(const std::string& k) {
    const Entry* e = ks_.Find(k);
    if (e == nullptr || !e->Exists()) return "(nil)";
    std::string scratch;
    return std::string(e->Value(ks_.regions()));
  }
  int64_t Deadline(const std::string& k) {
    const Entry* e = ks_.Find(k);
    return e == nullptr ? kNoDeadline : e->DeadlineMs();
  }

 private:
  Keyspace ks_;
  std::string name_;
  HybridClock clock_;
};

}  // namespace activekv::crdt::testing
