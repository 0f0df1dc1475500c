// Scripted scenarios over the simulated network (sim_network.h), one file each in testdata/, in
// the style of etcd raft's data-driven tests: a command, a line `----`, then the output it must
// print, blocks separated by blank lines, `#` lines are comments. Each seed-found bug gets one:
// a readable regression next to the seeded runs that found it.
//
// Regions: ap, eu, us (3 regions, no random faults; the scheduler's seed is 1).
// Commands:
//   set R KEY VALUE | incr R KEY N | del R KEY    a local write at region R         -> ok
//   hold-sync R on|off     R fsyncs nothing while on (its synced LSN stays)         -> ok
//   cut A B | heal A B | isolate R                partitions                          -> ok
//   power-loss R           R loses what it did not fsync and restarts              -> its origin
//   quiesce                every link that is not cut runs until nothing moves     -> ok
//   values KEY             KEY's value in each region                              -> R: value
//   origins                each region's current origin                            -> R: origin
//   converged [R...]       identical state, each op once, no lag (all by default) -> ok
//
// Run with ACTIVEKV_SCENARIO_REWRITE=1 to print the actual output of every block instead of
// checking it (for writing a new scenario; check what it printed before committing it).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crdt/op_builder.h"
#include "gtest/gtest.h"
#include "sim_network.h"

namespace activekv::syncer {
namespace {

using testing::Sim;
using testing::SimOptions;

struct Block {
  int line = 0;
  std::string command;
  std::string expected;
};

std::vector<Block> ParseScenario(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::vector<Block> blocks;
  std::string line;
  int n = 0;
  Block* open = nullptr;
  bool in_output = false;
  while (std::getline(in, line)) {
    ++n;
    if (open == nullptr) {
      if (line.empty() || line[0] == '#') continue;
      open = &blocks.emplace_back();
      open->line = n;
      open->command = line;
      in_output = false;
      continue;
    }
    if (!in_output) {
      EXPECT_EQ(line, "----") << path << ":" << n << ": a command takes one line, then ----";
      in_output = true;
      continue;
    }
    if (line.empty()) {
      open = nullptr;
      continue;
    }
    absl::StrAppend(&open->expected, line, "\n");
  }
  return blocks;
}

class Runner {
 public:
  Runner() {
    SimOptions o;
    o.regions = 3;
    o.faults = false;
    sim_ = std::make_unique<Sim>(1, o);
  }

  std::string Run(const std::string& command) {
    std::vector<std::string> w = absl::StrSplit(command, ' ', absl::SkipEmpty());
    const std::string& verb = w[0];
    auto region = [&](size_t i) -> size_t {
      for (size_t r = 0; r < sim_->size(); ++r) {
        if (i < w.size() && sim_->region(r).name == w[i]) return r;
      }
      ADD_FAILURE() << "no region named in: " << command;
      return 0;
    };
    if ((verb == "set" || verb == "incr") && w.size() == 4) {
      const std::string key = w[2], arg = w[3];
      sim_->LocalOp(region(1), [&](const crdt::Keyspace& ks, crdt::Hlc hlc, v1::Op* op) {
        if (verb == "set") {
          crdt::MakeSetOp(ks, hlc, key, arg, v1::ExpiryChange::PERSIST, 0, op);
        } else {
          int64_t n = 0;
          EXPECT_TRUE(absl::SimpleAtoi(arg, &n)) << command;
          crdt::MakeIncrementOp(ks, hlc, key, n, op);
        }
      });
      return "ok\n";
    }
    if (verb == "del" && w.size() == 3) {
      const std::string key = w[2];
      sim_->LocalOp(region(1), [&](const crdt::Keyspace& ks, crdt::Hlc hlc, v1::Op* op) {
        crdt::MakeDeleteOp(ks, hlc, key, op);
      });
      return "ok\n";
    }
    if (verb == "hold-sync" && w.size() == 3) {
      sim_->HoldSync(region(1), w[2] == "on");
      return "ok\n";
    }
    if ((verb == "cut" || verb == "heal") && w.size() == 3) {
      verb == "cut" ? sim_->Cut(region(1), region(2)) : sim_->Heal(region(1), region(2));
      return "ok\n";
    }
    if (verb == "isolate" && w.size() == 2) {
      sim_->Isolate(region(1));
      return "ok\n";
    }
    if (verb == "power-loss" && w.size() == 2) {
      const size_t r = region(1);
      const uint64_t lost = sim_->counters().ops_lost;
      sim_->PowerLoss(r);
      return absl::StrCat("restarted as ", sim_->region(r).ks.local_name(), ", ",
                          sim_->counters().ops_lost - lost, " ops lost\n");
    }
    if (verb == "quiesce" && w.size() == 1) return sim_->Quiesce() ? "ok\n" : "did not settle\n";
    if (verb == "values" && w.size() == 2) {
      std::string out;
      for (size_t r = 0; r < sim_->size(); ++r) {
        const crdt::Keyspace& ks = sim_->region(r).ks;
        const crdt::Entry* e = ks.Find(w[1]);
        absl::StrAppend(
            &out, sim_->region(r).name, ": ",
            e == nullptr || !e->Exists() ? "(nil)" : std::string(e->Value(ks.regions())), "\n");
      }
      return out;
    }
    if (verb == "origins" && w.size() == 1) {
      std::string out;
      for (size_t r = 0; r < sim_->size(); ++r) {
        absl::StrAppend(&out, sim_->region(r).name, ": ", sim_->region(r).ks.local_name(), "\n");
      }
      return out;
    }
    if (verb == "converged") {
      std::vector<size_t> members;
      for (size_t i = 1; i < w.size(); ++i) members.push_back(region(i));
      if (members.empty()) members = sim_->All();
      const int failures_before = Failures();
      sim_->ExpectConverged(members);
      return Failures() == failures_before ? "ok\n" : "diverged (see the failures above)\n";
    }
    ADD_FAILURE() << "unknown command: " << command;
    return "?\n";
  }

 private:
  static int Failures() {
    const ::testing::TestResult* r =
        ::testing::UnitTest::GetInstance()->current_test_info()->result();
    return r->total_part_count();
  }
  std::unique_ptr<Sim> sim_;
};

void RunScenario(const std::string& name) {
  const std::string path = absl::StrCat(ACTIVEKV_SYNCER_TESTDATA, "/", name);
  const bool rewrite = std::getenv("ACTIVEKV_SCENARIO_REWRITE") != nullptr;
  Runner runner;
  for (const Block& b : ParseScenario(path)) {
    const std::string got = runner.Run(b.command);
    if (rewrite) {
      std::printf("%s\n----\n%s\n", b.command.c_str(), got.c_str());
      continue;
    }
    EXPECT_EQ(got, b.expected) << path << ":" << b.line << ": " << b.command;
    if (::testing::Test::HasFailure()) return;  // the rest would only repeat it
  }
}

TEST(SyncerScenario, FoldBeforePowerLoss) { RunScenario("fold_before_power_loss.txt"); }
TEST(SyncerScenario, DeadIncarnationOpsComeBack) {
  RunScenario("dead_incarnation_ops_come_back.txt");
}
TEST(SyncerScenario, RelayAfterAPartition) { RunScenario("relay_after_a_partition.txt"); }

}  // namespace
}  // namespace activekv::syncer
