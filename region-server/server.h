#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "activekv/v1/status.pb.h"
#include "activekv/v1/sync.pb.h"
#include "asio.hpp"
#include "persistence/recovery.h"
#include "region-server/acl/acl.h"
#include "region-server/blocking.h"
#include "region-server/command.h"
#include "region-server/memory_limit.h"
#include "region-server/multi.h"
#include "region-server/notify.h"
#include "region-server/pubsub.h"
#include "region-server/pump_pacer.h"
#include "region-server/region.h"
#include "region-server/tls/tls_server.h"
#include "topology/topology.h"

namespace activekv::server {

class BackupMerge;
class BackupScheduler;
class Connection;
class Scripting;
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
  // appendonly (persistence mode aof); CONFIG SET turns the AOF on (with a rewrite) or off.
  bool appendonly = true;
  uint64_t proto_max_bulk_len = 512ull << 20;
  uint64_t maxclients = 10000;
  // timeout: seconds a client may stay idle before it is closed (not while it is blocked or
  // subscribed); 0: never.
  int64_t timeout = 0;
  // client-query-buffer-limit: a client whose unprocessed input grows past this is closed.
  uint64_t client_query_buffer_limit = 1ull << 30;
  uint64_t hz = 10;
  // Automatic AOF rewrite (Redis's rule): when the AOF has grown by this percentage over its
  // size after the last rewrite (or at startup) and is at least min-size bytes. 0: never.
  int64_t auto_aof_rewrite_percentage = 100;
  int64_t auto_aof_rewrite_min_size = 64ll << 20;
  // save (Redis's rule): BGSAVE once `changes` changes happened and `seconds` passed since the
  // last save (docs/operations.md, "Snapshots").
  std::vector<topology::SaveRule> save;
  // stop-writes-on-bgsave-error: with save rules, a failed save refuses writes until one works.
  bool stop_writes_on_bgsave_error = true;
  // busy-reply-threshold (alias lua-time-limit), ms: a script running longer lets other clients
  // in, answering -BUSY (docs/scripting.md). 0: never.
  int64_t busy_reply_threshold = 5000;
  // lua-memory-limit (activekv's own): bytes each Lua interpreter may hold (docs/scripting.md).
  int64_t lua_memory_limit = int64_t{1} << 30;
  // client-output-buffer-limit, per client class (Redis's rule): a client whose unsent output
  // exceeds `hard` bytes, or stays above `soft` for `soft_seconds`, is disconnected. 0: no limit.
  struct OutputBufferLimit {
    uint64_t hard = 0;
    uint64_t soft = 0;
    int64_t soft_seconds = 0;
  };
  OutputBufferLimit obuf_normal;
  OutputBufferLimit obuf_replica{256ull << 20, 64ull << 20, 60};  // reported only: no replicas
  OutputBufferLimit obuf_pubsub{32ull << 20, 8ull << 20, 60};
  // TLS on RESP (docs/security.md, "Clients over TLS"): the resp_tls port (0: none) and the
  // tls-* settings (CONFIG SET reloads them: Server::ReloadTls).
  uint16_t tls_port = 0;
  tls::Settings tls;
};

