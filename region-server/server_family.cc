// PING ECHO QUIT SELECT RESET HELLO COMMAND CLIENT DBSIZE TIME CONFIG FLUSHALL FLUSHDB SWAPDB
// CRDT.DIGEST (INFO lives in info.cc).
#include <sys/time.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "region-server/acl/command_meta.h"
#include "region-server/command.h"
#include "region-server/connection.h"
#include "region-server/errors.h"
#include "region-server/glob.h"
#include "region-server/info.h"
#include "region-server/region.h"
#include "region-server/server.h"
#include "syncer/replicator.h"

namespace activekv::server {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  absl::AsciiStrToLower(&out);
  return out;
}

void ReplyUnknownSubcommand(CommandContext& ctx, std::string_view command) {
  ctx.reply->Error(absl::StrCat("ERR unknown subcommand '", std::string(ctx.args[1].substr(0, 128)),
                                "'. Try ", std::string(command), " HELP."));
}

void ReplySubcommandArity(CommandContext& ctx, std::string_view command) {
  ctx.reply->Error(absl::StrCat("ERR wrong number of arguments for '", std::string(command), "|",
                                Lower(ctx.args[1]), "' command"));
}

void Ping(CommandContext& ctx) {
  if (ctx.args.size() > 2) {
    ReplyArityError(ctx);
  } else if (ctx.client->protocol == 2 && ctx.client->subs.any()) {
    // RESP2 pub/sub mode: a two-element array (Redis pingCommand).
    ctx.reply->ArrayLen(2);
    ctx.reply->Bulk("pong");
    ctx.reply->Bulk(ctx.args.size() == 2 ? ctx.args[1] : std::string_view());
  } else if (ctx.args.size() == 2) {
    ctx.reply->Bulk(ctx.args[1]);
  } else {
    ctx.reply->Raw(resp::kReplyPong);
  }
}

void Echo(CommandContext& ctx) { ctx.reply->Bulk(ctx.args[1]); }

void Quit(CommandContext& ctx) {
  ctx.reply->Ok();
  ctx.client->close_after_reply = true;
}

void Select(CommandContext& ctx) {
  uint32_t db;
  if (!ParseDbIndex(ctx, ctx.args[1], &db)) return;
  ctx.client->db = db;
  ctx.region->SelectDb(db);
  ctx.reply->Ok();
}

// RESET (Redis clearClientConnectionState): database 0, RESP2, no name, no transaction, nothing
// watched, no subscriptions.
void Reset(CommandContext& ctx) {
  DiscardTransaction(ctx.server, ctx.client);
  ctx.server->pubsub().Forget(ctx.client);
  ctx.client->db = 0;
  ctx.region->SelectDb(0);
  ctx.client->protocol = 2;
  ctx.reply->set_protocol(2);
  ctx.client->name.clear();
  ctx.reply->SimpleString("RESET");
}

// SWAPDB a b: one op carrying the whole new database mapping (docs/crdt-semantics.md,
// "Databases"). SWAPDB a a changes nothing and emits nothing.
void SwapDb(CommandContext& ctx) {
  int64_t a, b;
  if (!crdt::ParseRedisInt(ctx.args[1], &a) || a < INT32_MIN || a > INT32_MAX) {
    ctx.reply->Error("ERR invalid first DB index");
    return;
  }
  if (!crdt::ParseRedisInt(ctx.args[2], &b) || b < INT32_MIN || b > INT32_MAX) {
    ctx.reply->Error("ERR invalid second DB index");
    return;
  }
  const int64_t n = crdt::kDatabases;
  if (a < 0 || a >= n || b < 0 || b >= n) {
    ctx.reply->Error(kErrDbIndexOutOfRange);
    return;
  }
  if (a != b) ctx.region->EmitSwapDb(static_cast<uint32_t>(a), static_cast<uint32_t>(b));
  ctx.reply->Ok();
}

