// CONFIG GET / SET / RESETSTAT / REWRITE / HELP over the parameters activekv has.
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crdt/redis_number.h"
#include "region-server/glob.h"
#include "region-server/info.h"
#include "region-server/notify.h"
#include "region-server/region.h"
#include "region-server/scripting.h"
#include "region-server/server.h"
#include "spdlog/spdlog.h"

namespace activekv::server {
namespace {

// Returns an error text ("" on success) for CONFIG SET.
using Setter = std::function<std::string(Server&, std::string_view)>;
using Getter = std::function<std::string(Server&)>;

struct Param {
  std::string_view name;
  Getter get;
  Setter set;  // empty: immutable
};

Setter IntSetter(int64_t min, int64_t max, const std::function<void(Server&, int64_t)>& apply) {
  return [=](Server& s, std::string_view v) -> std::string {
    int64_t n;
    if (!crdt::ParseRedisInt(v, &n)) return "argument couldn't be parsed into an integer";
    if (n < min || n > max) {
      return absl::StrCat("argument must be between ", min, " and ", max, " inclusive");
    }
    apply(s, n);
    return "";
  };
}

// Redis's memtoull: digits with an optional unit (b, k/kb, m/mb, g/gb; k = 1000, kb = 1024).
bool ParseMemory(std::string_view text, uint64_t* out) {
  size_t digits = 0;
  while (digits < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[digits]))) {
    ++digits;
  }
  if (digits == 0 || digits > 19) return false;
  std::string unit(text.substr(digits));
  absl::AsciiStrToLower(&unit);
  uint64_t mul;
  if (unit.empty() || unit == "b") {
    mul = 1;
  } else if (unit == "k") {
    mul = 1000;
  } else if (unit == "kb") {
    mul = 1024;
  } else if (unit == "m") {
    mul = 1000ull * 1000;
  } else if (unit == "mb") {
    mul = 1024ull * 1024;
  } else if (unit == "g") {
    mul = 1000ull * 1000 * 1000;
  } else if (unit == "gb") {
    mul = 1024ull * 1024 * 1024;
  } else {
    return false;
  }
  uint64_t n = 0;
  for (size_t i = 0; i < digits; ++i) n = n * 10 + static_cast<uint64_t>(text[i] - '0');
  if (n > UINT64_MAX / mul) return false;
  *out = n * mul;
  return true;
}

// Redis's memory parameters: a byte count with an optional unit, within [min, max].
Setter MemorySetter(uint64_t min, uint64_t max,
                    const std::function<void(Server&, uint64_t)>& apply) {
  return [=](Server& s, std::string_view v) -> std::string {
    uint64_t n;
    if (!ParseMemory(v, &n) || n > static_cast<uint64_t>(INT64_MAX)) {
      return "argument must be a memory value";
    }
    if (n < min || n > max) {
      return absl::StrCat("argument must be between ", min, " and ", max, " inclusive");
    }
    apply(s, n);
    return "";
  };
}

// maxmemory-policy: Redis's names; only noeviction is implemented (docs/security.md, "Limits").
std::string SetMaxmemoryPolicy(Server&, std::string_view v) {
  static constexpr std::string_view kPolicies[] = {
      "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
      "allkeys-lru",  "allkeys-lfu",  "allkeys-random",  "noeviction"};
  for (std::string_view p : kPolicies) {
    if (!EqualsIgnoreCase(v, p)) continue;
    if (p == "noeviction") return "";
    return absl::StrCat("activekv supports only noeviction: evicting '", std::string(p),
                        "' keys in one region would not remove them in the others "
                        "(docs/security.md)");
  }
  return "argument(s) must be one of the following: volatile-lru, volatile-lfu, "
         "volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction";
}

// client-output-buffer-limit: "<class> <hard> <soft> <soft seconds>" groups (Redis's rules and
// error texts; the replica class is kept for CONFIG GET only).
std::string GetOutputBufferLimits(Server& s) {
  std::string out;
  const std::pair<const char*, const ServerConfig::OutputBufferLimit*> classes[] = {
      {"normal", &s.config().obuf_normal},
      {"slave", &s.config().obuf_replica},
      {"pubsub", &s.config().obuf_pubsub}};
  for (const auto& [name, limit] : classes) {
    absl::StrAppend(&out, out.empty() ? "" : " ", name, " ", limit->hard, " ", limit->soft, " ",
                    limit->soft_seconds);
  }
  return out;
}

