#pragma once

// An activekv Server without sockets, for command tests (dragonfly style):
//   InProcessServer s;  EXPECT_EQ(s.Run({"set", "k", "v"}), "+OK\r\n");
// Replies are raw RESP bytes. The file system is injected (MemEnv / FaultInjectionEnv) and the
// wall clock is a number the test moves.

#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "persistence/aof_reader.h"
#include "persistence/mem_env.h"
#include "region-server/resp/reply.h"
#include "region-server/server.h"
#include "topology/topology.h"

namespace activekv::server::testing {

class InProcessServer {
 public:
  // `peer`: a second region of the topology (never started): r1 then keeps a replication log
  // and takes that region's ops through Region::ApplyRemote.
  explicit InProcessServer(persistence::Env* env, std::string_view appendfsync = "everysec",
                           std::string_view peer = "")
      : env_(env) {
    std::string peer_line;
    if (!peer.empty()) {
      peer_line = absl::StrCat("  - { name: ", std::string(peer),
                               ", resp: 127.0.0.1:3, sync: 127.0.0.1:4, data_dir: /mem/peer }\n");
    }
    auto topo = topology::ParseTopology(
        absl::StrCat("name: t\npersistence: { appendfsync: ", std::string(appendfsync),
                     " }\nregions:\n  - { name: r1, resp: 127.0.0.1:1, sync: 127.0.0.1:2,"
                     " data_dir: /mem/r1 }\n",
                     peer_line),
        "test.yaml", "/");
    EXPECT_TRUE(topo.ok()) << topo.status();
    Server::Options options;
    options.topology = *topo;
    options.region = "r1";
    options.env = env_;
    options.listen = false;
    options.wall_clock = [this] { return now_ms; };
    server_ = std::make_unique<Server>(std::move(options));
    start_status_ = server_->Start();
  }

  const absl::Status& start_status() const { return start_status_; }
  Server& server() { return *server_; }
  Region& region() { return server_->region(); }

  // Runs one command; returns the raw reply. Writes are committed and, for appendfsync always,
  // waited on until durable (as a client is).
  std::string Run(std::initializer_list<std::string_view> args) {
    return Run(std::vector<std::string_view>(args));
  }
  std::string Run(const std::vector<std::string_view>& args) { return Run(&client_, args); }
  // The same as another client (WATCH, MULTI: several connections' state).
  std::string Run(Client* client, std::initializer_list<std::string_view> args) {
    return Run(client, std::vector<std::string_view>(args));
  }
  std::string Run(Client* client, const std::vector<std::string_view>& args) {
    std::string out;
    resp::ReplyBuilder reply(&out, client->protocol);
    region().RefreshClock();
    server_->Execute(args, client, &reply);
    uint64_t lsn = region().Commit();
    if (lsn != 0) {
      absl::Status s = region().aof()->Flush();
      (void)s;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (region().aof()->health().ok() && region().durable_lsn() < lsn &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
      }
    }
    return out;
  }

  int64_t now_ms = 1'700'000'000'000;
  Client& client() { return client_; }

 private:
  persistence::Env* env_;
  Client client_;
  std::unique_ptr<Server> server_;
  absl::Status start_status_;
};

// The op records (type kOpBatchType) of the AOF at `path` in `env`, parsed.
inline std::vector<v1::OpBatch> AofOpRecords(persistence::Env* env, const std::string& path) {
  std::vector<v1::OpBatch> out;
  auto file = env->NewSequentialFile(path);
  EXPECT_TRUE(file.ok()) << file.status();
  if (!file.ok()) return out;
  persistence::aof::Reader reader(file->get(), nullptr);
  std::string payload;
  while (reader.ReadRecord(&payload) == persistence::aof::Reader::Result::kRecord) {
    if (reader.record_type() != persistence::aof::kOpBatchType) continue;
    out.emplace_back();
    EXPECT_TRUE(out.back().ParseFromString(payload));
  }
  return out;
}

}  // namespace activekv::server::testing