// Redis clientSetNameOrReply.
bool SetClientName(CommandContext& ctx, std::string_view name) {
  for (char c : name) {
    if (c < '!' || c > '~') {
      ctx.reply->Error("ERR Client names cannot contain spaces, newlines or special characters.");
      return false;
    }
  }
  ctx.client->name = std::string(name);
  return true;
}

void Hello(CommandContext& ctx) {
  int64_t ver = 0;
  size_t next = 1;
  if (ctx.args.size() >= 2) {
    if (!crdt::ParseRedisInt(ctx.args[next++], &ver)) {
      ctx.reply->Error("ERR Protocol version is not an integer or out of range");
      return;
    }
    if (ver < 2 || ver > 3) {
      ctx.reply->Error("NOPROTO unsupported protocol version");
      return;
    }
  }
  std::optional<std::string_view> name;
  for (size_t j = next; j < ctx.args.size(); ++j) {
    size_t more = ctx.args.size() - 1 - j;
    std::string_view opt = ctx.args[j];
    if (EqualsIgnoreCase(opt, "auth") && more >= 2) {
      if (!ctx.server->Authenticate(ctx.client, ctx.args[0], ctx.args[j + 1], ctx.args[j + 2])) {
        ctx.reply->Error("WRONGPASS invalid username-password pair or user is disabled.");
        return;
      }
      j += 2;
    } else if (EqualsIgnoreCase(opt, "setname") && more >= 1) {
      name = ctx.args[j + 1];
      ++j;
    } else {
      ctx.reply->Error(absl::StrCat("ERR Syntax error in HELLO option '", std::string(opt), "'"));
      return;
    }
  }
  if (ctx.server->AuthRequired(*ctx.client)) {
    ctx.reply->Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "AUTH <user> <pass> option can be used to authenticate the client and select the RESP "
        "protocol version at the same time");
    return;
  }
  if (name && !SetClientName(ctx, *name)) return;
  if (ver != 0) {
    ctx.client->protocol = static_cast<int>(ver);
    ctx.reply->set_protocol(static_cast<int>(ver));
  }
  resp::ReplyBuilder& r = *ctx.reply;
  r.MapLen(7);
  r.Bulk("server");
  r.Bulk("redis");
  r.Bulk("version");
  r.Bulk(kRedisVersion);
  r.Bulk("proto");
  r.Integer(ctx.client->protocol);
  r.Bulk("id");
  r.Integer(static_cast<int64_t>(ctx.client->id));
  r.Bulk("mode");
  r.Bulk("standalone");
  r.Bulk("role");
  r.Bulk("master");
  r.Bulk("modules");
  r.ArrayLen(0);
}

// A command Redis does not have (CRDT.*): categories from its flags and group.
std::string_view OwnCommandCategory(const CommandSpec& spec) {
  if (spec.group == "string") return "@string";
  if (spec.group == "generic") return "@keyspace";
  return "@admin";
}

void ReplyCommandInfo(CommandContext& ctx, const CommandSpec& spec) {
  resp::ReplyBuilder& r = *ctx.reply;
  r.ArrayLen(10);
  r.Bulk(spec.name);
  r.Integer(spec.arity);
  std::vector<std::string_view> flags = CommandTable::FlagNames(spec.flags);
  r.SetLen(flags.size());
  for (std::string_view f : flags) r.SimpleString(f);
  r.Integer(spec.first_key);
  r.Integer(spec.last_key);
  r.Integer(spec.step);
  // ACL categories as redis-server reports them (acl/command_meta.h), in its order.
  if (const acl::CommandMeta* meta = acl::CommandMetaTable::Get().Find(spec.name)) {
    std::vector<std::string> cats;
    for (size_t j = 0; j < acl::kCategoryCount; ++j) {
      if (meta->categories & (1u << j)) {
        cats.push_back(absl::StrCat("@", std::string(acl::CategoryName(j))));
      }
    }
    r.SetLen(cats.size());
    for (const std::string& c : cats) r.SimpleString(c);
  } else {
    r.SetLen(2);
    r.SimpleString((spec.flags & kWrite) ? "@write" : "@read");
    r.SimpleString(OwnCommandCategory(spec));
  }
  r.SetLen(0);    // tips
  r.ArrayLen(0);  // key specs
  r.ArrayLen(0);  // subcommands
}