std::string SetOutputBufferLimits(Server& s, std::string_view value) {
  std::vector<std::string_view> words;
  for (absl::string_view w :
       absl::StrSplit(absl::string_view(value.data(), value.size()), ' ', absl::SkipEmpty())) {
    words.emplace_back(w.data(), w.size());
  }
  if (words.size() % 4 != 0) return "Wrong number of arguments in buffer limit configuration.";
  std::vector<std::pair<ServerConfig::OutputBufferLimit*, ServerConfig::OutputBufferLimit>> set;
  for (size_t i = 0; i < words.size(); i += 4) {
    ServerConfig::OutputBufferLimit* target;
    if (EqualsIgnoreCase(words[i], "normal")) {
      target = &s.config().obuf_normal;
    } else if (EqualsIgnoreCase(words[i], "slave") || EqualsIgnoreCase(words[i], "replica")) {
      target = &s.config().obuf_replica;
    } else if (EqualsIgnoreCase(words[i], "pubsub")) {
      target = &s.config().obuf_pubsub;
    } else {
      return "Invalid client class specified in buffer limit configuration.";
    }
    ServerConfig::OutputBufferLimit limit;
    int64_t seconds;
    if (!ParseMemory(words[i + 1], &limit.hard) || !ParseMemory(words[i + 2], &limit.soft) ||
        !crdt::ParseRedisInt(words[i + 3], &seconds) || seconds < 0) {
      return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
    }
    limit.soft_seconds = seconds;
    set.emplace_back(target, limit);
  }
  for (const auto& [target, limit] : set) *target = limit;
  return "";
}

// tls-* (docs/security.md, "Clients over TLS"): settings of the RESP TLS port. CONFIG SET
// changes them all first, then builds one new context (ConfigSet); connections keep theirs.
Param TlsString(std::string_view name, std::string tls::Settings::*field) {
  return {name, [field](Server& s) { return s.config().tls.*field; },
          [field](Server& s, std::string_view v) -> std::string {
            s.config().tls.*field = std::string(v);
            return "";
          }};
}
Param TlsBool(std::string_view name, bool tls::Settings::*field) {
  return {name, [field](Server& s) { return std::string(s.config().tls.*field ? "yes" : "no"); },
          [field](Server& s, std::string_view v) -> std::string {
            if (!EqualsIgnoreCase(v, "yes") && !EqualsIgnoreCase(v, "no")) {
              return "argument must be 'yes' or 'no'";
            }
            s.config().tls.*field = EqualsIgnoreCase(v, "yes");
            return "";
          }};
}
Param TlsInt(std::string_view name, int64_t tls::Settings::*field) {
  return {name, [field](Server& s) { return absl::StrCat(s.config().tls.*field); },
          IntSetter(0, INT32_MAX, [field](Server& s, int64_t n) { s.config().tls.*field = n; })};
}
// Accepted and shown, without effect: a region makes no outgoing RESP connections (regions
// replicate over the sync port, with the topology's tls).
Param TlsUnused(std::string_view name) {
  return {name, [](Server&) { return std::string(); },
          [](Server&, std::string_view) -> std::string { return ""; }};
}
bool IsTlsParam(std::string_view name) { return name.substr(0, 4) == "tls-"; }

