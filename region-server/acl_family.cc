// AUTH and ACL (docs/security.md): the commands over Server::acl(). The permission checks
// themselves run in the dispatcher (Server::Execute).
#include <openssl/rand.h>

#include "absl/strings/str_cat.h"
#include "crdt/redis_number.h"
#include "persistence/env.h"
#include "region-server/acl/acl.h"
#include "region-server/connection.h"
#include "region-server/info.h"
#include "region-server/server.h"
#include "spdlog/spdlog.h"

namespace activekv::server {
namespace {

constexpr std::string_view kErrWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

void Auth(CommandContext& ctx) {
  if (ctx.args.size() > 3) {
    ctx.reply->Error("ERR syntax error");
    return;
  }
  acl::Acl& acl = ctx.server->acl();
  std::string_view user = "default";
  std::string_view password = ctx.args[1];
  if (ctx.args.size() == 2) {
    if (acl.default_user()->nopass) {
      ctx.reply->Error(
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?");
      return;
    }
  } else {
    user = ctx.args[1];
    password = ctx.args[2];
  }
  if (!ctx.server->Authenticate(ctx.client, ctx.args[0], user, password)) {
    ctx.reply->Error(kErrWrongPass);
    return;
  }
  ctx.reply->Ok();
}

void ReplySelector(CommandContext& ctx, const acl::Selector& s) {
  ctx.reply->Bulk("commands");
  ctx.reply->Bulk(s.DescribeCommands());
  ctx.reply->Bulk("keys");
  ctx.reply->Bulk(s.DescribeKeys());
  ctx.reply->Bulk("channels");
  ctx.reply->Bulk(s.DescribeChannels());
}

void GetUser(CommandContext& ctx) {
  const acl::User* u = ctx.server->acl().Find(ctx.args[2]);
  if (u == nullptr) {
    ctx.reply->Null();  // redis-server 7.0 (later versions answer an error)
    return;
  }
  resp::ReplyBuilder& r = *ctx.reply;
  r.MapLen(6);
  r.Bulk("flags");
  const std::vector<std::string_view> flags = u->Flags();
  r.SetLen(flags.size());
  for (std::string_view f : flags) r.Bulk(f);
  r.Bulk("passwords");
  r.ArrayLen(u->passwords.size());
  for (const std::string& p : u->passwords) r.Bulk(p);
  ReplySelector(ctx, u->selectors[0]);
  r.Bulk("selectors");
  r.ArrayLen(u->selectors.size() - 1);
  for (size_t i = 1; i < u->selectors.size(); ++i) {
    r.MapLen(3);
    ReplySelector(ctx, u->selectors[i]);
  }
}

void Log(CommandContext& ctx) {
  acl::Acl& acl = ctx.server->acl();
  int64_t count = 10;
  if (ctx.args.size() == 3) {
    if (EqualsIgnoreCase(ctx.args[2], "reset")) {
      acl.ResetLog();
      ctx.reply->Ok();
      return;
    }
    if (!crdt::ParseRedisInt(ctx.args[2], &count)) {
      ctx.reply->Error("ERR value is not an integer or out of range");
      return;
    }
    if (count < 0) count = 0;
  }
  const auto& log = acl.log();
  const size_t n = std::min<size_t>(static_cast<size_t>(count), log.size());
  const int64_t now = ctx.region->NowMs();
  resp::ReplyBuilder& r = *ctx.reply;
  r.ArrayLen(n);
  for (size_t i = 0; i < n; ++i) {
    const acl::LogEntry& e = log[i];
    r.MapLen(7);
    r.Bulk("count");
    r.Integer(static_cast<int64_t>(e.count));
    r.Bulk("reason");
    switch (e.reason) {
      case acl::Verdict::kCommand:
        r.Bulk("command");
        break;
      case acl::Verdict::kKey:
        r.Bulk("key");
        break;
      case acl::Verdict::kChannel:
        r.Bulk("channel");
        break;
      case acl::Verdict::kAuth:
        r.Bulk("auth");
        break;
      case acl::Verdict::kOk:
        r.Bulk("unknown");
        break;
    }
    r.Bulk("context");
    r.Bulk(e.context);
    r.Bulk("object");
    r.Bulk(e.object);
    r.Bulk("username");
    r.Bulk(e.username);
    r.Bulk("age-seconds");
    r.Double(static_cast<double>(now - e.ctime_ms) / 1000);
    r.Bulk("client-info");
    r.Bulk(e.client_info);
  }
}

void DryRun(CommandContext& ctx) {
  const acl::User* u = ctx.server->acl().Find(ctx.args[2]);
  if (u == nullptr) {
    ctx.reply->Error(absl::StrCat("ERR User '", std::string(ctx.args[2]), "' not found"));
    return;
  }
  absl::Span<const std::string_view> cmd = ctx.args.subspan(3);
  const acl::CommandMeta* meta = acl::CommandMetaTable::Get().Resolve(cmd);
  if (meta == nullptr || ctx.server->commands().Find(cmd[0]) == nullptr) {
    ctx.reply->Error(absl::StrCat("ERR Command '", std::string(cmd[0]), "' not found"));
    return;
  }
  if ((meta->arity > 0 && static_cast<int>(cmd.size()) != meta->arity) ||
      static_cast<int>(cmd.size()) < -meta->arity) {
    ctx.reply->Error(absl::StrCat("ERR wrong number of arguments for '",
                                  std::string(meta->fullname), "' command"));
    return;
  }
  size_t pos = 0;
  switch (u->Check(*meta, cmd, &pos)) {
    case acl::Verdict::kOk:
    case acl::Verdict::kAuth:
      ctx.reply->Ok();
      return;
    case acl::Verdict::kCommand:
      ctx.reply->Bulk(absl::StrCat("This user has no permissions to run the '",
                                   std::string(meta->fullname), "' command"));
      return;
    case acl::Verdict::kKey:
      ctx.reply->Bulk(absl::StrCat("This user has no permissions to access the '",
                                   std::string(cmd[pos]), "' key"));
      return;
    case acl::Verdict::kChannel:
      ctx.reply->Bulk(absl::StrCat("This user has no permissions to access the '",
                                   std::string(cmd[pos]), "' channel"));
      return;
  }
}

void Acl(CommandContext& ctx) {
  acl::Acl& acl = ctx.server->acl();
  const std::string_view sub = ctx.args[1];
  const size_t argc = ctx.args.size();
  const std::string& file = ctx.server->acl_file();
  if (EqualsIgnoreCase(sub, "setuser") && argc >= 3) {
    std::string error = acl.SetUser(ctx.args[2], ctx.args.subspan(3));
    if (!error.empty()) {
      ctx.reply->Error(error);
      return;
    }
    ctx.server->AclChanged(ctx.client);
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "deluser") && argc >= 3) {
    for (size_t j = 2; j < argc; ++j) {
      if (ctx.args[j] == "default") {
        ctx.reply->Error("ERR The 'default' user cannot be removed");
        return;
      }
    }
    std::vector<std::unique_ptr<acl::User>> gone = acl.DelUsers(ctx.args.subspan(2));
    ctx.server->DropClientsOf(gone, ctx.client);
    ctx.reply->Integer(static_cast<int64_t>(gone.size()));
  } else if (EqualsIgnoreCase(sub, "getuser") && argc == 3) {
    GetUser(ctx);
  } else if ((EqualsIgnoreCase(sub, "list") || EqualsIgnoreCase(sub, "users")) && argc == 2) {
    const bool names = EqualsIgnoreCase(sub, "users");
    ctx.reply->ArrayLen(acl.users().size());
    for (const auto& [name, user] : acl.users()) {
      ctx.reply->Bulk(names ? name : absl::StrCat("user ", name, " ", user->Describe()));
    }
  } else if (EqualsIgnoreCase(sub, "whoami") && argc == 2) {
    ctx.reply->Bulk(ctx.client->user->name);
  } else if (file.empty() && (EqualsIgnoreCase(sub, "load") || EqualsIgnoreCase(sub, "save"))) {
    ctx.reply->Error(
        "ERR This Redis instance is not configured to use an ACL file. You may want to specify "
        "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
        "Redis configuration file set) in order to store users in the Redis configuration.");
  } else if (EqualsIgnoreCase(sub, "load") && argc == 2) {
    std::vector<std::unique_ptr<acl::User>> gone;
    std::string errors = acl.LoadFile(file, &gone);
    if (!errors.empty()) {
      ctx.reply->Error(absl::StrCat("ERR ", errors));
      return;
    }
    ctx.server->DropClientsOf(gone, ctx.client);
    ctx.server->AclChanged(ctx.client);
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "save") && argc == 2) {
    // Written whole and fsynced to a temporary file, then renamed over the old one.
    persistence::Env* env = ctx.region->env();
    const std::string tmp = absl::StrCat(file, ".tmp");
    std::string unsaveable;
    const std::string text = acl.Serialize(&unsaveable);
    absl::Status s = unsaveable.empty()
                         ? persistence::WriteStringToFile(env, text, tmp, /*sync=*/true)
                         : absl::FailedPreconditionError(unsaveable);
    if (s.ok()) s = env->RenameFile(tmp, file);
    if (!s.ok()) {
      spdlog::warn("ACL SAVE to {}: {}", file, std::string(s.message()));
      env->RemoveFile(tmp).IgnoreError();
      ctx.reply->Error(
          "ERR There was an error trying to save the ACLs. Please check the server logs for more "
          "information");
      return;
    }
    ctx.reply->Ok();
  } else if (EqualsIgnoreCase(sub, "cat") && argc == 2) {
    ctx.reply->ArrayLen(acl::kCategoryCount);
    for (size_t j = 0; j < acl::kCategoryCount; ++j) ctx.reply->Bulk(acl::CategoryName(j));
  } else if (EqualsIgnoreCase(sub, "cat") && argc == 3) {
    const uint32_t cat = acl::CategoryByName(ctx.args[2]);
    if (cat == 0) {
      ctx.reply->Error(
          absl::StrCat("ERR Unknown category '", std::string(ctx.args[2].substr(0, 128)), "'"));
      return;
    }
    std::vector<std::string_view> names;
    for (const acl::CommandMeta& m : acl::CommandMetaTable::Get().all()) {
      if (m.categories & cat) names.push_back(m.fullname);
    }
    ctx.reply->ArrayLen(names.size());
    for (std::string_view n : names) ctx.reply->Bulk(n);
  } else if (EqualsIgnoreCase(sub, "genpass") && (argc == 2 || argc == 3)) {
    int64_t bits = 256;
    if (argc == 3 && !crdt::ParseRedisInt(ctx.args[2], &bits)) {
      ctx.reply->Error("ERR value is not an integer or out of range");
      return;
    }
    if (bits <= 0 || bits > 4096) {
      ctx.reply->Error(
          "ERR ACL GENPASS argument must be the number of bits for the output password, a "
          "positive number up to 4096");
      return;
    }
    const size_t chars = static_cast<size_t>((bits + 3) / 4);
    unsigned char raw[512];
    RAND_bytes(raw, static_cast<int>((chars + 1) / 2));
    static constexpr char kHex[] = "0123456789abcdef";
    std::string pass(chars, '0');
    for (size_t i = 0; i < chars; ++i) pass[i] = kHex[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 0xF];
    ctx.reply->Bulk(pass);
  } else if (EqualsIgnoreCase(sub, "log") && (argc == 2 || argc == 3)) {
    Log(ctx);
  } else if (EqualsIgnoreCase(sub, "dryrun") && argc >= 4) {
    DryRun(ctx);
  } else if (EqualsIgnoreCase(sub, "help") && argc == 2) {
    static const char* kHelp[] = {
        "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CAT [<category>]",
        "    List all commands that belong to <category>, or all command categories",
        "    when no category is specified.",
        "DELUSER <username> [<username> ...]",
        "    Delete a list of users.",
        "DRYRUN <username> <command> [<arg> ...]",
        ("    Returns whether the user can execute the given command without executing the "
         "command."),
        "GETUSER <username>",
        "    Get the user's details.",
        "GENPASS [<bits>]",
        "    Generate a secure 256-bit user password. The optional `bits` argument can",
        "    be used to specify a different size.",
        "LIST",
        "    Show users details in config file format.",
        "LOAD",
        "    Reload users from the ACL file.",
        "LOG [<count> | RESET]",
        "    Show the ACL log entries.",
        "SAVE",
        "    Save the current config to the ACL file.",
        "SETUSER <username> <attribute> [<attribute> ...]",
        "    Create or modify a user with the specified attributes.",
        "USERS",
        "    List all the registered usernames.",
        "WHOAMI",
        "    Return the current connection username.",
        "HELP",
        "    Prints this help."};
    ctx.reply->ArrayLen(sizeof(kHelp) / sizeof(kHelp[0]));
    for (const char* line : kHelp) ctx.reply->SimpleString(line);
  } else {
    // A known subcommand with arguments its handler does not take (the dispatcher already
    // refused unknown ones and arity errors): Redis's addReplySubcommandSyntaxError.
    ctx.reply->Error(absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                                  std::string(sub.substr(0, 128)), "'. Try ACL HELP."));
  }
}

}  // namespace

void RegisterAclFamily(CommandTable* t) {
  constexpr uint32_t kConn = kFast | kLoading | kStale;
  t->Register({"auth", -2, kConn | kNoScript, 0, 0, 0, Auth, "connection",
               "Authenticate to the server", "1.0.0"});
  t->Register({"acl", -2, kAdmin | kNoScript | kLoading | kStale, 0, 0, 0, Acl, "server",
               "A container for Access List Control commands", "6.0.0"});
}

}  // namespace activekv::server