void ReplyCommandDocs(CommandContext& ctx, const CommandSpec& spec) {
  resp::ReplyBuilder& r = *ctx.reply;
  r.Bulk(spec.name);
  r.MapLen(3);
  r.Bulk("summary");
  r.Bulk(spec.summary);
  r.Bulk("since");
  r.Bulk(spec.since);
  r.Bulk("group");
  r.Bulk(spec.group);
}

void Command(CommandContext& ctx) {
  const CommandTable& table = ctx.server->commands();
  if (ctx.args.size() == 1) {
    ctx.reply->ArrayLen(table.all().size());
    for (const CommandSpec& spec : table.all()) ReplyCommandInfo(ctx, spec);
    return;
  }
  std::string_view sub = ctx.args[1];
  if (EqualsIgnoreCase(sub, "count") && ctx.args.size() == 2) {
    ctx.reply->Integer(static_cast<int64_t>(table.all().size()));
  } else if (EqualsIgnoreCase(sub, "info")) {
    if (ctx.args.size() == 2) {
      ctx.reply->ArrayLen(table.all().size());
      for (const CommandSpec& spec : table.all()) ReplyCommandInfo(ctx, spec);
      return;
    }
    ctx.reply->ArrayLen(ctx.args.size() - 2);
    for (size_t i = 2; i < ctx.args.size(); ++i) {
      const CommandSpec* spec = table.Find(ctx.args[i]);
      if (spec == nullptr) {
        ctx.reply->Null();
      } else {
        ReplyCommandInfo(ctx, *spec);
      }
    }
  } else if (EqualsIgnoreCase(sub, "docs")) {
    std::vector<const CommandSpec*> specs;
    if (ctx.args.size() == 2) {
      for (const CommandSpec& spec : table.all()) specs.push_back(&spec);
    } else {
      for (size_t i = 2; i < ctx.args.size(); ++i) {
        if (const CommandSpec* spec = table.Find(ctx.args[i])) specs.push_back(spec);
      }
    }
    ctx.reply->MapLen(specs.size());
    for (const CommandSpec* spec : specs) ReplyCommandDocs(ctx, *spec);
  } else if (EqualsIgnoreCase(sub, "list") && ctx.args.size() == 2) {
    ctx.reply->ArrayLen(table.all().size());
    for (const CommandSpec& spec : table.all()) ctx.reply->Bulk(spec.name);
  } else if (EqualsIgnoreCase(sub, "help") && ctx.args.size() == 2) {
    static const char* kHelp[] = {
        "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "HELP",
        "    Print this help."};
    ctx.reply->ArrayLen(std::size(kHelp));
    for (const char* line : kHelp) ctx.reply->SimpleString(line);
  } else if (EqualsIgnoreCase(sub, "count") || EqualsIgnoreCase(sub, "list") ||
             EqualsIgnoreCase(sub, "help")) {
    ReplySubcommandArity(ctx, "command");
  } else {
    ReplyUnknownSubcommand(ctx, "COMMAND");
  }
}