const std::vector<Param>& Params() {
  static const std::vector<Param>* params = new std::vector<Param>{
      {"appendonly", [](Server& s) { return std::string(s.config().appendonly ? "yes" : "no"); },
       [](Server& s, std::string_view v) -> std::string {
         if (!EqualsIgnoreCase(v, "yes") && !EqualsIgnoreCase(v, "no")) {
           return "argument must be 'yes' or 'no'";
         }
         s.SetAppendonly(EqualsIgnoreCase(v, "yes"));
         return "";
       }},
      {"appendfsync", [](Server& s) { return s.config().appendfsync; },
       [](Server& s, std::string_view v) -> std::string {
         std::string lower(v);
         absl::AsciiStrToLower(&lower);
         absl::StatusOr<persistence::FsyncPolicy> p = persistence::ParseFsyncPolicy(lower);
         if (!p.ok()) return "argument(s) must be one of the following: everysec, always, no";
         absl::Status st = s.region().SetFsyncPolicy(*p);
         if (!st.ok()) return std::string(st.message());
         s.config().appendfsync = lower;
         return "";
       }},
      {"appendfilename", [](Server&) { return std::string("appendonly.aof"); }, nullptr},
      {"dir", [](Server& s) { return s.config().dir; }, nullptr},
      {"port", [](Server& s) { return absl::StrCat(s.config().port); }, nullptr},
      {"bind", [](Server& s) { return s.config().bind_host; }, nullptr},
      {"databases", [](Server&) { return absl::StrCat(crdt::kDatabases); }, nullptr},
      {"save", [](Server& s) { return topology::SaveRulesText(s.config().save); },
       [](Server& s, std::string_view v) -> std::string {
         absl::StatusOr<std::vector<topology::SaveRule>> rules = topology::ParseSaveRules(v);
         if (!rules.ok()) return std::string(rules.status().message());
         s.config().save = *std::move(rules);
         s.ApplySaveErrorPolicy();
         return "";
       }},
      {"stop-writes-on-bgsave-error",
       [](Server& s) { return std::string(s.config().stop_writes_on_bgsave_error ? "yes" : "no"); },
       [](Server& s, std::string_view v) -> std::string {
         if (!EqualsIgnoreCase(v, "yes") && !EqualsIgnoreCase(v, "no")) {
           return "argument must be 'yes' or 'no'";
         }
         s.config().stop_writes_on_bgsave_error = EqualsIgnoreCase(v, "yes");
         s.ApplySaveErrorPolicy();
         return "";
       }},
      {"requirepass", [](Server& s) { return s.requirepass(); },
       [](Server& s, std::string_view v) -> std::string {
         s.SetRequirePass(v);
         return "";
       }},
      {"maxmemory", [](Server& s) { return absl::StrCat(s.memory_limit().maxmemory()); },
       MemorySetter(0, INT64_MAX,
                    [](Server& s, uint64_t n) {
                      const uint64_t used = s.memory_limit().Used(s.region().NowMs());
                      if (n != 0 && n < used) {
                        spdlog::warn(
                            "WARNING: the new maxmemory value set via CONFIG SET ({}) is "
                            "smaller than the current memory usage ({}). Client writes that may "
                            "grow memory are refused (noeviction) until usage drops below it.",
                            n, used);
                      }
                      s.memory_limit().set_maxmemory(n);
                    })},
      {"maxmemory-policy", [](Server&) { return std::string("noeviction"); }, SetMaxmemoryPolicy},
      {"proto-max-bulk-len", [](Server& s) { return absl::StrCat(s.config().proto_max_bulk_len); },
       MemorySetter(1024ull * 1024, INT64_MAX,
                    [](Server& s, uint64_t n) { s.config().proto_max_bulk_len = n; })},
      {"client-query-buffer-limit",
       [](Server& s) { return absl::StrCat(s.config().client_query_buffer_limit); },
       MemorySetter(1024ull * 1024, INT64_MAX,
                    [](Server& s, uint64_t n) { s.config().client_query_buffer_limit = n; })},
      {"maxclients", [](Server& s) { return absl::StrCat(s.config().maxclients); },
       IntSetter(1, UINT32_MAX, [](Server& s, int64_t n) { s.config().maxclients = n; })},
      {"timeout", [](Server& s) { return absl::StrCat(s.config().timeout); },
       IntSetter(0, INT32_MAX, [](Server& s, int64_t n) { s.config().timeout = n; })},
      {"auto-aof-rewrite-percentage",
       [](Server& s) { return absl::StrCat(s.config().auto_aof_rewrite_percentage); },
       IntSetter(0, INT32_MAX,
                 [](Server& s, int64_t n) { s.config().auto_aof_rewrite_percentage = n; })},
      {"auto-aof-rewrite-min-size",
       [](Server& s) { return absl::StrCat(s.config().auto_aof_rewrite_min_size); },
       MemorySetter(0, INT64_MAX,
                    [](Server& s, uint64_t n) {
                      s.config().auto_aof_rewrite_min_size =
                          static_cast<int64_t>(n);  // <= INT64_MAX
                    })},
      {"hz", [](Server& s) { return absl::StrCat(s.config().hz); },
       IntSetter(1, 500, [](Server& s, int64_t n) { s.config().hz = n; })},
      {"busy-reply-threshold",
       [](Server& s) { return absl::StrCat(s.config().busy_reply_threshold); },
       IntSetter(0, INT64_MAX, [](Server& s, int64_t n) { s.config().busy_reply_threshold = n; })},
      {"lua-memory-limit", [](Server& s) { return absl::StrCat(s.config().lua_memory_limit); },
       IntSetter(1 << 20, INT64_MAX,
                 [](Server& s, int64_t n) {
                   s.config().lua_memory_limit = n;
                   s.scripting().SetMemoryLimit(static_cast<size_t>(n));
                 })},
      {"client-output-buffer-limit", GetOutputBufferLimits, SetOutputBufferLimits},
      {"notify-keyspace-events",
       [](Server& s) { return NotifyFlagsToString(s.notifier().flags()); },
       [](Server& s, std::string_view v) -> std::string {
         uint32_t flags;
         if (!ParseNotifyFlags(v, &flags)) return std::string(kErrNotifyClass);
         s.notifier().set_flags(flags);
         return "";
       }},
      {"lua-time-limit", [](Server& s) { return absl::StrCat(s.config().busy_reply_threshold); },
       IntSetter(0, INT64_MAX, [](Server& s, int64_t n) { s.config().busy_reply_threshold = n; })},
      {"tls-port", [](Server& s) { return absl::StrCat(s.config().tls_port); }, nullptr},
      TlsString("tls-cert-file", &tls::Settings::cert_file),
      TlsString("tls-key-file", &tls::Settings::key_file),
      TlsString("tls-key-file-pass", &tls::Settings::key_file_pass),
      TlsString("tls-ca-cert-file", &tls::Settings::ca_cert_file),
      TlsString("tls-ca-cert-dir", &tls::Settings::ca_cert_dir),
      TlsString("tls-dh-params-file", &tls::Settings::dh_params_file),
      TlsString("tls-protocols", &tls::Settings::protocols),
      TlsString("tls-ciphers", &tls::Settings::ciphers),
      TlsString("tls-ciphersuites", &tls::Settings::ciphersuites),
      {"tls-auth-clients",
       [](Server& s) { return std::string(tls::AuthClientsName(s.config().tls.auth_clients)); },
       [](Server& s, std::string_view v) -> std::string {
         if (!tls::ParseAuthClients(v, &s.config().tls.auth_clients)) {
           return "argument(s) must be one of the following: no, yes, optional";
         }
         return "";
       }},
      TlsBool("tls-prefer-server-ciphers", &tls::Settings::prefer_server_ciphers),
      TlsBool("tls-session-caching", &tls::Settings::session_caching),
      TlsInt("tls-session-cache-size", &tls::Settings::session_cache_size),
      TlsInt("tls-session-cache-timeout", &tls::Settings::session_cache_timeout_s),
      TlsUnused("tls-client-cert-file"),
      TlsUnused("tls-client-key-file"),
      TlsUnused("tls-client-key-file-pass"),
      {"tls-replication", [](Server&) { return std::string("no"); }, nullptr},
      {"tls-cluster", [](Server&) { return std::string("no"); }, nullptr},
  };
  return *params;
}

