#include "region-server/server.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "region-server/backup_merge.h"
#include "region-server/backup_scheduler.h"
#include "region-server/connection.h"
#include "region-server/errors.h"
#include "region-server/info.h"
#include "region-server/scripting.h"
#include "spdlog/spdlog.h"
#include "syncer/replicator.h"
#include "syncer/status_service.h"

namespace activekv::server {
namespace {
constexpr auto kCronPeriod = std::chrono::milliseconds(100);
// SAVE polls the snapshot's fsync (which runs on a helper thread) this often.
constexpr auto kSaveSyncPoll = std::chrono::milliseconds(1);
constexpr int64_t kBgSaveRetryDelayMs = 5000;
constexpr size_t kExpireKeysPerRound = 200;
constexpr int kExpireRoundsPerCron = 20;
// Ops kept in memory to serve peers' pulls (older ones need a full resync).
constexpr size_t kReplicationLogOps = 1 << 20;

// Redis 7: while loading, only commands flagged CMD_LOADING run. CONFIG SET appendfsync is
// refused as well: it reopens the AOF, which the loader owns until the replay is done.
bool RefuseWhileLoading(const CommandSpec& spec, const std::vector<std::string_view>& args) {
  if ((spec.flags & kLoading) == 0) return true;
  if (spec.name == "config" && args.size() >= 2 && EqualsIgnoreCase(args[1], "set")) {
    for (size_t i = 2; i < args.size(); i += 2) {
      if (EqualsIgnoreCase(args[i], "appendfsync")) return true;
    }
  }
  return false;
}

persistence::FsyncPolicy ToPolicy(topology::Appendfsync a) {
  switch (a) {
    case topology::Appendfsync::kAlways:
      return persistence::FsyncPolicy::kAlways;
    case topology::Appendfsync::kNo:
      return persistence::FsyncPolicy::kNo;
    case topology::Appendfsync::kEverysec:
      break;
  }
  return persistence::FsyncPolicy::kEverysec;
}
}  // namespace

Server::Server(Options options)
    : options_(std::move(options)), pubsub_([](Client& client, std::string_view bytes) {
        if (client.connection != nullptr) client.connection->DeliverPush(bytes);
      }) {
  RegisterStringFamily(&commands_);
  RegisterKeysFamily(&commands_);
  RegisterServerFamily(&commands_);
  RegisterHashFamily(&commands_);
  RegisterSetFamily(&commands_);
  RegisterZsetFamily(&commands_);
  RegisterBitFamily(&commands_);
  RegisterListFamily(&commands_);
  RegisterStreamFamily(&commands_);
  RegisterStreamGroupFamily(&commands_);
  RegisterStreamPelFamily(&commands_);
  RegisterTransactionFamily(&commands_);
  RegisterScriptingFamily(&commands_);
  RegisterSortFamily(&commands_);
  RegisterPubsubFamily(&commands_);
  RegisterAclFamily(&commands_);
  scripting_ = std::make_unique<Scripting>(this);
}

Server::~Server() {
  // Run() may have returned (Stop) while the loader still replays: stop it before members go.
  load_progress_.cancel.store(true);
  if (loader_.joinable()) loader_.join();
  if (grpc_shutdown_.joinable()) grpc_shutdown_.join();
  // Connections hold shared_ptrs in pending handlers; destroying the io_context destroys them.
  waiters_.clear();
}

absl::Status Server::Start() {
  const topology::RegionConfig* rc = options_.topology.FindRegion(options_.region);
  if (rc == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("region '", options_.region, "' is not in ", options_.topology.source_path));
  }
  config_.bind_host = rc->resp.host;
  config_.port = rc->resp.port;
  config_.dir = rc->data_dir;
  config_.appendfsync = std::string(topology::AppendfsyncName(rc->persistence.appendfsync));
  config_.appendonly = rc->persistence.mode == topology::PersistenceMode::kAof;
  config_.save = rc->persistence.EffectiveSaveRules();
  if (rc->resp_tls.port != 0) {
    config_.tls_port = rc->resp_tls.port;
    tls::Settings& t = config_.tls;
    t.cert_file = rc->tls.cert_file;
    t.key_file = rc->tls.key_file;
    t.ca_cert_file = rc->tls.ca_file;
    t.protocols = rc->tls.protocols;
    tls::ParseAuthClients(rc->tls.auth_clients, &t.auth_clients);  // checked by the topology
    if (absl::Status s = ReloadTls(); !s.ok()) return s;
  }
  // Users before any client: a region with an ACL file or a password never serves a command
  // unauthenticated, and one whose file is unreadable or invalid does not start.
  if (!rc->requirepass_file.empty()) {
    absl::StatusOr<std::string> password = topology::ReadRequirePass(rc->requirepass_file);
    if (!password.ok()) return password.status();
    SetRequirePass(*password);
  }
  if (!rc->acl_file.empty()) {
    acl_file_ = rc->acl_file;
    std::vector<std::unique_ptr<acl::User>> none;
    std::string errors = acl_.LoadFile(acl_file_, &none);
    if (!errors.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("Aborting because of ACL errors: ", errors));
    }
  }
  if (!rc->backup.location.empty()) {
    BackupScheduler::Hooks hooks;
    hooks.begin = [this] { return BeginFreshSave(); };
    hooks.finished = [this](uint64_t target) { return FreshSaveDone(target); };
    hooks.describe = [this](int64_t* saved_unix_ms, syncer::NamedVV* version) {
      *saved_unix_ms = region_->save_stats().last_save_unix_s * 1000;
      *version = region_->save_stats().version;
    };
    backups_ = std::make_unique<BackupScheduler>(rc->backup, options_.topology.name, rc->name,
                                                 rc->data_dir + "/dump.akv", std::move(hooks));
  }
  started_unix_s_ =
      (options_.wall_clock ? options_.wall_clock() : SystemWallClock(options_.clock_offset_ms)()) /
      1000;

  Region::Options ro;
  ro.name = rc->name;
  for (const auto& r : options_.topology.regions) ro.all_regions.push_back(r.name);
  ro.data_dir = rc->data_dir;
  ro.fsync = ToPolicy(rc->persistence.appendfsync);
  ro.appendonly = config_.appendonly;
  ro.env = options_.env;
  ro.wall_clock =
      options_.wall_clock ? options_.wall_clock : SystemWallClock(options_.clock_offset_ms);
  // Until the loader hands the region over, the connections see an empty placeholder without an
  // AOF (see the class comment): same identity and clock, no callbacks, no replication log.
  Region::Options placeholder = ro;
  ro.on_durable = [this](uint64_t) {
    // Coalesce: one posted wake-up at a time.
    if (!durable_posted_.exchange(true)) {
      asio::post(io_, [this] {
        durable_posted_.store(false);
        WakeWaiters();
      });
    }
  };
  ro.on_commit = [this] { ScheduleAofFlush(); };
  if (options_.topology.regions.size() > 1) {
    ro.replication_log_ops =
        options_.replication_log_ops > 0 ? options_.replication_log_ops : kReplicationLogOps;
  }
  ro.recovery.progress = &load_progress_;
  ro.recovery.record_delay = options_.load_delay;
  start_ms_ = ro.wall_clock();
  load_start_ms_ = start_ms_;

  if (!options_.listen) {
    // In-process tests: replay inline, as they call Execute right after Start.
    region_ = std::make_unique<Region>(std::move(ro));
    region_->set_watches(&watches_);
    region_->set_blocking(&blocking_);
    region_->set_notifier(&notifier_);
    auto t0 = std::chrono::steady_clock::now();
    persistence::RecoveryResult recovery;
    absl::Status s = region_->Open(&recovery);
    if (!s.ok()) return s;
    LogRecovery(recovery, std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now() - t0)
                              .count());
    loading_ = false;
    ApplySaveErrorPolicy();
    return absl::OkStatus();
  }

  if (absl::Status s = Listen(rc->resp, &acceptor_); !s.ok()) return s;
  if (rc->resp_tls.port != 0) {
    if (absl::Status s = Listen(rc->resp_tls, &tls_acceptor_); !s.ok()) return s;
    spdlog::info("region {}: serving RESP over TLS on {} (tls-auth-clients {})", rc->name,
                 rc->resp_tls.ToString(), tls::AuthClientsName(config_.tls.auth_clients));
  }
  region_ = std::make_unique<Region>(std::move(placeholder));
  loading_region_ = std::make_unique<Region>(std::move(ro));
  // Known before the loader starts, so the first INFO already shows it (RecoverAof sets it too).
  // The file it starts from (an AOF to come is named when there is none).
  std::string from = loading_region_->StartFile();
  if (from.empty()) from = loading_region_->aof_path();
  absl::StatusOr<uint64_t> size = loading_region_->env()->GetFileSize(from);
  if (size.ok()) load_progress_.total_bytes.store(*size);
  spdlog::info(
      "region {}: serving RESP on {} (persistence {}, appendfsync {}); replaying {} ({} bytes), "
      "-LOADING until done",
      rc->name, rc->resp.ToString(), topology::PersistenceModeName(rc->persistence.mode),
      config_.appendfsync, from, size.ok() ? *size : 0);
  Accept(&acceptor_, false);
  if (tls_acceptor_.is_open()) Accept(&tls_acceptor_, true);
  loader_ = std::thread([this] { Load(); });
  return absl::OkStatus();
}