// CLIENT KILL addr, or CLIENT KILL with filters (ID, TYPE, USER, ADDR, LADDR, SKIPME) that
// must all match, as Redis 7.0. A region has no master or replica clients (peers are not RESP
// clients): TYPE master/replica/slave match nothing; a client with subscriptions is "pubsub".
void ClientKill(CommandContext& ctx) {
  const bool old_form = ctx.args.size() == 3;
  std::optional<std::string_view> addr;
  std::optional<std::string_view> laddr;
  std::optional<bool> pubsub;  // TYPE normal (false) or pubsub (true)
  bool no_type = false;        // TYPE master / replica / slave
  const acl::User* user = nullptr;
  uint64_t id = 0;
  bool skipme = !old_form;  // with the old form a client may kill itself
  if (old_form) {
    addr = ctx.args[2];
  } else if (ctx.args.size() > 3 && ctx.args.size() % 2 == 0) {
    for (size_t i = 2; i < ctx.args.size(); i += 2) {
      const std::string_view option = ctx.args[i];
      const std::string_view value = ctx.args[i + 1];
      if (EqualsIgnoreCase(option, "id")) {
        int64_t n;
        if (!crdt::ParseRedisInt(value, &n) || n < 1) {
          ctx.reply->Error("ERR client-id should be greater than 0");
          return;
        }
        id = static_cast<uint64_t>(n);
      } else if (EqualsIgnoreCase(option, "type")) {
        if (EqualsIgnoreCase(value, "normal") || EqualsIgnoreCase(value, "pubsub")) {
          pubsub = EqualsIgnoreCase(value, "pubsub");
        } else if (EqualsIgnoreCase(value, "master") || EqualsIgnoreCase(value, "replica") ||
                   EqualsIgnoreCase(value, "slave")) {
          no_type = true;
        } else {
          ctx.reply->Error(absl::StrCat("ERR Unknown client type '", std::string(value), "'"));
          return;
        }
      } else if (EqualsIgnoreCase(option, "addr")) {
        addr = value;
      } else if (EqualsIgnoreCase(option, "laddr")) {
        laddr = value;
      } else if (EqualsIgnoreCase(option, "user")) {
        user = ctx.server->acl().Find(value);
        if (user == nullptr) {
          ctx.reply->Error(absl::StrCat("ERR No such user '", std::string(value), "'"));
          return;
        }
      } else if (EqualsIgnoreCase(option, "skipme") && EqualsIgnoreCase(value, "yes")) {
        skipme = true;
      } else if (EqualsIgnoreCase(option, "skipme") && EqualsIgnoreCase(value, "no")) {
        skipme = false;
      } else {
        ctx.reply->Error(kErrSyntax);
        return;
      }
    }
  } else {
    ctx.reply->Error(kErrSyntax);
    return;
  }

  Client& me = *ctx.client;
  std::vector<uint64_t> victims;
  bool kill_me = false;
  for (const Connection* c : ctx.server->clients()) {
    const Client& other = c->client();
    if (no_type || (addr && other.addr != *addr) || (laddr && other.laddr != *laddr) ||
        (pubsub && other.subs.any() != *pubsub) || (id != 0 && other.id != id) ||
        (user != nullptr && other.user != user) || (other.id == me.id && skipme)) {
      continue;
    }
    if (other.id == me.id) {
      kill_me = true;
    } else {
      victims.push_back(other.id);
    }
  }
  for (uint64_t victim : victims) ctx.server->KillClient(victim);
  const size_t killed = victims.size() + (kill_me ? 1 : 0);
  if (!old_form) {
    ctx.reply->Integer(static_cast<int64_t>(killed));
  } else if (killed == 0) {
    ctx.reply->Error("ERR No such client");
  } else {
    ctx.reply->Ok();
  }
  if (kill_me) me.close_after_reply = true;  // after its reply is queued
}

