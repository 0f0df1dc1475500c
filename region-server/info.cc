#include "region-server/info.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "region-server/backup_scheduler.h"
#include "region-server/connection.h"
#include "region-server/memory_limit.h"
#include "region-server/region.h"
#include "region-server/server.h"
#include "syncer/replicator.h"

namespace activekv::server {
namespace {

uint64_t RssBytes() {
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  uint64_t pages = 0, rss = 0;
  int n = fscanf(f, "%" SCNu64 " %" SCNu64, &pages, &rss);
  fclose(f);
  return n == 2 ? rss * static_cast<uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

std::string Human(uint64_t bytes) {
  double b = static_cast<double>(bytes);
  if (b < 1024) return absl::StrCat(bytes, "B");
  if (b < 1024.0 * 1024) return absl::StrFormat("%.2fK", b / 1024);
  if (b < 1024.0 * 1024 * 1024) return absl::StrFormat("%.2fM", b / 1024 / 1024);
  return absl::StrFormat("%.2fG", b / 1024 / 1024 / 1024);
}

void Section(std::string* out, std::string_view title) {
  if (!out->empty()) out->append("\r\n");
  absl::StrAppend(out, "# ", std::string(title), "\r\n");
}

void Field(std::string* out, std::string_view name, const absl::AlphaNum& value) {
  absl::StrAppend(out, std::string(name), ":", value, "\r\n");
}

// Redis 7's loading_* fields (genRedisInfoString), from the loader thread's atomics.
void LoadingFields(std::string* out, Server& server, int64_t now_ms) {
  const persistence::RecoveryProgress& p = server.load_progress();
  uint64_t total = p.total_bytes.load(std::memory_order_relaxed);
  uint64_t loaded = std::min(p.loaded_bytes.load(std::memory_order_relaxed), total);
  double perc = 0;
  uint64_t remaining = 1;
  if (total > 0) {
    perc = static_cast<double>(loaded) / static_cast<double>(total) * 100;
    remaining = total - loaded;
  }
  int64_t start_s = server.load_start_ms() / 1000;
  int64_t elapsed = std::max<int64_t>(0, now_ms / 1000 - start_s);
  // As Redis: a fake 1 s before a whole second has passed.
  int64_t eta =
      elapsed == 0
          ? 1
          : static_cast<int64_t>(static_cast<uint64_t>(elapsed) * remaining / (loaded + 1));
  Field(out, "loading_start_time", start_s);
  Field(out, "loading_total_bytes", total);
  Field(out, "loading_rdb_used_mem", 0);
  Field(out, "loading_loaded_bytes", loaded);
  Field(out, "loading_loaded_perc", absl::StrFormat("%.2f", perc));
  Field(out, "loading_eta_seconds", eta);
}

std::string BuildInfo(Server& server, const std::vector<std::string>& wanted) {
  auto want = [&](std::string_view section, bool in_default) {
    if (wanted.empty()) return in_default;
    for (const std::string& w : wanted) {
      if (w == section || w == "all" || w == "everything" || (w == "default" && in_default)) {
        return true;
      }
    }
    return false;
  };
  Region& region = server.region();
  const crdt::Keyspace& ks = region.ks();
  int64_t now = region.NowMs();
  std::string out;
  if (want("server", true)) {
    Section(&out, "Server");
    struct utsname u;
    uname(&u);
    int64_t uptime = (now - server.start_ms()) / 1000;
    Field(&out, "redis_version", std::string(kRedisVersion));
    Field(&out, "activekv_version", std::string(kActivekvVersion));
    Field(&out, "redis_mode", "standalone");
    Field(&out, "os", absl::StrCat(u.sysname, " ", u.release, " ", u.machine));
    Field(&out, "arch_bits", 64);
    Field(&out, "process_id", getpid());
    Field(&out, "tcp_port", server.config().port);
    Field(&out, "uptime_in_seconds", uptime);
    Field(&out, "uptime_in_days", uptime / 86400);
    Field(&out, "hz", server.config().hz);
    Field(&out, "config_file", server.options().topology.source_path);
  }
  if (want("clients", true)) {
    Section(&out, "Clients");
    Field(&out, "connected_clients", server.clients().size());
    Field(&out, "maxclients", server.config().maxclients);
    Field(&out, "blocked_clients", server.blocking().blocked_clients());
  }
  if (want("memory", true)) {
    Section(&out, "Memory");
    uint64_t rss = RssBytes();
    uint64_t used = server.memory_limit().Used(now);
    Field(&out, "used_memory", used);
    Field(&out, "used_memory_human", Human(used));
    Field(&out, "used_memory_rss", rss);
    Field(&out, "used_memory_rss_human", Human(rss));
    Field(&out, "maxmemory", server.memory_limit().maxmemory());
    Field(&out, "maxmemory_human", Human(server.memory_limit().maxmemory()));
    Field(&out, "maxmemory_policy", "noeviction");
    Field(&out, "mem_allocator", "libc");
  }
  if (want("persistence", true)) {
    Section(&out, "Persistence");
    Field(&out, "loading", server.loading() ? 1 : 0);
    Field(&out, "async_loading", 0);
    if (server.loading()) {
      // The AOF is not open yet (the loader thread owns the region): no AOF counters.
      Field(&out, "rdb_changes_since_last_save", 0);
      Field(&out, "rdb_bgsave_in_progress", 0);
      Field(&out, "aof_enabled", server.config().appendonly ? 1 : 0);
      Field(&out, "aof_rewrite_in_progress", 0);
      Field(&out, "aof_last_write_status", "ok");
      Field(&out, "aof_appendfsync", server.config().appendfsync);
      LoadingFields(&out, server, now);
    } else {
      persistence::Aof* aof = region.aof();
      persistence::Aof::Stats st = aof->stats();
      absl::Status health = aof->health();
      const Region::SaveStats& sv = region.save_stats();
      Field(&out, "current_save_keys_processed", sv.in_progress ? sv.keys_written : 0);
      Field(&out, "current_save_keys_total", sv.in_progress ? sv.keys_total : 0);
      Field(&out, "rdb_changes_since_last_save", region.changes_since_save());
      Field(&out, "rdb_bgsave_in_progress", sv.in_progress ? 1 : 0);
      Field(&out, "rdb_last_save_time", server.LastSaveUnixSeconds());
      Field(&out, "rdb_last_bgsave_status", sv.last_status.ok() ? "ok" : "err");
      if (!sv.last_status.ok()) {
        Field(&out, "rdb_last_bgsave_error", std::string(sv.last_status.message()));
      }
      Field(&out, "rdb_last_bgsave_time_sec",
            sv.last_duration_ms < 0 ? -1 : sv.last_duration_ms / 1000);
      Field(&out, "rdb_current_bgsave_time_sec",
            sv.in_progress ? (region.NowMs() - sv.started_unix_ms) / 1000 : -1);
      Field(&out, "rdb_saves", sv.saves);
      Field(&out, "rdb_bgsave_scheduled", server.bgsave_scheduled() ? 1 : 0);
      Field(&out, "rdb_last_save_bytes", sv.bytes);
      if (const BackupScheduler* b = server.backups()) {
        const v1::BackupStatus bs = b->status();
        Field(&out, "backup_location", bs.location());
        Field(&out, "backup_in_progress", bs.in_progress() ? 1 : 0);
        Field(&out, "backup_last_status", bs.last_error().empty() ? "ok" : "err");
        if (!bs.last_error().empty()) Field(&out, "backup_last_error", bs.last_error());
        Field(&out, "backup_last_success_unix_ms", bs.last_success_unix_ms());
        Field(&out, "backups_completed", bs.completed());
        Field(&out, "backup_failures", bs.failures());
        Field(&out, "backup_next_unix_ms", bs.next_unix_ms());
      }
      Field(&out, "aof_enabled", server.config().appendonly ? 1 : 0);
      const Region::RewriteStats& rw = region.rewrite_stats();
      Field(&out, "aof_rewrite_in_progress", rw.in_progress ? 1 : 0);
      Field(&out, "aof_rewrite_scheduled", server.rewrite_scheduled() ? 1 : 0);
      Field(&out, "aof_last_rewrite_time_sec",
            rw.last_duration_ms < 0 ? -1 : rw.last_duration_ms / 1000);
      Field(&out, "aof_current_rewrite_time_sec",
            rw.in_progress ? (region.NowMs() - rw.started_unix_ms) / 1000 : -1);
      Field(&out, "aof_last_bgrewrite_status", rw.last_status.ok() ? "ok" : "err");
      if (!rw.last_status.ok()) {
        Field(&out, "aof_last_bgrewrite_error", std::string(rw.last_status.message()));
      }
      Field(&out, "aof_rewrites", rw.rewrites);
      Field(&out, "aof_last_write_status", health.ok() ? "ok" : "err");
      if (!health.ok()) Field(&out, "aof_last_error", std::string(health.message()));
      // As Redis: the file's figures only while there is one.
      if (region.appendonly()) {
        Field(&out, "aof_current_size", st.file_size);
        Field(&out, "aof_base_size", rw.base_size);
        Field(&out, "aof_snapshot_bytes", rw.snapshot_bytes);
        Field(&out, "aof_appendfsync", server.config().appendfsync);
        Field(&out, "aof_appended_lsn", st.appended_lsn);
        Field(&out, "aof_durable_lsn", st.durable_lsn);
        Field(&out, "aof_synced_lsn", st.synced_lsn);
        // A power loss cannot cut the file below this size; acknowledged writes after the moment
        // its bytes had been written may be lost by one (chaos suite, docs/operations.md).
        Field(&out, "aof_fsynced_size", st.synced_size);
        Field(&out, "aof_fsynced_as_of_ms", st.synced_as_of_unix_ms);
        Field(&out, "aof_fsyncs", st.fsyncs);
        Field(&out, "aof_last_fsync_unix_ms", st.last_fsync_unix_ms);
        Field(&out, "aof_write_errors", st.write_errors + st.fsync_errors);
      }
    }
  }
  if (want("stats", true)) {
    Section(&out, "Stats");
    ServerStats& s = server.stats();
    Field(&out, "total_connections_received", s.total_connections_received);
    Field(&out, "total_commands_processed", s.total_commands_processed);
    Field(&out, "instantaneous_ops_per_sec", static_cast<uint64_t>(s.ops_per_sec));
    Field(&out, "total_net_input_bytes", s.total_net_input_bytes);
    Field(&out, "total_net_output_bytes", s.total_net_output_bytes);
    Field(&out, "rejected_connections", s.rejected_connections);
    Field(&out, "expired_keys", region.expired_keys());
    Field(&out, "evicted_keys", 0);
    Field(&out, "pubsub_channels", server.pubsub().channel_count());
    Field(&out, "pubsub_patterns", server.pubsub().NumPat());
    Field(&out, "pubsubshard_channels", server.pubsub().shard_channel_count());
    Field(&out, "total_error_replies", 0);
    Field(&out, "unexpected_error_replies", 0);
    Field(&out, "protocol_errors", s.protocol_errors);
  }
  if (want("replication", true)) {
    Section(&out, "Replication");
    Field(&out, "role", "master");
    Field(&out, "connected_slaves", 0);
  }
  if (want("cpu", true)) {
    Section(&out, "CPU");
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    Field(&out, "used_cpu_sys",
          absl::StrFormat("%.6f", static_cast<double>(ru.ru_stime.tv_sec) +
                                      static_cast<double>(ru.ru_stime.tv_usec) / 1e6));
    Field(&out, "used_cpu_user",
          absl::StrFormat("%.6f", static_cast<double>(ru.ru_utime.tv_sec) +
                                      static_cast<double>(ru.ru_utime.tv_usec) / 1e6));
  }
  if (want("keyspace", true)) {
    Section(&out, "Keyspace");
    // Per logical database, through the SWAPDB mapping, as Redis prints it (avg_ttl: see
    // docs/crdt-semantics.md, "Databases").
    for (uint32_t db = 0; db < crdt::kDatabases; ++db) {
      const uint32_t ns = ks.NamespaceOf(db);
      if (ks.key_count(ns) == 0) continue;
      Field(&out, absl::StrCat("db", db),
            absl::StrCat("keys=", ks.key_count(ns), ",expires=", ks.deadlines(ns).size(),
                         ",avg_ttl=0"));
    }
  }
  if (want("crdt", true)) {
    Section(&out, "CRDT");
    Field(&out, "crdt_region", server.options().region);
    std::string regions;
    for (const auto& r : server.options().topology.regions) {
      absl::StrAppend(&regions, regions.empty() ? "" : ",", r.name);
    }
    if (server.loading()) {
      // Origin, vectors and keys are being replayed on the loader thread: known once loaded.
      Field(&out, "crdt_regions", regions);
    } else {
      Field(&out, "crdt_origin", ks.local_name());  // "name~N" after an unclean everysec restart
      Field(&out, "crdt_regions", regions);
      Field(&out, "crdt_version_vector", ks.applied().ToString(ks.regions()));
      Field(&out, "crdt_stable_vector", ks.stable().ToString(ks.regions()));
      Field(&out, "crdt_applied_ops", ks.applied_ops());
      Field(&out, "crdt_keys", ks.key_count());
      Field(&out, "crdt_joining", server.region().rejoining() ? 1 : 0);
      if (const syncer::Replicator* rep = server.replicator()) {
        syncer::NamedVV local = syncer::FromKeyspace(ks);
        for (const auto& peer : server.options().topology.regions) {
          if (peer.name == server.options().region) continue;
          const syncer::Replicator::LinkStats* link = rep->link(peer.name);
          Field(&out, absl::StrCat("crdt_peer_", peer.name),
                absl::StrCat(
                    "connected=", link != nullptr && link->connected ? 1 : 0,
                    ",lag_ops=", rep->core().LagOps(peer.name, local),
                    ",lag_ms=", rep->core().LagMs(peer.name, now),
                    ",bytes_received=", link != nullptr ? link->bytes_received : 0,
                    ",ops_received=", link != nullptr ? link->ops_received : 0,
                    ",batches_received=", link != nullptr ? link->batches_received : 0,
                    ",full_resyncs_sent=",
                    rep->core().stats(peer.name) != nullptr
                        ? rep->core().stats(peer.name)->full_resyncs_sent
                        : 0,
                    ",snapshots_received=", link != nullptr ? link->full_resyncs_received : 0,
                    ",messages_received=", link != nullptr ? link->messages_received : 0,
                    ",ack=", link != nullptr ? link->ack_state : "none",
                    ",sending=", rep->SendState(peer.name)));
          // Its own field: the text has commas and spaces (a refused TLS handshake's reason).
          if (link != nullptr && !link->last_error.empty()) {
            std::string error = link->last_error;
            for (char& c : error) {
              if (c == '\r' || c == '\n') c = ' ';
            }
            Field(&out, absl::StrCat("crdt_link_error_", peer.name), error);
          }
        }
        // Pub/sub messages queued for peers' streams (one per peer), and dropped because a
        // peer's stream had too many waiting (docs/messaging.md).
        Field(&out, "crdt_pubsub_messages_sent", rep->messages_sent());
        Field(&out, "crdt_pubsub_messages_dropped", rep->messages_dropped());
      }
    }
  }
  return out;
}

}  // namespace

void InfoCommand(CommandContext& ctx) {
  std::vector<std::string> wanted;
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    std::string s(ctx.args[i]);
    absl::AsciiStrToLower(&s);
    wanted.push_back(std::move(s));
  }
  ctx.reply->Verbatim(BuildInfo(*ctx.server, wanted));
}

namespace {
// Redis's CLIENT LIST flags, of those activekv has, in its order: P (pub/sub), x (MULTI),
// b (blocked), d (a watched key changed), c (close after reply); N for none.
std::string ClientFlags(const Client& cl) {
  std::string flags;
  if (cl.subs.any()) flags += 'P';
  if (cl.tx.multi) flags += 'x';
  if (cl.blocked) flags += 'b';
  if (cl.tx.dirty_cas) flags += 'd';
  if (cl.close_after_reply) flags += 'c';
  return flags.empty() ? "N" : flags;
}
}  // namespace

std::string ClientInfoLine(Server& server, const Connection& c) {
  const Client& cl = c.client();
  int64_t now = server.region().NowMs();
  return absl::StrCat(
      "id=", cl.id, " addr=", cl.addr, " laddr=", cl.laddr, " fd=-1 name=", cl.name,
      " age=", (now - cl.created_ms) / 1000, " idle=", (now - cl.last_interaction_ms) / 1000,
      " flags=", ClientFlags(cl), " db=", cl.db, " sub=", cl.subs.channels.size(),
      " psub=", cl.subs.patterns.size(), " ssub=", cl.subs.shard_channels.size(),
      " multi=", cl.tx.multi ? static_cast<int64_t>(cl.tx.queued.size()) : -1,
      " qbuf=", c.query_buffer_size(),
      " qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=", c.output_buffer_size(),
      " tot-mem=0 events=r cmd=", cl.last_command,
      " user=", cl.user != nullptr ? cl.user->name : std::string("default"),
      " redir=-1 resp=", cl.protocol, " lib-name=", cl.lib_name, " lib-ver=", cl.lib_ver);
}

}  // namespace activekv::server
