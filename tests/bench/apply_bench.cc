// The cost of applying replicated ops on a peer (Region::ApplyRemote: parse, keyspace apply, AOF
// append, replication log), and of one local write (emit + apply + commit), on an in-memory file
// system. Not a test:
//   cmake --build <dir> --target apply_bench && <dir>/bin/apply_bench
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "crdt/op_builder.h"
#include "persistence/mem_env.h"
#include "region-server/region.h"

namespace activekv::server {
namespace {

constexpr int kKeys = 100000;

Region::Options Opts(persistence::Env* env, const std::string& name) {
  Region::Options o;
  o.name = name;
  o.all_regions = {"a", "b", "c"};
  o.data_dir = "/mem/" + name;
  o.fsync = persistence::FsyncPolicy::kNo;
  o.env = env;
  o.replication_log_ops = 1 << 20;
  return o;
}

// Batches of `per_batch` SETs made by region "b", serialized.
std::vector<std::string> MakeBatches(size_t batches, int per_batch) {
  persistence::MemEnv env;
  Region b(Opts(&env, "b"));
  persistence::RecoveryResult r;
  if (!b.Open(&r).ok()) std::abort();
  std::vector<std::string> out;
  uint64_t n = 0;
  for (size_t i = 0; i < batches; ++i) {
    v1::OpBatch batch;
    for (int j = 0; j < per_batch; ++j, ++n) {
      v1::Op* op = batch.add_ops();
      crdt::MakeSetOp(b.ks(), crdt::HlcFromMs(1'700'000'000'000) + n,
                      absl::StrCat("key:", (n * 7919) % kKeys), "xxx", v1::ExpiryChange::PERSIST, 0,
                      op);
      if (!b.ks().Apply(*op).ok()) std::abort();
    }
    out.push_back(batch.SerializeAsString());
  }
  return out;
}

void BM_ApplyRemote(benchmark::State& state) {
  const int per_batch = static_cast<int>(state.range(0));
  static const std::vector<std::string>* batches = nullptr;
  static int made_for = 0;
  if (batches == nullptr || made_for != per_batch) {
    delete batches;
    batches = new std::vector<std::string>(MakeBatches(200000 / per_batch, per_batch));
    made_for = per_batch;
  }
  persistence::MemEnv env;
  auto region = std::make_unique<Region>(Opts(&env, "a"));
  persistence::RecoveryResult r;
  if (!region->Open(&r).ok()) std::abort();
  size_t i = 0;
  int64_t ops = 0;
  for (auto _ : state) {
    if (i == batches->size()) {
      state.PauseTiming();
      region = std::make_unique<Region>(Opts(&env, absl::StrCat("a", ops)));
      if (!region->Open(&r).ok()) std::abort();
      i = 0;
      state.ResumeTiming();
    }
    size_t n = 0;
    absl::StatusOr<uint64_t> lsn = region->ApplyRemote((*batches)[i++], &n);
    benchmark::DoNotOptimize(lsn);
    ops += static_cast<int64_t>(n);
    if ((i & 15) == 0) region->aof()->Flush().IgnoreError();
  }
  state.SetItemsProcessed(ops);
}
BENCHMARK(BM_ApplyRemote)->Arg(16)->Arg(256);

void BM_LocalSet(benchmark::State& state) {
  persistence::MemEnv env;
  Region region(Opts(&env, "a"));
  persistence::RecoveryResult r;
  if (!region.Open(&r).ok()) std::abort();
  uint64_t n = 0;
  std::string key;
  for (auto _ : state) {
    key = absl::StrCat("key:", (n++ * 7919) % kKeys);
    region.Lookup(key);
    region.EmitSet(key, "xxx", v1::ExpiryChange::PERSIST);
    benchmark::DoNotOptimize(region.Commit());
    if ((n & 15) == 0) region.aof()->Flush().IgnoreError();
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
}
BENCHMARK(BM_LocalSet);

}  // namespace
}  // namespace activekv::server

BENCHMARK_MAIN();