void ClientCommand(CommandContext& ctx) {
  std::string_view sub = ctx.args[1];
  Client& me = *ctx.client;
  if (EqualsIgnoreCase(sub, "id") && ctx.args.size() == 2) {
    ctx.reply->Integer(static_cast<int64_t>(me.id));
  } else if (EqualsIgnoreCase(sub, "getname") && ctx.args.size() == 2) {
    if (me.name.empty()) {
      ctx.reply->Null();
    } else {
      ctx.reply->Bulk(me.name);
    }
  } else if (EqualsIgnoreCase(sub, "setname") && ctx.args.size() == 3) {
    if (SetClientName(ctx, ctx.args[2])) ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "setinfo") && ctx.args.size() == 4) {
    std::string_view attr = ctx.args[2];
    if (EqualsIgnoreCase(attr, "lib-name")) {
      me.lib_name = std::string(ctx.args[3]);
    } else if (EqualsIgnoreCase(attr, "lib-ver")) {
      me.lib_ver = std::string(ctx.args[3]);
    } else {
      ctx.reply->Error(absl::StrCat("ERR Unrecognized option '", std::string(attr), "'"));
      return;
    }
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "list")) {
    std::string out;
    for (const Connection* c : ctx.server->clients()) {
      absl::StrAppend(&out, ClientInfoLine(*ctx.server, *c), "\n");
    }
    ctx.reply->Verbatim(out);
  } else if (EqualsIgnoreCase(sub, "info") && ctx.args.size() == 2) {
    for (const Connection* c : ctx.server->clients()) {
      if (c->client().id == me.id) {
        ctx.reply->Verbatim(absl::StrCat(ClientInfoLine(*ctx.server, *c), "\n"));
        return;
      }
    }
    ctx.reply->Verbatim("");
  } else if (EqualsIgnoreCase(sub, "kill")) {
    ClientKill(ctx);
  } else if (EqualsIgnoreCase(sub, "unblock") && (ctx.args.size() == 3 || ctx.args.size() == 4)) {
    int64_t id;
    if (!crdt::ParseRedisInt(ctx.args[2], &id)) {
      ctx.reply->Error(kErrNotInteger);
      return;
    }
    bool error = false;
    if (ctx.args.size() == 4) {
      if (EqualsIgnoreCase(ctx.args[3], "error")) {
        error = true;
      } else if (!EqualsIgnoreCase(ctx.args[3], "timeout")) {
        ctx.reply->Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
        return;
      }
    }
    ctx.reply->Integer(ctx.server->blocking().Unblock(static_cast<uint64_t>(id), error) ? 1 : 0);
  } else if (EqualsIgnoreCase(sub, "help") && ctx.args.size() == 2) {
    static const char* kHelp[] = {"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                                  "GETNAME",
                                  "    Return the name of the current connection.",
                                  "ID",
                                  "    Return the ID of the current connection.",
                                  "INFO",
                                  "    Return information about the current client connection.",
                                  "KILL ID <client-id>",
                                  "    Kill the connection with this id.",
                                  "LIST",
                                  "    Return information about client connections.",
                                  "SETNAME <name>",
                                  "    Assign the name <name> to the current connection.",
                                  "UNBLOCK <clientid> [TIMEOUT|ERROR]",
                                  "    Unblock the specified blocked client.",
                                  "HELP",
                                  "    Print this help."};
    ctx.reply->ArrayLen(std::size(kHelp));
    for (const char* line : kHelp) ctx.reply->SimpleString(line);
  } else if (EqualsIgnoreCase(sub, "id") || EqualsIgnoreCase(sub, "getname") ||
             EqualsIgnoreCase(sub, "setname") || EqualsIgnoreCase(sub, "info") ||
             EqualsIgnoreCase(sub, "setinfo") || EqualsIgnoreCase(sub, "help") ||
             EqualsIgnoreCase(sub, "unblock")) {
    ReplySubcommandArity(ctx, "client");
  } else {
    ReplyUnknownSubcommand(ctx, "CLIENT");
  }
}

void DbSize(CommandContext& ctx) {
  ctx.reply->Integer(static_cast<int64_t>(ctx.region->ks().key_count(ctx.region->ns())));
}

void Time(CommandContext& ctx) {
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  ctx.reply->ArrayLen(2);
  ctx.reply->BulkInteger(tv.tv_sec);
  ctx.reply->BulkInteger(tv.tv_usec);
}

