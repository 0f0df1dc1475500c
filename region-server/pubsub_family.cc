// SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE PUBLISH SPUBLISH PUBSUB
// (Redis 7.0's pubsub.c replies). Subscriptions live in region-server/pubsub.h; PUBLISH also
// goes to every peer region (Server::Publish, docs/messaging.md).
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "region-server/command.h"
#include "region-server/pubsub.h"
#include "region-server/server.h"

namespace activekv::server {
namespace {

using Kind = PubSub::Kind;

// "subscribe <name> <count>" and its siblings, as a push in RESP3.
void ReplySubscription(CommandContext& ctx, std::string_view verb, const std::string_view* name,
                       size_t count) {
  ctx.reply->PushLen(3);
  ctx.reply->Bulk(verb);
  if (name != nullptr) {
    ctx.reply->Bulk(*name);
  } else {
    ctx.reply->Null();
  }
  ctx.reply->Integer(static_cast<int64_t>(count));
}

size_t CountFor(const Client& client, Kind kind) {
  return kind == Kind::kShard ? client.subs.shard_channels.size() : client.subs.count();
}

void SubscribeGeneric(CommandContext& ctx, Kind kind, std::string_view verb) {
  Client& client = *ctx.client;
  // A client that expects one reply per command cannot enter pub/sub mode; Redis 7.0 lets
  // SUBSCRIBE and PSUBSCRIBE through inside MULTI (backward compatibility), not SSUBSCRIBE.
  if (client.deny_blocking && (kind == Kind::kShard || !client.tx.multi)) {
    std::string upper(ctx.args[0]);
    absl::AsciiStrToUpper(&upper);
    ctx.reply->Error(absl::StrCat("ERR ", upper, " isn't allowed for a DENY BLOCKING client"));
    return;
  }
  for (size_t i = 1; i < ctx.args.size(); ++i) {
    ctx.server->pubsub().Subscribe(&client, kind, ctx.args[i]);
    ReplySubscription(ctx, verb, &ctx.args[i], CountFor(client, kind));
  }
}

void UnsubscribeGeneric(CommandContext& ctx, Kind kind, std::string_view verb) {
  Client& client = *ctx.client;
  PubSub& pubsub = ctx.server->pubsub();
  if (ctx.args.size() > 1) {
    for (size_t i = 1; i < ctx.args.size(); ++i) {
      pubsub.Unsubscribe(&client, kind, ctx.args[i]);
      ReplySubscription(ctx, verb, &ctx.args[i], CountFor(client, kind));
    }
    return;
  }
  const SubscriptionSet& set = kind == Kind::kChannel   ? client.subs.channels
                               : kind == Kind::kPattern ? client.subs.patterns
                                                        : client.subs.shard_channels;
  if (set.empty()) {
    ReplySubscription(ctx, verb, nullptr, CountFor(client, kind));
    return;
  }
  while (!set.empty()) {
    const std::string name = set.names().front();
    pubsub.Unsubscribe(&client, kind, name);
    const std::string_view view(name);
    ReplySubscription(ctx, verb, &view, CountFor(client, kind));
  }
}

void Subscribe(CommandContext& ctx) { SubscribeGeneric(ctx, Kind::kChannel, "subscribe"); }
void PSubscribe(CommandContext& ctx) { SubscribeGeneric(ctx, Kind::kPattern, "psubscribe"); }
void SSubscribe(CommandContext& ctx) { SubscribeGeneric(ctx, Kind::kShard, "ssubscribe"); }
void Unsubscribe(CommandContext& ctx) { UnsubscribeGeneric(ctx, Kind::kChannel, "unsubscribe"); }
void PUnsubscribe(CommandContext& ctx) { UnsubscribeGeneric(ctx, Kind::kPattern, "punsubscribe"); }
void SUnsubscribe(CommandContext& ctx) { UnsubscribeGeneric(ctx, Kind::kShard, "sunsubscribe"); }

void Publish(CommandContext& ctx) {
  ctx.reply->Integer(
      static_cast<int64_t>(ctx.server->Publish(ctx.args[1], ctx.args[2], /*shard=*/false)));
}

void SPublish(CommandContext& ctx) {
  ctx.reply->Integer(
      static_cast<int64_t>(ctx.server->Publish(ctx.args[1], ctx.args[2], /*shard=*/true)));
}

constexpr std::string_view kPubsubHelp[] = {
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
};

void PubsubCommand(CommandContext& ctx) {
  const auto& args = ctx.args;
  const PubSub& pubsub = ctx.server->pubsub();
  const std::string_view sub = args[1];
  const size_t n = args.size();
  if (n == 2 && EqualsIgnoreCase(sub, "help")) {
    ctx.reply->ArrayLen(std::size(kPubsubHelp));
    for (std::string_view line : kPubsubHelp) ctx.reply->SimpleString(line);
    return;
  }
  const bool shardchannels = EqualsIgnoreCase(sub, "shardchannels");
  if ((EqualsIgnoreCase(sub, "channels") || shardchannels) && (n == 2 || n == 3)) {
    const std::string_view* pattern = n == 3 ? &args[2] : nullptr;
    std::vector<std::string_view> names = pubsub.Channels(shardchannels, pattern);
    ctx.reply->ArrayLen(names.size());
    for (std::string_view name : names) ctx.reply->Bulk(name);
    return;
  }
  const bool shardnumsub = EqualsIgnoreCase(sub, "shardnumsub");
  if (EqualsIgnoreCase(sub, "numsub") || shardnumsub) {
    ctx.reply->ArrayLen(2 * (n - 2));
    for (size_t i = 2; i < n; ++i) {
      ctx.reply->Bulk(args[i]);
      ctx.reply->Integer(static_cast<int64_t>(pubsub.NumSub(shardnumsub, args[i])));
    }
    return;
  }
  if (EqualsIgnoreCase(sub, "numpat") && n == 2) {
    ctx.reply->Integer(static_cast<int64_t>(pubsub.NumPat()));
    return;
  }
  ctx.reply->Error(absl::StrCat("ERR unknown subcommand or wrong number of arguments for '",
                                std::string(sub), "'. Try PUBSUB HELP."));
}

}  // namespace

bool AllowedInPubSubMode(const CommandSpec& spec) {
  const std::string_view n = spec.name;
  return n == "subscribe" || n == "psubscribe" || n == "ssubscribe" || n == "unsubscribe" ||
         n == "punsubscribe" || n == "sunsubscribe" || n == "ping" || n == "quit" || n == "reset";
}

void RegisterPubsubFamily(CommandTable* t) {
  constexpr uint32_t kSub = kPubSub | kNoScript | kLoading | kStale;
  constexpr uint32_t kPub = kPubSub | kLoading | kStale | kFast;
  t->Register({"subscribe", -2, kSub, 0, 0, 0, Subscribe, "pubsub",
               "Listen for messages published to the given channels", "2.0.0"});
  t->Register({"unsubscribe", -1, kSub, 0, 0, 0, Unsubscribe, "pubsub",
               "Stop listening for messages posted to the given channels", "2.0.0"});
  t->Register({"psubscribe", -2, kSub, 0, 0, 0, PSubscribe, "pubsub",
               "Listen for messages published to channels matching the given patterns", "2.0.0"});
  t->Register({"punsubscribe", -1, kSub, 0, 0, 0, PUnsubscribe, "pubsub",
               "Stop listening for messages posted to channels matching the given patterns",
               "2.0.0"});
  t->Register({"ssubscribe", -2, kSub, 1, -1, 1, SSubscribe, "pubsub",
               "Listen for messages published to the given shard channels", "7.0.0"});
  t->Register({"sunsubscribe", -1, kSub, 1, -1, 1, SUnsubscribe, "pubsub",
               "Stop listening for messages posted to the given shard channels", "7.0.0"});
  t->Register(
      {"publish", 3, kPub, 0, 0, 0, Publish, "pubsub", "Post a message to a channel", "2.0.0"});
  t->Register({"spublish", 3, kPub, 1, 1, 1, SPublish, "pubsub",
               "Post a message to a shard channel", "7.0.0"});
  t->Register({"pubsub", -2, kPubSub | kLoading | kStale, 0, 0, 0, PubsubCommand, "pubsub",
               "A container for Pub/Sub commands", "2.8.0"});
}

}  // namespace activekv::server
