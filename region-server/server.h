#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "activekv/v1/status.pb.h"
#include "asio.hpp"
#include "region-server/command.h"
#include "region-server/region.h"
#include "topology/topology.h"

namespace activekv::server {

class Connection;
}  // namespace activekv::server

namespace grpc {
class Server;
}
namespace activekv::syncer {
class Replicator;
class StatusService;
}  // namespace activekv::syncer

namespace activekv::server {

// Runtime configuration: what CONFIG GET / CONFIG SET see.
struct ServerConfig {
  std::string bind_host = "127.0.0.1";
  uint16_t port = 0;
  std::string dir;
  std::string appendfsync = "everysec";
  uint64_t proto_max_bulk_len = 512ull << 20;
  uint64_t maxclients = 10000;
  int64_t timeout = 0;
  uint64_t hz = 10;
};

// Per-connection state visible to commands (CLIENT, HELLO, SELECT, QUIT).
struct Client {
  uint64_t id = 0;
  std::string name;
  std::string addr;   // ip:port of the peer
  std::string laddr;  // ip:port of our side
  int protocol = 2;
  int64_t created_ms = 0;
  int64_t last_interaction_ms = 0;
  std::string last_command = "NULL";
  bool close_after_reply = false;
  std::string lib_name;
  std::string lib_ver;
};

// Counters for INFO stats.
struct ServerStats {
  uint64_t total_connections_received = 0;
  uint64_t total_commands_processed = 0;
  uint64_t rejected_connections = 0;
  uint64_t keyspace_hits = 0;
  uint64_t keyspace_misses = 0;
  uint64_t total_net_input_bytes = 0;
  uint64_t total_net_output_bytes = 0;
  uint64_t protocol_errors = 0;
  // instantaneous_ops_per_sec: samples over the last 1.6 s, as Redis.
  uint64_t ops_sample_base = 0;
  int64_t ops_sample_ms = 0;
  double ops_per_sec = 0;
};

// One region's RESP server: a single-threaded Asio event loop that owns the Region. The AOF's
// background thread only posts durability notifications back to it.
class Server {
 public:
  struct Options {
    topology::Topology topology;
    std::string region;
    int64_t clock_offset_ms = 0;      // test-only: skews this region's wall clock
    persistence::Env* env = nullptr;  // Env::Default() when null (tests: MemEnv, fault injection)
    bool listen = true;               // false: no RESP port (in-process tests call Execute)
    WallClock wall_clock;             // tests: a fake clock; empty: the system clock
    size_t replication_log_ops = 0;   // ops kept in memory for peers; 0: the default
  };

  explicit Server(Options options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Recovers the AOF and binds the RESP port. Errors name the file / address at fault.
  absl::Status Start();
  // Runs the event loop until Stop() (e.g. from a signal handler via asio::signal_set).
  void Run();
  void Stop();

  Region& region() { return *region_; }
  const CommandTable& commands() const { return commands_; }
  ServerConfig& config() { return config_; }
  ServerStats& stats() { return stats_; }
  const Options& options() const { return options_; }
  int64_t start_ms() const { return start_ms_; }
  bool loading() const { return loading_; }
  const std::vector<Connection*>& clients() const { return connections_; }
  // Null in a single-region topology.
  const syncer::Replicator* replicator() const { return replicator_.get(); }
  syncer::Replicator* mutable_replicator() { return replicator_.get(); }
  asio::io_context& io() { return io_; }

  // Runs one command (args[0] is its name), appending the reply. The caller commits the ops
  // (Region::Commit) and gates the reply on the returned LSN.
  void Execute(const std::vector<std::string_view>& args, Client* client,
               resp::ReplyBuilder* reply);

  // Connection lifecycle and durability gating (Connection calls these).
  void Register(Connection* c);
  void Unregister(Connection* c);
  // The connection's reply bytes wait until the AOF covers `lsn`; it is resumed via
  // Connection::OnDurable.
  void WaitDurable(std::shared_ptr<Connection> c, uint64_t lsn);
  // Arranges one AOF flush after the current batch of I/O handlers.
  void ScheduleAofFlush();
  // What GetStatus reports (status.cc). Event-loop thread.
  v1::RegionStatus BuildStatus(bool with_digest);

  // Kills the client with this id (CLIENT KILL); false if none.
  bool KillClient(uint64_t id);
  uint64_t NextClientId() { return ++last_client_id_; }

 private:
  void Accept();
  absl::Status StartGrpc();
  void Cron();
  void FlushAof();
  void WakeWaiters();

  Options options_;
  ServerConfig config_;
  ServerStats stats_;
  CommandTable commands_;
  asio::io_context io_{1};
  asio::ip::tcp::acceptor acceptor_{io_};
  asio::steady_timer cron_timer_{io_};
  std::unique_ptr<Region> region_;
  std::unique_ptr<syncer::StatusService> status_service_;
  std::unique_ptr<syncer::Replicator> replicator_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::thread grpc_shutdown_;
  std::vector<Connection*> connections_;
  struct Waiter {
    uint64_t lsn;
    std::shared_ptr<Connection> conn;
  };
  std::vector<Waiter> waiters_;
  bool flush_scheduled_ = false;
  std::atomic<bool> durable_posted_{false};
  uint64_t last_client_id_ = 0;
  int64_t start_ms_ = 0;
  bool loading_ = true;
  bool stopping_ = false;
};

}  // namespace activekv::server