void Flush(CommandContext& ctx) {
  if (ctx.args.size() > 2 || (ctx.args.size() == 2 && !EqualsIgnoreCase(ctx.args[1], "sync") &&
                              !EqualsIgnoreCase(ctx.args[1], "async"))) {
    ctx.reply->Error(kErrSyntax);
    return;
  }
  if (EqualsIgnoreCase(ctx.args[0], "flushdb")) {
    ctx.region->EmitFlushDb();
  } else {
    ctx.region->EmitFlush();
  }
  ctx.reply->Ok();
}

void CrdtDigest(CommandContext& ctx) { ctx.reply->Bulk(ctx.region->ks().Digest()); }

// CRDT.SYNC PAUSE | RESUME | STATUS: hold replication of this region (maintenance, tests).
void CrdtSync(CommandContext& ctx) {
  syncer::Replicator* rep = ctx.server->mutable_replicator();
  std::string_view sub = ctx.args[1];
  if (!EqualsIgnoreCase(sub, "pause") && !EqualsIgnoreCase(sub, "resume") &&
      !EqualsIgnoreCase(sub, "status")) {
    ReplyUnknownSubcommand(ctx, "CRDT.SYNC");
    return;
  }
  if (rep == nullptr) {
    ctx.reply->Error("ERR this region has no peers");
    return;
  }
  if (EqualsIgnoreCase(sub, "status")) {
    ctx.reply->SimpleString(rep->paused() ? "paused" : "running");
    return;
  }
  rep->SetPaused(EqualsIgnoreCase(sub, "pause"));
  ctx.reply->Ok();
}

// Redis runs BGREWRITEAOF and BGSAVE in a forked child; here both write the keyspace's one
// copy-on-write snapshot in steps on the event loop, so each waits for the other as Redis's
// children do (docs/operations.md, "Snapshots").
void BgRewriteAof(CommandContext& ctx) {
  if (!ctx.server->config().appendonly) {
    // Redis 7 writes an AOF nobody loads; here a stale AOF must never exist to be loaded later
    // (docs/operations.md, "Persistence options").
    ctx.reply->Error(
        "ERR appendonly is off: there is no AOF to rewrite (CONFIG SET appendonly yes writes "
        "one)");
    return;
  }
  if (ctx.region->rewrite_stats().in_progress) {
    ctx.reply->Error("ERR Background append only file rewriting already in progress");
    return;
  }
  if (ctx.region->snapshot_busy() || ctx.client->tx.multi) {
    ctx.server->ScheduleRewrite();
    ctx.reply->SimpleString("Background append only file rewriting scheduled");
    return;
  }
  absl::Status s = ctx.server->StartAofRewrite();
  if (!s.ok()) {
    ctx.reply->Error(absl::StrCat("ERR ", s.message()));
    return;
  }
  ctx.reply->SimpleString("Background append only file rewriting started");
}

// BGSAVE [SCHEDULE]
void BgSave(CommandContext& ctx) {
  bool schedule = false;
  if (ctx.args.size() > 1) {
    if (ctx.args.size() == 2 && EqualsIgnoreCase(ctx.args[1], "schedule")) {
      schedule = true;
    } else {
      ctx.reply->Error(kErrSyntax);
      return;
    }
  }
  if (ctx.region->save_stats().in_progress) {
    ctx.reply->Error("ERR Background save already in progress");
    return;
  }
  if (ctx.region->snapshot_busy() || ctx.client->tx.multi) {
    if (schedule || ctx.client->tx.multi) {
      ctx.server->ScheduleBgSave();
      ctx.reply->SimpleString("Background saving scheduled");
    } else {
      ctx.reply->Error(
          "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE "
          "SCHEDULE in order to schedule a BGSAVE whenever possible.");
    }
    return;
  }
  absl::Status s = ctx.server->StartBgSave();
  if (!s.ok()) {
    ctx.reply->Error("ERR");  // Redis's shared.err; the cause is in the log and INFO
    return;
  }
  ctx.reply->SimpleString("Background saving started");
}