void Server::Load() {
  auto t0 = std::chrono::steady_clock::now();
  load_status_ = loading_region_->Open(&load_result_);
  load_ms_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  asio::post(io_, [this] { FinishLoading(); });
}

void Server::FinishLoading() {
  loader_.join();  // it posted this as its last act
  // Stop() during the replay: the loaded (or half-loaded) region is dropped, never marked clean.
  if (stopping_) return;
  if (!load_status_.ok()) {
    exit_status_ = load_status_;
    Stop();
    return;
  }
  region_ = std::move(loading_region_);
  // Keys watched during the replay were watched in the placeholder: all of them changed.
  watches_.TouchAll();
  region_->set_watches(&watches_);
  blocking_.TouchAll();
  region_->set_blocking(&blocking_);
  region_->set_notifier(&notifier_);
  LogRecovery(load_result_, load_ms_);
  loading_ = false;
  // The replicator starts from the replayed keyspace: gRPC only now.
  absl::Status s = StartGrpc();
  if (!s.ok()) {
    exit_status_ = s;
    Stop();
    return;
  }
  if (region_->rejoining()) {
    join_started_ = std::chrono::steady_clock::now();
    joining_logged_ = true;
    if (region_->joining()) {
      spdlog::info(
          "nothing on disk to start from: refusing writes until the peers said which ops of "
          "this region they hold and it holds what they held");
    } else {
      spdlog::info(
          "started from a snapshot after an unclean stop: refusing writes until it holds what "
          "its peers held");
    }
  }
  ApplySaveErrorPolicy();
  RetireLeftoverAof();
  StartCron();
}