// Per-connection state visible to commands (CLIENT, HELLO, SELECT, QUIT).
struct Client {
  uint64_t id = 0;
  std::string name;
  std::string addr;   // ip:port of the peer
  std::string laddr;  // ip:port of our side
  int protocol = 2;
  uint32_t db = 0;  // SELECT: the logical database (Region::SelectDb)
  int64_t created_ms = 0;
  int64_t last_interaction_ms = 0;
  std::string last_command = "NULL";
  bool close_after_reply = false;
  std::string lib_name;
  std::string lib_ver;
  TransactionState tx;  // MULTI / WATCH (multi.h)
  // Blocking commands (blocking.h): the connection this client belongs to (null for in-process
  // callers, which never block); whether it waits now; whether it may not block (inside
  // MULTI/EXEC or a script: a blocking command then answers as on timeout, Redis's
  // CLIENT_DENY_BLOCKING).
  Connection* connection = nullptr;
  bool blocked = false;
  bool deny_blocking = false;
  // Pub/sub (region-server/pubsub.h): what it is subscribed to.
  Subscriptions subs;
  // ACLs (docs/security.md): the user it runs as (owned by Server::acl(); never null for a
  // connection) and whether it authenticated (or needed not: the default user is nopass).
  const acl::User* user = nullptr;
  bool authenticated = false;
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
//
// Startup (listen = true), as redis-server: the RESP port is bound first, then a loader thread
// replays the AOF into a Region that nothing else touches until the loader posts it back to the
// loop. Meanwhile connections are served against an empty placeholder Region (no AOF): commands
// flagged kLoading run (INFO shows the replay's progress), every other command answers
// -LOADING. Then the loop adopts the loaded Region, clears loading() and starts gRPC (Syncer,
// Status) and the cron. With listen = false (in-process tests) Start() replays inline.
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
    // TEST ONLY (Redis's key-load-delay): sleep this long per replayed AOF record so that tests
    // can observe loading. Zero in production.
    absl::Duration load_delay = absl::ZeroDuration();
  };

  explicit Server(Options options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // listen = false: recovers the AOF, then returns. listen = true: binds the RESP port and starts
  // the AOF replay on a loader thread; the rest of the startup happens in Run(). Errors name the
  // file / address at fault.
  absl::Status Start();
  // Runs the event loop until Stop() (e.g. from a signal handler via asio::signal_set), or until
  // the startup replay or what follows it fails: exit_status() then says why.
  void Run();
  // Event-loop thread. While loading: abandons the replay (the loader stops before its next
  // record) and never marks the half-loaded region clean.
  void Stop();
  // OK, or the error that ended Run() during startup (AOF replay, gRPC bind). After Run().
  const absl::Status& exit_status() const { return exit_status_; }

  Region& region() { return *region_; }
  const CommandTable& commands() const { return commands_; }
  ServerConfig& config() { return config_; }
  ServerStats& stats() { return stats_; }
  const Options& options() const { return options_; }
  int64_t start_ms() const { return start_ms_; }
  bool loading() const { return loading_; }
  // The startup replay's progress (any thread); meaningful while loading().
  const persistence::RecoveryProgress& load_progress() const { return load_progress_; }
  // Wall-clock unix ms at which the replay started.
  int64_t load_start_ms() const { return load_start_ms_; }
  const std::vector<Connection*>& clients() const { return connections_; }
  // Null in a single-region topology.
  const syncer::Replicator* replicator() const { return replicator_.get(); }
  syncer::Replicator* mutable_replicator() { return replicator_.get(); }
  asio::io_context& io() { return io_; }
  // EVAL / FUNCTION state (region-server/scripting.h).
  Scripting& scripting() { return *scripting_; }
  // Called by a script that ran past busy-reply-threshold: accepts new connections and serves
  // every connection but the script's caller once (their commands get -BUSY unless allowed),
  // without running any other handler of the loop and without committing anything.
  void ServeWhileBusy(const Client* caller);
  BlockingKeys& blocking() { return blocking_; }
  PubSub& pubsub() { return pubsub_; }
  // Keyspace notifications (CONFIG SET notify-keyspace-events).
  Notifier& notifier() { return notifier_; }
  // PUBLISH / SPUBLISH: delivers to this region's subscribers and sends the message to every
  // peer region with a live link (docs/messaging.md). Returns the local receivers.
  size_t Publish(std::string_view channel, std::string_view message, bool shard);
  // Messages published in a peer region: delivered to local subscribers only.
  void DeliverRemote(const v1::PubSubMessages& messages);

  // Runs one command (args[0] is its name), appending the reply. The caller commits the ops
  // (Region::Commit) and gates the reply on the returned LSN.
  void Execute(const std::vector<std::string_view>& args, Client* client,
               resp::ReplyBuilder* reply);
  // Runs a command that passed the dispatcher's checks (EXEC's queued commands).
  void Call(const CommandSpec& spec, const std::vector<std::string_view>& args, Client* client,
            resp::ReplyBuilder* reply);
  // Who WATCHes which keys (the region reports the ops it applies to it).
  WatchRegistry& watches() { return watches_; }

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

  // BGREWRITEAOF: starts an AOF rewrite that runs in steps on the event loop
  // (Region::StartRewrite). FailedPrecondition when one is running.
  absl::Status StartAofRewrite();
  // BGSAVE: starts writing the snapshot file in steps on the event loop (Region::StartSave).
  // FailedPrecondition while a save or a rewrite runs.
  absl::Status StartBgSave();
  // SAVE: writes the snapshot file now, blocking the event loop (a running rewrite is finished
  // first, as its snapshot and a save's cannot overlap).
  absl::Status SaveNow();
  // CONFIG SET appendonly: off at once (Region::DisableAof); on by a rewrite that starts now or,
  // while a save or rewrite runs, from the cron. Never fails (errors are logged, and an enabling
  // rewrite that fails is retried), as in Redis.
  void SetAppendonly(bool on);
  // After CONFIG SET save / stop-writes-on-bgsave-error: tells the region whether a failed save
  // refuses writes.
  void ApplySaveErrorPolicy() {
    region_->set_stop_writes_on_save_error(config_.stop_writes_on_bgsave_error &&
                                           !config_.save.empty());
  }
  // Runs the rewrite (`rewrite`) or a BGSAVE as soon as neither is running (Redis's
  // aof_rewrite_scheduled / rdb_bgsave_scheduled).
  void ScheduleRewrite() { rewrite_scheduled_ = true; }
  void ScheduleBgSave() { bgsave_scheduled_ = true; }
  bool rewrite_scheduled() const { return rewrite_scheduled_; }
  bool bgsave_scheduled() const { return bgsave_scheduled_; }
  // LASTSAVE: the last successful save, or the start-up time (Redis counts start-up as saved).
  int64_t LastSaveUnixSeconds() const;
  // A save whose moment follows this call, for a backup: starts a BGSAVE, or schedules one after
  // the save or rewrite that runs. Returns how many saves must have completed.
  absl::StatusOr<uint64_t> BeginFreshSave();
  // True once `target` saves completed; the save's error once the awaited one failed.
  absl::StatusOr<bool> FreshSaveDone(uint64_t target);
  // Scheduled backups (null: none configured).
  const BackupScheduler* backups() const { return backups_.get(); }

  // Kills the client with this id (CLIENT KILL); false if none.
  bool KillClient(uint64_t id);

  // ACLs (docs/security.md).
  acl::Acl& acl() { return acl_; }
  const std::string& acl_file() const { return acl_file_; }
  // requirepass (CONFIG SET, the topology's requirepass_file): the default user's only password;
  // empty: nopass.
  const std::string& requirepass() const { return requirepass_; }
  void SetRequirePass(std::string_view password) {
    requirepass_ = std::string(password);
    acl_.SetRequirePass(password);
  }
  // AUTH / HELLO AUTH: on success the client runs as `user`; a failure is logged (ACL LOG names
  // `command`, argv[0] as sent, as Redis does).
  bool Authenticate(Client* client, std::string_view command, std::string_view user,
                    std::string_view password);
  // Clients authenticated as users that were deleted or replaced go (the caller's after its
  // reply), as Redis's ACLFreeUserAndKillClients.
  void DropClientsOf(const std::vector<std::unique_ptr<acl::User>>& gone, Client* caller);
  // After a user changed: a subscriber whose channels its user may no longer use goes.
  void AclChanged(Client* caller);
  // Resets the connection's client to the unauthenticated default user and closes it (after
  // the reply when it is `caller`'s).
  void DropClient(Connection* c, const Client* caller);
  // The client has to AUTH before anything but AUTH/HELLO/QUIT/RESET (the default user has a
  // password or is off, and the client has not authenticated).
  bool AuthRequired(const Client& client) {
    if (client.user == nullptr || client.authenticated) return false;
    const acl::User* def = acl_.default_user();
    return !def->nopass || !def->enabled;
  }
  // A new connection runs as the default user, authenticated when that user needs no password.
  void InitClientUser(Client* client);
  // The ACL verdict on `args` for `client` (kOk for a client without a user: in-process callers
  // and the AOF). On a refusal, `*object` is what ACL LOG names (the command, key or channel).
  acl::Verdict CheckAcl(const Client& client, const std::vector<std::string_view>& args,
                        std::string* object);
  std::string ClientInfoOf(const Client& client);
  // Adds an ACL LOG entry for `client`.
  void LogAclDenial(const Client& client, acl::Verdict reason, std::string_view context,
                    std::string_view object);
  uint64_t NextClientId() { return ++last_client_id_; }

  // TLS on RESP: builds a context from config().tls for the connections accepted from now on
  // (those connected keep theirs). Without a TLS port it only checks nothing: Redis applies
  // tls-* settings when a TLS port exists. On failure the running context stays and the reason
  // is logged and returned.
  absl::Status ReloadTls();
  // maxmemory (docs/security.md, "Limits"): client writes that may grow memory are refused
  // above it; replication, expiry and tombstone collection go on.
  MemoryLimit& memory_limit() { return memory_limit_; }
  // Redis's OOM refusal, as its shared.oomerr.
  static constexpr std::string_view kErrOom =
      "OOM command not allowed when used memory > 'maxmemory'.";
  bool OutOfMemory() { return memory_limit_.Exceeded(region_->NowMs()); }

  // A client's TLS handshake or stream failed: logged, at most one line a second.
  void LogTlsFailure(std::string_view addr, std::string_view error);

 private:
  // Opens `acceptor` listening on `at`.
  absl::Status Listen(const topology::Endpoint& at, asio::ip::tcp::acceptor* acceptor);
  // Accepts connections on `acceptor`, over TLS when `tls` (the RESP TLS port).
  void Accept(asio::ip::tcp::acceptor* acceptor, bool tls);
  // A connection accepted on a listening port (maxclients checked, the TLS context chosen).
  void AdoptSocket(asio::ip::tcp::socket socket, bool tls);
  // Loader thread: replays into loading_region_, then posts FinishLoading.
  void Load();
  // Event loop: adopts the loaded region (or fails the startup), starts gRPC and the cron.
  void FinishLoading();
  void LogRecovery(const persistence::RecoveryResult& recovery, int64_t ms);
  void StartCron();
  absl::Status StartGrpc();
  void Cron();
  // timeout: closes clients idle for longer.
  void CloseIdleClients();
  void FlushAof();
  void WakeWaiters();
  void AofRewriteStep();
  // One step of the running rewrite (and its completion); true while it goes on.
  bool AdvanceRewrite();
  void BgSaveStep();
  // Cron: starts what is scheduled and what the save rules ask for.
  void StartScheduledSnapshots();
  // appendonly yes but no AOF yet: starts the rewrite that creates it (Region::EnableAof).
  void TurnAofOn();
  // After the load, appendonly no: a leftover appendonly.aof goes once a snapshot holds its
  // state (now, when no save rule will write one).
  void RetireLeftoverAof();
  // Shutdown with save rules (Redis's SHUTDOWN): a save in progress finishes, then a final one.
  absl::Status FinalSave();
  bool rewrite_scheduled_ = false;
  bool bgsave_scheduled_ = false;
  int64_t last_bgsave_try_ms_ = 0;  // Redis retries a failed BGSAVE after 5 s only
  int64_t started_unix_s_ = 0;
  std::unique_ptr<BackupScheduler> backups_;
  // The restore --merge running now (Status.Import), if any.
  std::unique_ptr<BackupMerge> merge_;
  uint64_t merge_token_ = 0;  // the Status.Import call it belongs to

  Options options_;
  ServerConfig config_;
  ServerStats stats_;
  CommandTable commands_;
  // Before io_ and connections_: connections destroyed with io_ unwatch their keys.
  WatchRegistry watches_;
  // Before io_ too: connections destroyed with io_ drop their subscriptions.
  PubSub pubsub_;
  acl::Acl acl_;
  std::string acl_file_;
  std::string requirepass_;
  // notify-keyspace-events (region-server/notify.h): publishes to pubsub_.
  Notifier notifier_{&pubsub_};
  std::unique_ptr<Scripting> scripting_;
  // Declared before io_: destroying io_ destroys the handlers still pending after Stop(), and
  // with them the last owners of their Connections, which Unregister() from this list.
  std::vector<Connection*> connections_;
  asio::io_context io_{1};
  BlockingKeys blocking_{&io_};
  asio::ip::tcp::acceptor acceptor_{io_};
  asio::ip::tcp::acceptor tls_acceptor_{io_};  // open when the region has resp_tls
  std::shared_ptr<SSL_CTX> tls_ctx_;           // the TLS port's current context
  int64_t tls_failure_logged_ms_ = 0;
  MemoryLimit memory_limit_;
  uint64_t tls_failures_unlogged_ = 0;
  asio::steady_timer cron_timer_{io_};
  // Replication pumps after AOF flushes, spaced by the pacer (a timer picks up what comes in
  // between): under load peers get fewer, larger batches and the loop fewer wake-ups from gRPC
  // threads; an isolated write is still sent at once.
  void PumpReplication();
  void PumpNow(std::chrono::steady_clock::time_point now);
  PumpPacer pacer_;
  asio::steady_timer pump_timer_{io_};
  bool pump_armed_ = false;
  std::unique_ptr<Region> region_;
  // The startup replay: loading_region_, load_result_, load_status_ and load_ms_ belong to the
  // loader thread until it posts FinishLoading (the post orders them for the loop).
  std::thread loader_;
  std::unique_ptr<Region> loading_region_;
  persistence::RecoveryResult load_result_;
  absl::Status load_status_;
  int64_t load_ms_ = 0;
  persistence::RecoveryProgress load_progress_;
  int64_t load_start_ms_ = 0;
  absl::Status exit_status_;
  std::unique_ptr<syncer::StatusService> status_service_;
  std::unique_ptr<syncer::Replicator> replicator_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::thread grpc_shutdown_;
  struct Waiter {
    uint64_t lsn;
    std::shared_ptr<Connection> conn;
  };
  std::vector<Waiter> waiters_;
  // PUBLISHed here, for peers: handed to the replicator after the current handler (Publish).
  struct OutgoingMessage {
    std::string channel;
    std::string message;
    bool shard;
  };
  std::vector<OutgoingMessage> outbox_;
  bool flush_scheduled_ = false;
  std::atomic<bool> durable_posted_{false};
  uint64_t last_client_id_ = 0;
  int64_t start_ms_ = 0;
  bool loading_ = true;
  // Region::rejoining: since when, and the transition is still to be logged.
  static constexpr auto kJoinTimeout = std::chrono::seconds(5);
  std::chrono::steady_clock::time_point join_started_{};
  bool joining_logged_ = false;
  bool stopping_ = false;
};

}  // namespace activekv::server