void Save(CommandContext& ctx) {
  if (ctx.region->save_stats().in_progress) {
    ctx.reply->Error("ERR Background save already in progress");
    return;
  }
  absl::Status s = ctx.server->SaveNow();
  if (!s.ok()) {
    ctx.reply->Error("ERR");  // Redis's shared.err; the cause is in the log and INFO
    return;
  }
  ctx.reply->Ok();
}

void LastSave(CommandContext& ctx) { ctx.reply->Integer(ctx.server->LastSaveUnixSeconds()); }

}  // namespace

void RegisterServerFamily(CommandTable* t) {
  constexpr uint32_t kConn = kFast | kLoading | kStale;
  // Redis 7 flags PING "fast" only: a loading server answers it -LOADING (readiness probes).
  t->Register({"ping", -1, kFast, 0, 0, 0, Ping, "connection", "Ping the server", "1.0.0"});
  t->Register({"echo", 2, kConn, 0, 0, 0, Echo, "connection", "Echo the given string", "1.0.0"});
  t->Register({"quit", -1, kConn | kNoScript, 0, 0, 0, Quit, "connection", "Close the connection",
               "1.0.0"});
  t->Register({"select", 2, kConn, 0, 0, 0, Select, "connection",
               "Change the selected database for the current connection", "1.0.0"});
  t->Register({"reset", 1, kConn | kNoScript, 0, 0, 0, Reset, "connection", "Reset the connection",
               "6.2.0"});
  t->Register({"hello", -1, kConn | kNoScript, 0, 0, 0, Hello, "connection", "Handshake with Redis",
               "6.0.0"});
  t->Register({"command", -1, kLoading | kStale, 0, 0, 0, Command, "server",
               "Get array of Redis command details", "2.8.13"});
  t->Register({"client", -2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, ClientCommand,
               "connection", "A container for client connection commands", "2.4.0"});
  t->Register({"info", -1, kLoading | kStale, 0, 0, 0, InfoCommand, "server",
               "Get information and statistics about the server", "1.0.0"});
  t->Register({"config", -2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, ConfigCommand,
               "server", "A container for server configuration commands", "2.0.0"});
  t->Register({"dbsize", 1, kReadOnly | kFast, 0, 0, 0, DbSize, "server",
               "Return the number of keys in the selected database", "1.0.0"});
  t->Register({"time", 1, kLoading | kStale | kFast, 0, 0, 0, Time, "server",
               "Return the current server time", "2.6.0"});
  t->Register({"flushall", -1, kWrite, 0, 0, 0, Flush, "server",
               "Remove all keys from all databases", "1.0.0"});
  t->Register({"flushdb", -1, kWrite, 0, 0, 0, Flush, "server",
               "Remove all keys from the current database", "1.0.0"});
  t->Register({"swapdb", 3, kWrite | kFast, 0, 0, 0, SwapDb, "server", "Swaps two Redis databases",
               "4.0.0"});
  t->Register({"save", 1, kAdmin | kNoScript | kNoMulti, 0, 0, 0, Save, "server",
               "Synchronously save the dataset to disk", "1.0.0"});
  t->Register({"bgsave", -1, kAdmin | kNoScript, 0, 0, 0, BgSave, "server",
               "Asynchronously save the dataset to disk", "1.0.0"});
  t->Register({"lastsave", 1, kLoading | kStale | kFast, 0, 0, 0, LastSave, "server",
               "Get the UNIX time stamp of the last successful save to disk", "1.0.0"});
  t->Register({"bgrewriteaof", 1, kAdmin | kNoScript, 0, 0, 0, BgRewriteAof, "server",
               "Asynchronously rewrite the append-only file", "1.0.0"});
  t->Register({"crdt.sync", 2, kAdmin, 0, 0, 0, CrdtSync, "server",
               "Pause or resume replication of this region", "0.1.0"});
  t->Register({"crdt.digest", 1, kReadOnly | kFast, 0, 0, 0, CrdtDigest, "server",
               "Digest of the replicated state: equal digests mean identical data", "0.1.0"});
}

}  // namespace activekv::server