void Server::RetireLeftoverAof() {
  if (!region_->leftover_aof()) return;
  if (!config_.save.empty()) {
    // SaveStep removes it once dump.akv holds its state.
    spdlog::info("appendonly no: {} is retired after the first snapshot", region_->aof_path());
    if (StartBgSave().ok()) return;
  }
  absl::Status s = region_->RetireLeftoverAof();
  if (s.ok()) {
    spdlog::info("appendonly no: removed {} (loaded once)", region_->aof_path());
  } else {
    spdlog::error("appendonly no: cannot remove {}: {}", region_->aof_path(),
                  std::string(s.message()));
  }
}

void Server::SetAppendonly(bool on) {
  if (on == config_.appendonly) return;
  config_.appendonly = on;
  if (!on) {
    absl::Status s = region_->DisableAof();
    if (!s.ok()) {
      spdlog::error("appendonly no: closing the AOF: {}", std::string(s.message()));
    } else {
      spdlog::info("appendonly no: the AOF is closed and removed");
    }
    return;
  }
  if (!region_->snapshot_busy()) TurnAofOn();  // else from the cron
}

void Server::TurnAofOn() {
  absl::Status s = region_->EnableAof();
  if (!s.ok()) {
    spdlog::warn("appendonly yes: cannot start the rewrite yet: {}", std::string(s.message()));
    return;
  }
  spdlog::info("appendonly yes: writing the dataset into a new AOF");
  asio::post(io_, [this] { AofRewriteStep(); });
}

absl::Status Server::FinalSave() {
  bool running = region_->save_stats().in_progress;
  while (running) {
    region_->SaveStep(&running);
    if (running) std::this_thread::sleep_for(kSaveSyncPoll);
  }
  return SaveNow();
}

void Server::LogRecovery(const persistence::RecoveryResult& recovery, int64_t ms) {
  const std::string& name = region_->options().name;
  if (recovery.torn_tail) {
    spdlog::warn("AOF {}: torn tail truncated: {} bytes at offset {} ({})", region_->aof_path(),
                 recovery.truncated_bytes, recovery.valid_bytes, recovery.torn_tail_reason);
  }
  spdlog::info("region {}: replayed {} records ({} bytes), {} keys in {} ms", name,
               recovery.records_applied, recovery.valid_bytes, region_->ks().key_count(), ms);
  if (region_->incarnation() > 0 && !region_->joining()) {
    spdlog::info("region {}: writing as origin {} (incarnation {})", name,
                 region_->ks().local_name(), region_->incarnation());
  }
}

void Server::StartCron() {
  cron_timer_.expires_after(kCronPeriod);
  cron_timer_.async_wait([this](const asio::error_code& e) {
    if (!e) Cron();
  });
}

void Server::Run() { io_.run(); }

void Server::Stop() {
  if (stopping_) return;
  stopping_ = true;
  if (loading_ && exit_status_.ok()) {
    load_progress_.cancel.store(true);
    spdlog::warn(
        "region {}: stopping during the AOF replay ({} of {} bytes replayed); the region is not "
        "marked clean",
        options_.region, load_progress_.loaded_bytes.load(), load_progress_.total_bytes.load());
  }
  asio::error_code ec;
  acceptor_.close(ec);
  tls_acceptor_.close(ec);
  cron_timer_.cancel();
  pump_timer_.cancel();
  for (Connection* c : connections_) c->Close();
  // While loading, region_ is the placeholder (no AOF): nothing to sync, no clean marker.
  if (region_ && region_->aof() != nullptr) {
    region_->Commit();
    absl::Status s = region_->aof()->SyncAll();
    if (!s.ok()) spdlog::error("final AOF sync failed: {}", std::string(s.message()));
    // As Redis's SHUTDOWN: with save rules, a final save. Without an AOF that save is what the
    // next start loads: the stop is clean only if it holds everything (else the next start
    // takes a new incarnation and catches up, never reusing an op id the lost ops had).
    if (s.ok() && !config_.save.empty()) {
      absl::Status saved = FinalSave();
      if (!saved.ok()) {
        spdlog::error("final save failed: {}", std::string(saved.message()));
        if (!region_->appendonly()) s = saved;
      }
    }
    const bool complete = region_->appendonly() || !config_.save.empty();
    if (s.ok() && complete) s = region_->MarkCleanShutdown();
  }
  if (grpc_server_ == nullptr) {
    io_.stop();
    return;
  }
  // gRPC handlers hand work to this loop: shut gRPC down from another thread while the loop
  // keeps running (the guard keeps run() from returning for lack of Asio work), then stop it.
  auto guard = std::make_shared<asio::executor_work_guard<asio::io_context::executor_type>>(
      io_.get_executor());
  grpc_shutdown_ = std::thread([this, guard] {
    if (replicator_) replicator_->Shutdown();
    grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    asio::post(io_, [this] { io_.stop(); });
  });
}

