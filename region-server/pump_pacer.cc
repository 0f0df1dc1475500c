#include "region-server/pump_pacer.h"

namespace activekv::server {

std::chrono::microseconds PumpPacer::Interval(uint64_t ops) {
  if (ops < 8) return std::chrono::microseconds(250);
  if (ops < 48) return std::chrono::microseconds(1000);
  return std::chrono::microseconds(2000);
}

std::optional<PumpPacer::Clock::time_point> PumpPacer::OnFlush(Clock::time_point now) const {
  const auto next = last_ + Interval(ops_);
  if (now >= next) return std::nullopt;
  return next;
}

void PumpPacer::OnPump(Clock::time_point now, uint64_t log_end) {
  const bool idle = now - last_ > 2 * Interval(ops_);
  ops_ = idle ? 0 : log_end - log_end_;
  log_end_ = log_end;
  last_ = now;
}

}  // namespace activekv::server
