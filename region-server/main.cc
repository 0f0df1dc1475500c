// activekv-server --topology FILE --region NAME: runs one region in the foreground.
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "asio.hpp"
#include "region-server/info.h"
#include "region-server/server.h"
#include "spdlog/spdlog.h"
#include "topology/topology.h"

namespace {

void Usage() {
  fprintf(stderr,
          "usage: activekv-server --topology FILE --region NAME [--log-level LEVEL]\n"
          "                       [--clock-offset-ms N]   (test only: skews this region's clock)\n"
          "                       [--load-delay-us N]     (test only: sleeps N us per AOF record\n"
          "                                                replayed at startup, to observe "
          "-LOADING)\n");
}

int RunServer(int argc, char** argv) {
  // glibc grows a heap by little more than the allocation that needs it: a start that loads a
  // snapshot into the empty keyspace spent a third of its time growing heaps (500k keys: 2.2 s,
  // 1.4 s with 16 MiB steps; tests/bench/README.md, bench_backup). Steps of 16 MiB; untouched
  // pages of a step cost no resident memory.
  mallopt(M_TOP_PAD, 16 << 20);
  std::string topology_path, region, log_level = "info";
  int64_t clock_offset_ms = 0;
  uint64_t replication_log_ops = 0;
  int64_t load_delay_us = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fprintf(stderr, "activekv-server: %s needs a value\n", arg.c_str());
        Usage();
        exit(2);
      }
      return argv[++i];
    };
    if (arg == "--topology") {
      topology_path = value();
    } else if (arg == "--region") {
      region = value();
    } else if (arg == "--log-level") {
      log_level = value();
    } else if (arg == "--clock-offset-ms") {
      std::string v = value();
      if (!absl::SimpleAtoi(v, &clock_offset_ms)) {
        fprintf(stderr, "activekv-server: --clock-offset-ms: '%s' is not an integer\n", v.c_str());
        return 2;
      }
    } else if (arg == "--replication-log-ops") {
      std::string v = value();
      if (!absl::SimpleAtoi(v, &replication_log_ops) || replication_log_ops == 0) {
        fprintf(stderr, "activekv-server: --replication-log-ops: '%s' is not a positive integer\n",
                v.c_str());
        return 2;
      }
    } else if (arg == "--load-delay-us") {
      std::string v = value();
      if (!absl::SimpleAtoi(v, &load_delay_us) || load_delay_us < 0) {
        fprintf(stderr, "activekv-server: --load-delay-us: '%s' is not a non-negative integer\n",
                v.c_str());
        return 2;
      }
    } else if (arg == "--version") {
      printf("activekv-server %s (redis %s compatible)\n",
             std::string(activekv::server::kActivekvVersion).c_str(),
             std::string(activekv::server::kRedisVersion).c_str());
      return 0;
    } else if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else {
      fprintf(stderr, "activekv-server: unknown argument '%s'\n", arg.c_str());
      Usage();
      return 2;
    }
  }
  if (topology_path.empty() || region.empty()) {
    Usage();
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ [" + region + "] %v");
  std::signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<activekv::topology::Topology> topology =
      activekv::topology::LoadTopologyFile(topology_path);
  if (!topology.ok()) {
    spdlog::critical("{}", std::string(topology.status().message()));
    return 1;
  }
  activekv::server::Server::Options options;
  options.topology = std::move(*topology);
  options.region = region;
  options.clock_offset_ms = clock_offset_ms;
  options.replication_log_ops = replication_log_ops;
  options.load_delay = absl::Microseconds(load_delay_us);
  if (load_delay_us > 0) {
    spdlog::warn("--load-delay-us {}: the AOF replay is slowed down on purpose (test only)",
                 load_delay_us);
  }
  activekv::server::Server server(std::move(options));
  absl::Status s = server.Start();
  if (!s.ok()) {
    spdlog::critical("cannot start: {}", std::string(s.message()));
    return 1;
  }
  asio::signal_set signals(server.io(), SIGINT, SIGTERM);
  signals.async_wait([&](const asio::error_code& ec, int sig) {
    if (ec) return;
    spdlog::info("signal {}: shutting down", sig);
    server.Stop();
  });
  // Run() also returns when the startup (the AOF replay, then gRPC) fails after the RESP port
  // was opened.
  server.Run();
  if (!server.exit_status().ok()) {
    spdlog::critical("cannot start: {}", std::string(server.exit_status().message()));
    return 1;
  }
  spdlog::info("bye");
  return 0;
}

}  // namespace

// An exception that escapes (std::bad_alloc at startup, say) ends the process with its message
// and status 1 rather than std::terminate's abort.
int main(int argc, char** argv) {
  try {
    return RunServer(argc, argv);
  } catch (const std::exception& e) {
    fprintf(stderr, "activekv-server: %s\n", e.what());
  } catch (...) {
    fprintf(stderr, "activekv-server: unknown exception\n");
  }
  return 1;
}