const Param* FindParam(std::string_view name) {
  for (const Param& p : Params()) {
    if (EqualsIgnoreCase(p.name, name)) return &p;
  }
  return nullptr;
}

void ConfigGet(CommandContext& ctx) {
  std::vector<const Param*> hits;
  for (size_t i = 2; i < ctx.args.size(); ++i) {
    for (const Param& p : Params()) {
      bool dup = false;
      for (const Param* h : hits) dup |= h == &p;
      if (!dup && GlobMatch(ctx.args[i], p.name, true)) hits.push_back(&p);
    }
  }
  ctx.reply->MapLen(hits.size());
  for (const Param* p : hits) {
    // A parameter asked for by its exact name is echoed as asked (Redis 7.0).
    std::string_view name = p->name;
    for (size_t i = 2; i < ctx.args.size(); ++i) {
      if (EqualsIgnoreCase(ctx.args[i], p->name)) name = ctx.args[i];
    }
    ctx.reply->Bulk(name);
    ctx.reply->Bulk(p->get(*ctx.server));
  }
}

void ConfigSet(CommandContext& ctx) {
  if (ctx.args.size() < 4 || ctx.args.size() % 2 != 0) {
    ctx.reply->Error("ERR wrong number of arguments for 'config|set' command");
    return;
  }
  // Validate everything first, as Redis 7.0 does (all or nothing for unknown / immutable).
  for (size_t i = 2; i < ctx.args.size(); i += 2) {
    const Param* p = FindParam(ctx.args[i]);
    if (p == nullptr) {
      ctx.reply->Error(absl::StrCat("ERR Unknown option or number of arguments for CONFIG SET - '",
                                    std::string(ctx.args[i]), "'"));
      return;
    }
    if (!p->set) {
      ctx.reply->Error(absl::StrCat("ERR CONFIG SET failed (possibly related to argument '",
                                    std::string(ctx.args[i]), "') - can't set immutable config"));
      return;
    }
  }
  const tls::Settings tls_before = ctx.server->config().tls;
  const Param* first_tls = nullptr;
  for (size_t i = 2; i < ctx.args.size(); i += 2) {
    const Param* p = FindParam(ctx.args[i]);
    std::string err = p->set(*ctx.server, ctx.args[i + 1]);
    if (!err.empty()) {
      ctx.server->config().tls = tls_before;
      ctx.reply->Error(absl::StrCat("ERR CONFIG SET failed (possibly related to argument '",
                                    std::string(ctx.args[i]), "') - ", err));
      return;
    }
    if (first_tls == nullptr && IsTlsParam(p->name)) first_tls = p;
  }
  // As Redis's applyTlsCfg: one new context for all the tls-* values set; if it cannot be built
  // they all go back (a certificate and its key are changed together, in one CONFIG SET).
  if (first_tls != nullptr && !ctx.server->ReloadTls().ok()) {
    ctx.server->config().tls = tls_before;
    ctx.reply->Error(absl::StrCat("ERR CONFIG SET failed (possibly related to argument '",
                                  std::string(first_tls->name),
                                  "') - Unable to update TLS configuration. Check server logs."));
    return;
  }
  ctx.reply->Ok();
}

}  // namespace

