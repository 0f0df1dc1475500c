// MULTI EXEC DISCARD WATCH UNWATCH (Redis 7.0's multi.c), and the dispatcher's MULTI hooks.
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "region-server/command.h"
#include "region-server/multi.h"
#include "region-server/region.h"
#include "region-server/server.h"

namespace activekv::server {
namespace {

// Redis 7.0's subcommands (name, arity) of the containers activekv serves, as far as activekv
// serves them (CLIENT SETINFO is 7.2's; activekv has it).
struct Subcommand {
  std::string_view container;
  std::string_view name;
  int arity;
};
constexpr Subcommand kSubcommands[] = {
    {"acl", "cat", -2},
    {"acl", "deluser", -3},
    {"acl", "dryrun", -4},
    {"acl", "genpass", -2},
    {"acl", "getuser", 3},
    {"acl", "help", 2},
    {"acl", "list", 2},
    {"acl", "load", 2},
    {"acl", "log", -2},
    {"acl", "save", 2},
    {"acl", "setuser", -3},
    {"acl", "users", 2},
    {"acl", "whoami", 2},
    {"client", "id", 2},
    {"client", "getname", 2},
    {"client", "setname", 3},
    {"client", "setinfo", 4},
    {"client", "list", -2},
    {"client", "info", 2},
    {"client", "kill", -3},
    {"client", "help", 2},
    {"client", "unblock", -3},
    {"config", "get", -3},
    {"config", "set", -4},
    {"config", "resetstat", 2},
    {"config", "rewrite", 2},
    {"config", "help", 2},
    {"command", "count", 2},
    {"command", "info", -2},
    {"command", "docs", -2},
    {"command", "list", -2},
    {"command", "help", 2},
    {"object", "encoding", 3},
    {"object", "freq", 3},
    {"object", "idletime", 3},
    {"object", "refcount", 3},
    {"object", "help", 2},
    {"pubsub", "channels", -2},
    {"pubsub", "numpat", 2},
    {"pubsub", "numsub", -2},
    {"pubsub", "shardchannels", -2},
    {"pubsub", "shardnumsub", -2},
    {"pubsub", "help", 2},
    {"xinfo", "stream", -3},
    {"xinfo", "groups", 3},
    {"xinfo", "consumers", 4},
    {"xinfo", "help", 2},
    {"xgroup", "create", -5},
    {"xgroup", "createconsumer", 5},
    {"xgroup", "delconsumer", 5},
    {"xgroup", "setid", -5},
    {"xgroup", "destroy", 4},
    {"xgroup", "help", 2},
};

// The containers of kSubcommands: most commands are none of these (checked per command, so
// cheap first: a length mismatch ends each comparison).
bool IsContainer(std::string_view name) {
  return name == "acl" || name == "client" || name == "config" || name == "command" ||
         name == "object" || name == "pubsub" || name == "xinfo" || name == "xgroup";
}

// Redis's "%.128s" of a C string, with CR and LF mapped to spaces (rejectCommandFormat).
std::string Clip(std::string_view s) {
  std::string out(s.substr(0, std::min<size_t>(128, s.find('\0'))));
  for (char& c : out) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  return out;
}

bool IsControl(const CommandSpec& spec) {
  return spec.name == "exec" || spec.name == "discard" || spec.name == "multi" ||
         spec.name == "watch" || spec.name == "quit" || spec.name == "reset";
}

void Multi(CommandContext& ctx) {
  TransactionState& tx = ctx.client->tx;
  if (tx.multi) {
    ctx.reply->Error("ERR MULTI calls can not be nested");
    return;
  }
  tx.multi = true;
  ctx.reply->Ok();
}

void Discard(CommandContext& ctx) {
  if (!ctx.client->tx.multi) {
    ctx.reply->Error("ERR DISCARD without MULTI");
    return;
  }
  DiscardTransaction(ctx.server, ctx.client);
  ctx.reply->Ok();
}

// Runs the queued commands through the dispatcher's handlers; the caller (the connection) commits
// their ops once afterwards: one unit.
void Exec(CommandContext& ctx) {
  Client& client = *ctx.client;
  TransactionState& tx = client.tx;
  if (!tx.multi) {
    ctx.reply->Error("ERR EXEC without MULTI");
    return;
  }
  WatchRegistry& watches = ctx.server->watches();
  if (watches.AnyWatchedKeyExpired(client, ctx.region->ks(), ctx.region->NowMs())) {
    tx.dirty_cas = true;
  }
  if (tx.dirty_exec || tx.dirty_cas) {
    if (tx.dirty_exec) {
      ctx.reply->Error("EXECABORT Transaction discarded because of previous errors.");
    } else {
      ctx.reply->NullArray();
    }
    DiscardTransaction(ctx.server, &client);
    return;
  }
  watches.UnwatchAll(&client);  // the transaction's own writes do not matter
  ctx.reply->ArrayLen(tx.queued.size());
  std::vector<std::string_view> args;
  // Nothing a queued command does can queue more (MULTI, EXEC, RESET are never queued). A
  // blocking command inside does not block: it answers as on timeout (Redis's
  // CLIENT_DENY_BLOCKING).
  const bool deny_blocking = client.deny_blocking;
  client.deny_blocking = true;
  for (size_t i = 0; i < tx.queued.size(); ++i) {
    const TransactionState::Queued& q = tx.queued[i];
    args.assign(q.args.begin(), q.args.end());
    // ACLs are checked again: they may have changed since the command was queued (Redis's
    // execCommand).
    std::string object;
    const acl::Verdict verdict = ctx.server->CheckAcl(client, args, &object);
    if (verdict != acl::Verdict::kOk) {
      ctx.server->LogAclDenial(client, verdict, "multi", object);
      const char* reason = verdict == acl::Verdict::kCommand
                               ? "no permission to execute the command or subcommand"
                           : verdict == acl::Verdict::kKey
                               ? "no permission to touch the specified keys"
                               : "no permission to access one of the channels used as arguments";
      ctx.reply->Error(absl::StrCat(
          "NOPERM ACLs rules changed between the moment the transaction was accumulated and the "
          "EXEC call. This command is no longer allowed for the following reason: ",
          reason));
      continue;
    }
    ctx.server->Call(*q.spec, args, &client, ctx.reply);
  }
  client.deny_blocking = deny_blocking;
  DiscardTransaction(ctx.server, &client);
}

void Watch(CommandContext& ctx) {
  Client& client = *ctx.client;
  if (client.tx.multi) {
    ctx.reply->Error("ERR WATCH inside MULTI is not allowed");
    return;
  }
  // No point in watching once dirty (Redis).
  if (!client.tx.dirty_cas) {
    for (size_t i = 1; i < ctx.args.size(); ++i) {
      ctx.server->watches().Watch(&client, client.db, ctx.args[i], ctx.region->ks(),
                                  ctx.region->NowMs());
    }
  }
  ctx.reply->Ok();
}

void Unwatch(CommandContext& ctx) {
  ctx.server->watches().UnwatchAll(ctx.client);
  ctx.client->tx.dirty_cas = false;
  ctx.reply->Ok();
}

}  // namespace

bool IsExec(const CommandSpec& spec) { return spec.name == "exec"; }

bool QueuesInMulti(const Client& client, const CommandSpec& spec) {
  return client.tx.multi && !IsControl(spec);
}

void QueueCommand(const CommandSpec& spec, const std::vector<std::string_view>& args,
                  Client* client, resp::ReplyBuilder* reply) {
  TransactionState& tx = client->tx;
  // A doomed transaction keeps nothing (Redis queueMultiCommand).
  if (!tx.dirty_exec && !tx.dirty_cas) {
    tx.queued.push_back(TransactionState::Queued{&spec, {args.begin(), args.end()}});
    tx.queued_flags |= spec.flags;
    tx.queued_inv_flags |= ~spec.flags;
  }
  reply->SimpleString("QUEUED");
}

void RejectCommand(Server* server, Client* client, bool is_exec, std::string_view error,
                   resp::ReplyBuilder* reply) {
  if (is_exec) {
    // Redis execCommandAbort: errors it formats itself lack the "ERR " the reply would add.
    DiscardTransaction(server, client);
    if (error.substr(0, 4) == "ERR ") error.remove_prefix(4);
    reply->Error(absl::StrCat("EXECABORT Transaction discarded because of: ", std::string(error)));
    return;
  }
  if (client->tx.multi) client->tx.dirty_exec = true;
  reply->Error(error);
}

std::string SubcommandError(const CommandSpec& spec, const std::vector<std::string_view>& args) {
  if (args.size() < 2 || !IsContainer(spec.name)) return "";
  bool container = false;
  for (const Subcommand& sub : kSubcommands) {
    if (sub.container != spec.name) continue;
    container = true;
    if (!EqualsIgnoreCase(sub.name, args[1])) continue;
    const int argc = static_cast<int>(args.size());
    if ((sub.arity > 0 && argc != sub.arity) || argc < -sub.arity) {
      return absl::StrCat("ERR wrong number of arguments for '", std::string(sub.container), "|",
                          std::string(sub.name), "' command");
    }
    return "";
  }
  if (!container) return "";
  std::string upper(spec.name);
  absl::AsciiStrToUpper(&upper);
  return absl::StrCat("ERR unknown subcommand '", Clip(args[1]), "'. Try ", upper, " HELP.");
}

void SetFullName(const CommandSpec& spec, const std::vector<std::string_view>& args,
                 std::string* out) {
  out->assign(spec.name);
  if (args.size() < 2 || !IsContainer(spec.name)) return;
  for (const Subcommand& sub : kSubcommands) {
    if (sub.container == spec.name && EqualsIgnoreCase(sub.name, args[1])) {
      absl::StrAppend(out, "|", std::string(sub.name));
      return;
    }
  }
}

std::string CommandFullName(const CommandSpec& spec, const std::vector<std::string_view>& args) {
  std::string name;
  SetFullName(spec, args, &name);
  return name;
}

void DiscardTransaction(Server* server, Client* client) {
  TransactionState& tx = client->tx;
  tx.queued.clear();
  tx.multi = false;
  tx.dirty_exec = false;
  tx.dirty_cas = false;
  tx.queued_flags = 0;
  tx.queued_inv_flags = 0;
  server->watches().UnwatchAll(client);
}

void RegisterTransactionFamily(CommandTable* t) {
  constexpr uint32_t kTx = kNoScript | kLoading | kStale;
  t->Register({"multi", 1, kTx | kFast, 0, 0, 0, Multi, "transactions",
               "Mark the start of a transaction block", "1.2.0"});
  t->Register({"exec", 1, kTx, 0, 0, 0, Exec, "transactions",
               "Execute all commands issued after MULTI", "1.2.0"});
  t->Register({"discard", 1, kTx | kFast, 0, 0, 0, Discard, "transactions",
               "Discard all commands issued after MULTI", "2.0.0"});
  t->Register({"watch", -2, kTx | kFast, 1, -1, 1, Watch, "transactions",
               "Watch the given keys to determine execution of the MULTI/EXEC block", "2.2.0"});
  t->Register({"unwatch", 1, kTx | kFast, 0, 0, 0, Unwatch, "transactions",
               "Forget about all watched keys", "2.2.0"});
}

}  // namespace activekv::server
