#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace activekv::server {

// When the event loop pumps replication (Replicator::Pump: each peer's stream gets what was
// logged since). A pump follows each AOF flush, spaced by an interval that grows with the write
// rate (ops logged between the last two pumps): an isolated write goes out at once and light load
// keeps sub-millisecond lag, while under heavy load peers get fewer, larger batches (each gRPC
// message and its ack cost the three processes more CPU than the ops in it).
// docs/replication-protocol.md, "Pacing", has the measured trade-off.
//
// Pure: the time and the replication log's end are passed in; the caller owns the timer.
class PumpPacer {
 public:
  using Clock = std::chrono::steady_clock;

  // The spacing after `ops` ops were logged between the last two pumps: 250 us below 8, 1 ms
  // below 48, else 2 ms.
  static std::chrono::microseconds Interval(uint64_t ops);

  // An AOF flush at `now`: nullopt to pump now, else the time to pump at (the caller arms a timer
  // for it, unless one is armed).
  std::optional<Clock::time_point> OnFlush(Clock::time_point now) const;
  // A pump runs at `now`, with the log ending at `log_end`. An idle stretch (more than two
  // intervals since the last pump) counts as no load.
  void OnPump(Clock::time_point now, uint64_t log_end);

  uint64_t ops_last_interval() const { return ops_; }

 private:
  uint64_t ops_ = 0;  // ops logged between the last two pumps
  uint64_t log_end_ = 0;
  Clock::time_point last_{};
};

}  // namespace activekv::server
