#pragma once

#include <cstdint>

#include "crdt/types.h"

namespace activekv::crdt {

// Hybrid logical clock (Kulkarni et al.). Pure: the caller passes the physical time, so tests
// drive it deterministically.
//
// Guarantees: timestamps issued by Now() strictly increase; after Observe(t), every later Now()
// is > t. Hence an op created after its creator saw another op has a larger timestamp, whatever
// the wall clocks say. A region whose wall clock runs D ms fast wins last-writer-wins conflicts
// only against writes that are concurrent with its own and issued within D ms of them: as soon as
// a peer observes one of its ops, the peer's clock moves past it (docs/crdt-semantics.md).
class HybridClock {
 public:
  // A timestamp > every timestamp issued or observed so far, and >= physical_ms.
  Hlc Now(int64_t physical_ms) {
    Hlc candidate = HlcFromMs(physical_ms);
    last_ = candidate > last_ ? candidate : last_ + 1;
    return last_;
  }
  void Observe(Hlc remote) {
    if (remote > last_) last_ = remote;
  }
  Hlc last() const { return last_; }
  // Milliseconds "now" for expiry decisions: max(wall clock, physical part of the clock), so a
  // key is never visible after a timestamp past its deadline was seen.
  int64_t NowMs(int64_t physical_ms) const {
    int64_t logical_ms = HlcPhysicalMs(last_);
    return physical_ms > logical_ms ? physical_ms : logical_ms;
  }

 private:
  Hlc last_ = 0;
};

}  // namespace activekv::crdt