void ConfigCommand(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  if (EqualsIgnoreCase(sub, "get") && ctx.args.size() >= 3) {
    ConfigGet(ctx);
  } else if (EqualsIgnoreCase(sub, "set")) {
    ConfigSet(ctx);
  } else if (EqualsIgnoreCase(sub, "resetstat") && ctx.args.size() == 2) {
    ServerStats& s = ctx.server->stats();
    s = ServerStats{};
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "rewrite") && ctx.args.size() == 2) {
    ctx.reply->Error("ERR The server is running without a config file");
  } else if (EqualsIgnoreCase(sub, "help") && ctx.args.size() == 2) {
    static const char* kHelp[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        "HELP",
        "    Print this help."};
    ctx.reply->ArrayLen(std::size(kHelp));
    for (const char* line : kHelp) ctx.reply->SimpleString(line);
  } else if (EqualsIgnoreCase(sub, "get") || EqualsIgnoreCase(sub, "resetstat") ||
             EqualsIgnoreCase(sub, "rewrite") || EqualsIgnoreCase(sub, "help")) {
    std::string lower(sub);
    absl::AsciiStrToLower(&lower);
    ctx.reply->Error(
        absl::StrCat("ERR wrong number of arguments for 'config|", lower, "' command"));
  } else {
    ctx.reply->Error(absl::StrCat("ERR unknown subcommand '", std::string(sub.substr(0, 128)),
                                  "'. Try CONFIG HELP."));
  }
}

}  // namespace activekv::server
