// activekv-aof-bench: measures, on the disk holding --dir,
//   1. the cost of one small write + fdatasync (what an `appendfsync always` commit costs), and
//   2. Aof throughput per fsync policy with --clients simulated clients, each with one request in
//      flight (like `redis-benchmark -c 50`): an event loop appends one record per idle client,
//      calls Flush once per iteration and, for `always`, answers a client only once on_durable
//      covers its record.
// Not a test: numbers depend on the machine. Usage:
//   activekv-aof-bench [--dir DIR] [--seconds S] [--clients N] [--payload BYTES] [--syncs N]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "persistence/aof.h"
#include "persistence/env.h"

namespace activekv::persistence {
namespace {

struct Flags {
  std::string dir = "/tmp";
  double seconds = 3;
  int clients = 50;
  int payload = 100;
  int syncs = 1000;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

void BenchFdatasync(const Flags& flags) {
  std::string path = flags.dir + "/aof-bench-fdatasync.tmp";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  if (fd < 0) {
    std::perror(path.c_str());
    return;
  }
  std::string record(static_cast<size_t>(flags.payload), 'x');
  std::vector<double> us;
  for (int i = 0; i < flags.syncs; ++i) {
    absl::Time start = absl::Now();
    if (::write(fd, record.data(), record.size()) != static_cast<ssize_t>(record.size()) ||
        ::fdatasync(fd) != 0) {
      std::perror("write/fdatasync");
      break;
    }
    us.push_back(absl::ToDoubleMicroseconds(absl::Now() - start));
  }
  ::close(fd);
  ::unlink(path.c_str());
  double sum = 0;
  for (double u : us) sum += u;
  std::printf(
      "write(%d B) + fdatasync x %zu: mean %.1f us, p50 %.1f us, p99 %.1f us, max %.1f us\n",
      flags.payload, us.size(), us.empty() ? 0 : sum / static_cast<double>(us.size()),
      Percentile(us, 0.5), Percentile(us, 0.99), Percentile(us, 1.0));
}

// Where on_durable (sync thread) posts to the simulated event loop.
struct Mailbox {
  absl::Mutex mu;
  uint64_t durable ABSL_GUARDED_BY(mu) = 0;
};

void BenchAof(const Flags& flags, FsyncPolicy policy) {
  std::string path = flags.dir + "/aof-bench.aof";
  Env::Default()->RemoveFile(path).IgnoreError();
  Mailbox mailbox;
  Aof::Options options;
  options.env = Env::Default();
  options.path = path;
  options.policy = policy;
  options.on_durable = [&mailbox](uint64_t lsn) {
    absl::MutexLock lock(&mailbox.mu);
    mailbox.durable = lsn;
  };
  absl::StatusOr<std::unique_ptr<Aof>> aof = Aof::Open(options);
  if (!aof.ok()) {
    std::printf("open: %s\n", aof.status().ToString().c_str());
    return;
  }
  const std::string payload(static_cast<size_t>(flags.payload), 'v');
  std::vector<uint64_t> waiting_lsn(static_cast<size_t>(flags.clients), 0);  // 0: idle
  std::vector<absl::Time> sent(static_cast<size_t>(flags.clients));
  std::vector<double> latency_us;
  uint64_t answered = 0, iterations = 0;
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + absl::Seconds(flags.seconds);
  while (absl::Now() < deadline) {
    ++iterations;
    absl::Time now = absl::Now();
    for (size_t c = 0; c < waiting_lsn.size(); ++c) {
      if (waiting_lsn[c] == 0) {
        waiting_lsn[c] = (*aof)->Append(payload);
        sent[c] = now;
      }
    }
    absl::Status status = (*aof)->Flush();
    if (!status.ok()) {
      std::printf("flush: %s\n", status.ToString().c_str());
      break;
    }
    uint64_t durable = (*aof)->durable_lsn();
    if (policy == FsyncPolicy::kAlways) {
      // Block like epoll_wait until the sync thread reports progress past the oldest waiter.
      uint64_t oldest = *std::min_element(waiting_lsn.begin(), waiting_lsn.end());
      struct Reached {
        Mailbox* mailbox;
        uint64_t lsn;
        bool operator()() const ABSL_NO_THREAD_SAFETY_ANALYSIS { return mailbox->durable >= lsn; }
      } reached{&mailbox, oldest};
      absl::MutexLock lock(&mailbox.mu);
      mailbox.mu.AwaitWithDeadline(absl::Condition(&reached), deadline);
      durable = mailbox.durable;
    }
    now = absl::Now();
    for (size_t c = 0; c < waiting_lsn.size(); ++c) {
      if (waiting_lsn[c] != 0 && waiting_lsn[c] <= durable) {
        if (latency_us.size() < 2'000'000) {
          latency_us.push_back(absl::ToDoubleMicroseconds(now - sent[c]));
        }
        waiting_lsn[c] = 0;
        ++answered;
      }
    }
  }
  double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
  absl::Status closed = (*aof)->Close();
  Aof::Stats stats = (*aof)->stats();
  std::printf(
      "%-8s %d clients, %d B payload: %.0f records/s (%llu in %.2f s), %llu fsyncs, "
      "%.1f records/fsync, %.1f records/iteration, latency p50 %.0f us p99 %.0f us%s\n",
      std::string(FsyncPolicyName(policy)).c_str(), flags.clients, flags.payload,
      static_cast<double>(answered) / elapsed, static_cast<unsigned long long>(answered), elapsed,
      static_cast<unsigned long long>(stats.fsyncs),
      stats.fsyncs ? static_cast<double>(stats.records) / static_cast<double>(stats.fsyncs) : 0.0,
      static_cast<double>(stats.records) / static_cast<double>(iterations),
      Percentile(latency_us, 0.5), Percentile(latency_us, 0.99),
      closed.ok() ? "" : " (close failed)");
  Env::Default()->RemoveFile(path).IgnoreError();
}

bool ParseFlags(int argc, char** argv, Flags* flags) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view name = argv[i];
    absl::string_view value = argv[i + 1];
    bool ok = true;
    if (name == "--dir") {
      flags->dir = std::string(value);
    } else if (name == "--seconds") {
      ok = absl::SimpleAtod(value, &flags->seconds);
    } else if (name == "--clients") {
      ok = absl::SimpleAtoi(value, &flags->clients) && flags->clients > 0;
    } else if (name == "--payload") {
      ok = absl::SimpleAtoi(value, &flags->payload) && flags->payload >= 0;
    } else if (name == "--syncs") {
      ok = absl::SimpleAtoi(value, &flags->syncs) && flags->syncs > 0;
    } else {
      ok = false;
    }
    if (!ok) return false;
  }
  return argc % 2 == 1;
}

}  // namespace
}  // namespace activekv::persistence

int main(int argc, char** argv) {
  using activekv::persistence::FsyncPolicy;
  activekv::persistence::Flags flags;
  if (!activekv::persistence::ParseFlags(argc, argv, &flags)) {
    std::fprintf(stderr,
                 "usage: activekv-aof-bench [--dir DIR] [--seconds S] [--clients N] "
                 "[--payload BYTES] [--syncs N]\n");
    return 2;
  }
  activekv::persistence::BenchFdatasync(flags);
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kEverysec, FsyncPolicy::kNo}) {
    activekv::persistence::BenchAof(flags, policy);
  }
  return 0;
}
