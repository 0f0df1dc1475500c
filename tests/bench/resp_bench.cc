// Throughput of the RESP codec on what `redis-benchmark -t set -P 16` sends: 16 pipelined
// "SET key:<12 digits> xxx" commands per buffer, and the 16 "+OK" replies.
// A plain timing loop (not a unit test):
//   cmake --build <dir> --target resp_bench && <dir>/bin/resp_bench [seconds]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "region-server/resp/parser.h"
#include "region-server/resp/reply.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kPipeline = 16;

std::string SetPipeline() {
  std::string buf;
  for (int i = 0; i < kPipeline; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "key:%012d", 1000 + i);
    buf += "*3\r\n$3\r\nSET\r\n$16\r\n";
    buf += key;
    buf += "\r\n$3\r\nxxx\r\n";
  }
  return buf;
}

// Runs `body` (which handles one 16-command batch) until `seconds` have passed; returns
// commands per second.
template <typename Body>
double Measure(double seconds, Body body) {
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  uint64_t batches = 0;
  Clock::time_point now;
  do {
    for (int i = 0; i < 1000; ++i) body();
    batches += 1000;
    now = Clock::now();
  } while (now < deadline);
  const double elapsed = std::chrono::duration<double>(now - start).count();
  return static_cast<double>(batches) * kPipeline / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
  const std::string input = SetPipeline();
  activekv::resp::Parser parser;
  std::vector<std::string_view> args;
  args.reserve(8);
  size_t sink = 0;

  const double parse_rate = Measure(seconds, [&] {
    std::string_view rest = input;
    for (;;) {
      size_t consumed = 0;
      if (parser.Parse(rest, &consumed, &args) != activekv::resp::Parser::Result::kOk) break;
      sink += args.size() + args[2].size();
      rest.remove_prefix(consumed);
    }
  });

  std::string out;
  activekv::resp::ReplyBuilder reply(&out);
  const double reply_rate = Measure(seconds, [&] {
    out.clear();
    for (int i = 0; i < kPipeline; ++i) reply.Ok();
  });
  const double bulk_rate = Measure(seconds, [&] {
    out.clear();
    for (int i = 0; i < kPipeline; ++i) reply.Bulk("xxx");
  });

  std::printf("input: %d x SET key:<12 digits> xxx, %zu bytes per batch\n", kPipeline,
              input.size());
  std::printf("parse:        %7.1f M commands/s  (%5.1f ns/command, %.0f MB/s)\n", parse_rate / 1e6,
              1e9 / parse_rate, parse_rate * static_cast<double>(input.size()) / kPipeline / 1e6);
  std::printf("reply +OK:    %7.1f M replies/s   (%5.1f ns/reply)\n", reply_rate / 1e6,
              1e9 / reply_rate);
  std::printf("reply bulk:   %7.1f M replies/s   (%5.1f ns/reply)\n", bulk_rate / 1e6,
              1e9 / bulk_rate);
  std::printf("(checksum %zu)\n", sink + out.size());  // keeps the loops observable
  return 0;
}