absl::Status Server::Listen(const topology::Endpoint& at, asio::ip::tcp::acceptor* acceptor) {
  asio::error_code ec;
  asio::ip::address addr = asio::ip::make_address(at.host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("bad host ", at.host));
  asio::ip::tcp::endpoint ep(addr, at.port);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", at.ToString(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

void Server::Accept(asio::ip::tcp::acceptor* acceptor, bool tls) {
  acceptor->async_accept(
      [this, acceptor, tls](const asio::error_code& ec, asio::ip::tcp::socket socket) {
        if (ec) {
          if (ec != asio::error::operation_aborted) Accept(acceptor, tls);
          return;
        }
        AdoptSocket(std::move(socket), tls);
        Accept(acceptor, tls);
      });
}

void Server::AdoptSocket(asio::ip::tcp::socket socket, bool tls) {
  ++stats_.total_connections_received;
  if (connections_.size() >= config_.maxclients) {
    ++stats_.rejected_connections;
    // Over TLS the refusal would need a handshake first; Redis closes those without a word too.
    if (!tls) {
      static constexpr std::string_view kMsg = "-ERR max number of clients reached\r\n";
      asio::error_code wec;
      asio::write(socket, asio::buffer(kMsg.data(), kMsg.size()), wec);
    }
    return;
  }
  std::make_shared<Connection>(this, std::move(socket), tls ? tls_ctx_.get() : nullptr)->Start();
}

absl::Status Server::ReloadTls() {
  if (config_.tls_port == 0) return absl::OkStatus();
  absl::StatusOr<std::shared_ptr<SSL_CTX>> ctx = tls::MakeServerContext(config_.tls);
  if (!ctx.ok()) {
    spdlog::error("TLS configuration for the RESP TLS port failed: {}",
                  std::string(ctx.status().message()));
    return ctx.status();
  }
  tls_ctx_ = *std::move(ctx);
  return absl::OkStatus();
}

void Server::LogTlsFailure(std::string_view addr, std::string_view error) {
  const int64_t now = region_ ? region_->NowMs() : 0;
  if (now - tls_failure_logged_ms_ < 1000) {
    ++tls_failures_unlogged_;
    return;
  }
  tls_failure_logged_ms_ = now;
  spdlog::warn("TLS client {}: {}{}", std::string(addr), std::string(error),
               tls_failures_unlogged_ > 0
                   ? absl::StrCat(" (and ", tls_failures_unlogged_, " more since the last report)")
                   : std::string());
  tls_failures_unlogged_ = 0;
}

void Server::Execute(const std::vector<std::string_view>& args, Client* client,
                     resp::ReplyBuilder* reply) {
  ++stats_.total_commands_processed;
  const CommandSpec* spec = commands_.Find(args[0]);
  // The checks of Redis's processCommand, in its order: a refused command inside MULTI flags
  // the transaction (EXEC then answers EXECABORT); a refused EXEC aborts it (multi.h).
  if (spec == nullptr) {
    // Redis formats these with "%.128s" of C strings: each is cut at its first NUL byte.
    auto c_str = [](std::string_view s, size_t max) {
      return std::string(s.substr(0, std::min(max, s.find('\0'))));
    };
    std::string rest;
    for (size_t i = 1; i < args.size() && rest.size() < 128; ++i) {
      absl::StrAppend(&rest, "'", c_str(args[i], 128 - rest.size()), "' ");
    }
    RejectCommand(this, client, false,
                  absl::StrCat("ERR unknown command '", c_str(args[0], 128),
                               "', with args beginning with: ", rest),
                  reply);
    return;
  }
  // Container commands are reported as "client|list", as Redis does.
  SetFullName(*spec, args, &client->last_command);
  const bool exec = IsExec(*spec);
  if ((spec->arity > 0 && static_cast<int>(args.size()) != spec->arity) ||
      (static_cast<int>(args.size()) < -spec->arity)) {
    std::string name(args[0]);
    absl::AsciiStrToLower(&name);
    RejectCommand(this, client, exec,
                  absl::StrCat("ERR wrong number of arguments for '", name, "' command"), reply);
    return;
  }
  const TransactionState& tx = client->tx;
  // A container's unknown subcommand, or a wrong number of arguments for a known one (Redis
  // resolves subcommands at lookup).
  if (std::string error = SubcommandError(*spec, args); !error.empty()) {
    RejectCommand(this, client, exec, error, reply);
    return;
  }
  // Redis's processCommand: authentication, then MULTI's refusals, then the ACL check.
  if (AuthRequired(*client)) {
    // Redis's no_auth commands (AUTH, HELLO, QUIT, RESET), as its command table flags them.
    const acl::CommandMeta* meta = acl::CommandMetaTable::Get().Find(spec->name);
    if (meta == nullptr || !(meta->flags & acl::kMetaNoAuth)) {
      RejectCommand(this, client, exec, "NOAUTH Authentication required.", reply);
      return;
    }
  }
  if (tx.multi) {
    if (spec->flags & kNoMulti) {
      RejectCommand(this, client, exec, "ERR Command not allowed inside a transaction", reply);
      return;
    }
  }
  if (client->user != nullptr && !client->user->Unrestricted()) {
    std::string object;
    const acl::Verdict verdict = CheckAcl(*client, args, &object);
    if (verdict != acl::Verdict::kOk) {
      LogAclDenial(*client, verdict, tx.multi ? "multi" : "toplevel", object);
      std::string error;
      if (verdict == acl::Verdict::kCommand) {
        error =
            absl::StrCat("NOPERM this user has no permissions to run the '", object, "' command");
      } else if (verdict == acl::Verdict::kKey) {
        error = "NOPERM this user has no permissions to access one of the keys used as arguments";
      } else {
        error =
            "NOPERM this user has no permissions to access one of the channels used as arguments";
      }
      RejectCommand(this, client, exec, error, reply);
      return;
    }
  }
  // maxmemory, as Redis's processCommand: above it a command that may grow memory is refused,
  // and inside MULTI every command but EXEC, DISCARD, QUIT and RESET (queueing takes memory
  // too), and an EXEC that queued one. A script's own calls are checked by the script
  // (ScriptRun::Call: only until its first write, so it never stops halfway).
  if (memory_limit_.maxmemory() != 0 &&
      (scripting_->current() == nullptr || client != scripting_->current()->script_client())) {
    bool deny = (spec->flags & kDenyOom) || (exec && (tx.queued_flags & kDenyOom));
    if (tx.multi && !exec && spec->name != "discard" && spec->name != "quit" &&
        spec->name != "reset") {
      deny = true;
    }
    if (deny && OutOfMemory()) {
      RejectCommand(this, client, exec, kErrOom, reply);
      return;
    }
  }
  // RESP2 pub/sub mode (Redis 7.0): a subscribed client may only change its subscriptions,
  // PING, QUIT or RESET.
  if (client->protocol == 2 && client->subs.any() && !AllowedInPubSubMode(*spec)) {
    RejectCommand(this, client, exec,
                  absl::StrCat("ERR Can't execute '", CommandFullName(*spec, args),
                               "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                               "are allowed in this context"),
                  reply);
    return;
  }
  if (loading_ &&
      (RefuseWhileLoading(*spec, args) || (exec && (tx.queued_inv_flags & kLoading) != 0))) {
    RejectCommand(this, client, exec, kErrLoading, reply);
    return;
  }
  // A script that ran past busy-reply-threshold lets other clients in: most commands wait.
  if (scripting_->current() != nullptr &&
      scripting_->RefuseWhileBusy(*spec, absl::MakeConstSpan(args), client, reply)) {
    return;
  }
  // Every write command is refused here, before its handler runs, while the region cannot take
  // writes (MISCONF, joining), as Redis's processCommand does; so is an EXEC that queued one.
  if ((spec->flags & kWrite) || (exec && (tx.queued_flags & kWrite) != 0)) {
    if (std::string refusal = WriteRefusal(*region_); !refusal.empty()) {
      RejectCommand(this, client, exec, refusal, reply);
      return;
    }
  }
  if (QueuesInMulti(*client, *spec)) {
    QueueCommand(*spec, args, client, reply);
    return;
  }
  Call(*spec, args, client, reply);
}

void Server::InitClientUser(Client* client) {
  client->user = acl_.default_user();
  client->authenticated = client->user->nopass && client->user->enabled;
}

acl::Verdict Server::CheckAcl(const Client& client, const std::vector<std::string_view>& args,
                              std::string* object) {
  if (client.user == nullptr || client.user->Unrestricted()) return acl::Verdict::kOk;
  const acl::CommandMeta* meta = acl::CommandMetaTable::Get().Resolve(args);
  if (meta == nullptr) {
    // A command Redis does not have (CRDT.*): like a module's, allowed by +@all only.
    *object = client.last_command;
    return client.user->AllowsFutureCommands() ? acl::Verdict::kOk : acl::Verdict::kCommand;
  }
  size_t pos = 0;
  const acl::Verdict verdict = client.user->Check(*meta, absl::MakeConstSpan(args), &pos);
  if (verdict == acl::Verdict::kCommand) {
    *object = std::string(meta->fullname);
  } else if (verdict != acl::Verdict::kOk) {
    *object = std::string(args[pos]);
  }
  return verdict;
}

// CLIENT LIST's line of the connection `client` belongs to (a script's client shares its
// caller's id); empty for in-process callers.
std::string Server::ClientInfoOf(const Client& client) {
  for (const Connection* c : connections_) {
    if (c->client().id == client.id) return ClientInfoLine(*this, *c);
  }
  return "";
}

void Server::LogAclDenial(const Client& client, acl::Verdict reason, std::string_view context,
                          std::string_view object) {
  acl_.Log(reason, context, object, client.user != nullptr ? client.user->name : "default",
           region_->NowMs(), ClientInfoOf(client));
}

bool Server::Authenticate(Client* client, std::string_view command, std::string_view user,
                          std::string_view password) {
  const acl::User* u = acl_.Authenticate(user, password);
  if (u == nullptr) {
    acl_.Log(acl::Verdict::kAuth, client->tx.multi ? "multi" : "toplevel", command, user,
             region_->NowMs(), ClientInfoOf(*client));
    return false;
  }
  client->user = u;
  client->authenticated = true;
  return true;
}

void Server::DropClient(Connection* c, const Client* caller) {
  Client& cl = c->client();
  // Never left pointing at a user that went away, and not authenticated any more.
  cl.user = acl_.default_user();
  cl.authenticated = false;
  if (caller != nullptr && cl.id == caller->id) {
    cl.close_after_reply = true;  // the caller's reply goes first
  } else {
    c->Close();
  }
}

void Server::DropClientsOf(const std::vector<std::unique_ptr<acl::User>>& gone, Client* caller) {
  auto went = [&](const acl::User* u) {
    for (const auto& g : gone) {
      if (u == g.get()) return true;
    }
    return false;
  };
  std::vector<Connection*> conns = connections_;
  for (Connection* c : conns) {
    if (went(c->client().user)) DropClient(c, caller);
  }
  if (caller != nullptr && went(caller->user)) {  // an in-process caller (no connection)
    caller->user = acl_.default_user();
    caller->authenticated = false;
    caller->close_after_reply = true;
  }
}

void Server::AclChanged(Client* caller) {
  // A subscriber that may no longer use one of its channels goes (Redis's
  // ACLKillPubsubClientsIfNeeded).
  std::vector<Connection*> conns = connections_;
  for (Connection* c : conns) {
    const Client& cl = c->client();
    if (cl.user == nullptr || !cl.subs.any() || cl.user->AllChannels()) continue;
    auto allowed = [&](const SubscriptionSet& set, bool patterns) {
      for (const std::string& name : set.names()) {
        if (!cl.user->ChannelAllowed(name, patterns)) return false;
      }
      return true;
    };
    if (allowed(cl.subs.channels, false) && allowed(cl.subs.shard_channels, false) &&
        allowed(cl.subs.patterns, true)) {
      continue;
    }
    DropClient(c, caller);
  }
}

void Server::Call(const CommandSpec& spec, const std::vector<std::string_view>& args,
                  Client* client, resp::ReplyBuilder* reply) {
  // The client's database, resolved through the mapping as it is now (SWAPDB may have changed
  // it since the client's last command).
  region_->SelectDb(client->db);
  region_->BeginCommand((spec.flags & kReadOnly) != 0);
  CommandContext ctx{absl::MakeConstSpan(args), reply, client, region_.get(), this};
  spec.handler(ctx);
}

size_t Server::Publish(std::string_view channel, std::string_view message, bool shard) {
  const size_t receivers = pubsub_.Publish(channel, message, shard);
  if (replicator_) {
    // To peers once the command that published it is committed (its ops logged): a posted
    // task runs after the handler that runs the command, so a script's or a transaction's
    // writes are never overtaken by the message it published after them.
    outbox_.push_back({std::string(channel), std::string(message), shard});
    if (outbox_.size() == 1) {
      asio::post(io_, [this] {
        std::vector<OutgoingMessage> out;
        out.swap(outbox_);
        if (!replicator_ || stopping_) return;
        for (const OutgoingMessage& m : out) replicator_->Publish(m.channel, m.message, m.shard);
      });
    }
  }
  return receivers;
}

void Server::DeliverRemote(const v1::PubSubMessages& messages) {
  for (const v1::PubSubMessage& m : messages.messages()) {
    pubsub_.Publish(m.channel(), m.message(), m.shard());
  }
}

void Server::Register(Connection* c) { connections_.push_back(c); }

void Server::ServeWhileBusy(const Client* caller) {
  for (auto [acceptor, tls] : {std::pair{&acceptor_, false}, std::pair{&tls_acceptor_, true}}) {
    if (!acceptor->is_open()) continue;
    asio::error_code ec;
    acceptor->non_blocking(true, ec);
    while (!ec && connections_.size() < config_.maxclients) {
      asio::ip::tcp::socket socket(io_);
      acceptor->accept(socket, ec);
      if (ec) break;
      AdoptSocket(std::move(socket), tls);
    }
  }
  // A copy: connections accepted above are in it; none is destroyed while this runs (each is
  // owned by its pending handlers).
  std::vector<Connection*> conns = connections_;
  for (Connection* c : conns) {
    if (&c->client() != caller) c->ServeWhileBusy();
  }
}

void Server::Unregister(Connection* c) {
  DiscardTransaction(this, &c->client());
  auto it = std::find(connections_.begin(), connections_.end(), c);
  if (it != connections_.end()) {
    *it = connections_.back();
    connections_.pop_back();
  }
}

bool Server::KillClient(uint64_t id) {
  for (Connection* c : connections_) {
    if (c->client().id == id) {
      c->Close();
      return true;
    }
  }
  return false;
}

void Server::WaitDurable(std::shared_ptr<Connection> c, uint64_t lsn) {
  waiters_.push_back(Waiter{lsn, std::move(c)});
  ScheduleAofFlush();
}

void Server::ScheduleAofFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  asio::post(io_, [this] { FlushAof(); });
}

void Server::FlushAof() {
  flush_scheduled_ = false;
  if (loading_) return;  // the placeholder region has no AOF
  persistence::Aof* aof = region_->aof();
  absl::Status s = aof->Flush();
  if (!s.ok()) {
    static int64_t last_log_ms = 0;
    int64_t now = region_->NowMs();
    if (now - last_log_ms > 1000) {
      spdlog::error("AOF write failed: {}; refusing writes until it recovers",
                    std::string(s.message()));
      last_log_ms = now;
    }
  }
  if (aof->stats().policy != persistence::FsyncPolicy::kAlways) {
    // As redis-server: replies go out once the AOF write was attempted. On failure the records
    // stay buffered and are retried; new writes are refused (-MISCONF) meanwhile.
    std::vector<Waiter> ready;
    ready.swap(waiters_);
    for (Waiter& w : ready) w.conn->OnDurable();
    PumpReplication();
    return;
  }
  WakeWaiters();
}

void Server::WakeWaiters() {
  if (loading_) return;  // the loaded region's AOF thread may signal before the handover
  uint64_t durable = region_->durable_lsn();
  std::vector<Waiter> ready;
  auto keep = std::partition(waiters_.begin(), waiters_.end(),
                             [durable](const Waiter& w) { return w.lsn > durable; });
  std::move(keep, waiters_.end(), std::back_inserter(ready));
  waiters_.erase(keep, waiters_.end());
  for (Waiter& w : ready) w.conn->OnDurable();
  PumpReplication();
}

void Server::PumpReplication() {
  if (!replicator_ || stopping_) return;
  const auto now = std::chrono::steady_clock::now();
  const std::optional<PumpPacer::Clock::time_point> at = pacer_.OnFlush(now);
  if (!at.has_value()) {
    PumpNow(now);
    return;
  }
  if (pump_armed_) return;
  pump_armed_ = true;
  pump_timer_.expires_at(*at);
  pump_timer_.async_wait([this](const asio::error_code& e) {
    pump_armed_ = false;
    if (e || stopping_ || !replicator_) return;
    PumpNow(std::chrono::steady_clock::now());
  });
}

void Server::PumpNow(std::chrono::steady_clock::time_point now) {
  pacer_.OnPump(now, region_->log().end());
  replicator_->Pump();
}

absl::Status Server::StartAofRewrite() {
  // Without an AOF a rewrite would leave a file that is stale from its first moment.
  if (!region_->appendonly()) return absl::FailedPreconditionError("appendonly is off");
  absl::Status s = region_->StartRewrite();
  if (!s.ok()) return s;
  spdlog::info("Background append only file rewriting started");
  asio::post(io_, [this] { AofRewriteStep(); });
  return absl::OkStatus();
}

absl::Status Server::StartBgSave() {
  last_bgsave_try_ms_ = region_->NowMs();
  absl::Status s = region_->StartSave();
  if (!s.ok()) return s;
  spdlog::info("Background saving started");
  asio::post(io_, [this] { BgSaveStep(); });
  return absl::OkStatus();
}

void Server::BgSaveStep() {
  if (stopping_) return;
  bool running = false;
  region_->SaveStep(&running);
  if (running) {
    asio::post(io_, [this] { BgSaveStep(); });
    return;
  }
  const Region::SaveStats& st = region_->save_stats();
  if (st.last_status.ok()) {
    spdlog::info("Background saving terminated with success: {} bytes in {} ms", st.bytes,
                 st.last_duration_ms);
  } else {
    spdlog::error("Background saving error: {}", std::string(st.last_status.message()));
  }
}

absl::Status Server::SaveNow() {
  // A running rewrite holds the keyspace's snapshot: finish it first (this blocks anyway).
  while (region_->rewrite_stats().in_progress) {
    if (AdvanceRewrite()) std::this_thread::sleep_for(kSaveSyncPoll);
  }
  if (region_->save_stats().in_progress) {
    return absl::FailedPreconditionError("Background save already in progress");
  }
  absl::Status s = region_->StartSave();
  if (!s.ok()) return s;
  bool running = true;
  while (running) {
    region_->SaveStep(&running);
    if (running) std::this_thread::sleep_for(kSaveSyncPoll);
  }
  const Region::SaveStats& st = region_->save_stats();
  if (st.last_status.ok()) spdlog::info("DB saved on disk: {} bytes", st.bytes);
  return st.last_status;
}

int64_t Server::LastSaveUnixSeconds() const {
  const int64_t saved = region_->save_stats().last_save_unix_s;
  return saved != 0 ? saved : started_unix_s_;
}

void Server::StartScheduledSnapshots() {
  if (region_->snapshot_busy()) return;
  if (rewrite_scheduled_) {
    rewrite_scheduled_ = false;
    StartAofRewrite().IgnoreError();
    return;
  }
  if (bgsave_scheduled_) {
    bgsave_scheduled_ = false;
    StartBgSave().IgnoreError();
    return;
  }
  // The save rules; a failed BGSAVE is retried after kBgSaveRetryDelay only (Redis's
  // CONFIG_BGSAVE_RETRY_DELAY).
  const Region::SaveStats& st = region_->save_stats();
  const int64_t now_ms = region_->NowMs();
  if (!st.last_status.ok() && now_ms - last_bgsave_try_ms_ < kBgSaveRetryDelayMs) return;
  for (const topology::SaveRule& rule : config_.save) {
    const uint64_t changes = region_->changes_since_save();
    if (changes >= static_cast<uint64_t>(rule.changes) &&
        now_ms / 1000 - st.last_save_unix_s > rule.seconds) {
      spdlog::info("{} changes in {} seconds. Saving...", rule.changes, rule.seconds);
      StartBgSave().IgnoreError();
      return;
    }
  }
}

void Server::AofRewriteStep() {
  if (stopping_) return;
  // Other handlers (clients, replication) run between steps.
  if (AdvanceRewrite()) asio::post(io_, [this] { AofRewriteStep(); });
}

bool Server::AdvanceRewrite() {
  bool running = false;
  absl::Status s = region_->RewriteStep(&running);
  if (!s.ok()) {
    spdlog::critical("AOF rewrite: could not reopen the AOF: {}; exiting",
                     std::string(s.message()));
    std::exit(1);
  }
  if (running) return true;
  const Region::RewriteStats& st = region_->rewrite_stats();
  if (st.last_status.ok()) {
    spdlog::info("Background AOF rewrite finished successfully: {} bytes ({} of snapshot) in {} ms",
                 st.base_size, st.snapshot_bytes, st.last_duration_ms);
  } else {
    spdlog::error("Background AOF rewrite failed: {}", std::string(st.last_status.message()));
  }
  // Every record is durable now (in the new file, or the old one synced): replies and
  // replication waiting on it can go.
  WakeWaiters();
  ScheduleAofFlush();
  return false;
}

void Server::CloseIdleClients() {
  if (config_.timeout <= 0) return;
  const int64_t now = region_->NowMs();
  // A copy: Close() may unregister.
  std::vector<Connection*> conns = connections_;
  for (Connection* c : conns) {
    const Client& cl = c->client();
    // As Redis's clientsCronHandleTimeout: not while blocked or subscribed.
    if (cl.blocked || cl.subs.any()) continue;
    if (now - cl.last_interaction_ms > config_.timeout * 1000) {
      spdlog::debug("Closing idle client id={} addr={}", cl.id, cl.addr);
      c->Close();
    }
  }
}

void Server::Cron() {
  region_->RefreshClock();
  // A new data directory waits for its peers before it writes (Region::joining); when some stay
  // silent, it takes an incarnation none of them can know.
  if (region_->rejoining() && replicator_) {
    const auto waited = std::chrono::steady_clock::now() - join_started_;
    if (region_->joining() && waited >= kJoinTimeout) {
      spdlog::warn(
          "new data directory: not every peer answered within {} s; taking a fresh "
          "incarnation",
          std::chrono::duration_cast<std::chrono::seconds>(kJoinTimeout).count());
      replicator_->JoinNow(
          static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count()));
    } else if (!region_->joining() && waited >= kJoinTimeout) {
      // Peers that are down cannot be waited for (as for the join): what the connected ones
      // held is enough.
      replicator_->CatchUpNow();
    }
  }
  if (joining_logged_ && !region_->rejoining()) {
    joining_logged_ = false;
    spdlog::info("caught up with the peers: writing as origin {}", region_->ks().local_name());
  }
  // A peer needs a full resync and there is no AOF to serve it from: a fresh snapshot. (A save
  // that began since the request may serve it: the replicator asks again if not.)
  if (region_->TakeResyncSnapshotRequest() && !region_->snapshot_busy()) {
    StartBgSave().IgnoreError();
  }
  if (config_.appendonly && !region_->appendonly() && !region_->snapshot_busy()) TurnAofOn();
  // Automatic AOF rewrite.
  if (const Region::RewriteStats& rw = region_->rewrite_stats();
      !region_->snapshot_busy() && config_.auto_aof_rewrite_percentage > 0) {
    const uint64_t size = region_->aof()->stats().file_size;
    const uint64_t base = std::max<uint64_t>(rw.base_size, 1);
    if (size >= static_cast<uint64_t>(config_.auto_aof_rewrite_min_size) &&
        (size - std::min(size, base)) * 100 / base >=
            static_cast<uint64_t>(config_.auto_aof_rewrite_percentage)) {
      spdlog::info("Starting automatic rewriting of AOF on {}% growth",
                   (size - std::min(size, base)) * 100 / base);
      StartAofRewrite().IgnoreError();
    }
  }
  // Scheduled BGREWRITEAOF / BGSAVE, and the save rules.
  StartScheduledSnapshots();
  if (backups_) backups_->Tick(region_->NowMs());
  // Active expiry, bounded per tick.
  for (int round = 0; round < kExpireRoundsPerCron; ++round) {
    size_t n = region_->ExpireSome(kExpireKeysPerRound);
    region_->Commit();
    if (n < kExpireKeysPerRound) break;
  }
  // Retry a failing AOF; make sure buffered records reach the file.
  ScheduleAofFlush();
  // Heartbeats, reconnects, acks.
  if (replicator_) replicator_->Pump();
  CloseIdleClients();
  // instantaneous_ops_per_sec
  int64_t now = region_->NowMs();
  if (stats_.ops_sample_ms != 0 && now > stats_.ops_sample_ms) {
    double rate = static_cast<double>(stats_.total_commands_processed - stats_.ops_sample_base) *
                  1000.0 / static_cast<double>(now - stats_.ops_sample_ms);
    stats_.ops_per_sec = stats_.ops_per_sec * 0.5 + rate * 0.5;
  }
  stats_.ops_sample_base = stats_.total_commands_processed;
  stats_.ops_sample_ms = now;
  cron_timer_.expires_after(kCronPeriod);
  cron_timer_.async_wait([this](const asio::error_code& e) {
    if (!e) Cron();
  });
}

}  // namespace activekv::server
