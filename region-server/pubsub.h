#pragma once

// Pub/sub within one region (Redis 7.0's pubsub.c): who is subscribed to which channel, pattern or
// shard channel, and delivery of a published message to them. Messages from other regions are
// delivered here too (the Server hands them over from the replicator); sending local messages to
// peers is the Server's job, not this registry's. docs/messaging.md is the specification.
//
// Event-loop thread only. Delivery goes through the `Deliver` function given at construction
// (the Server appends to the client's connection; tests collect), so this class does no I/O.

#include <cstddef>
#include <functional>
#include <list>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace activekv::server {

struct Client;
struct CommandSpec;

// In RESP2 a client with a subscription may run only these: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE,
// PING, QUIT, RESET (pubsub_family.cc).
bool AllowedInPubSubMode(const CommandSpec& spec);

// Names in subscription order (Redis 7.0 answers PUNSUBSCRIBE without arguments in the order the
// patterns were subscribed; we use the same order for channels).
class SubscriptionSet {
 public:
  bool Insert(std::string_view name);  // false: already present
  bool Erase(std::string_view name);   // false: absent
  bool Contains(std::string_view name) const;
  size_t size() const { return order_.size(); }
  bool empty() const { return order_.empty(); }
  const std::list<std::string>& names() const { return order_; }

 private:
  std::list<std::string> order_;  // nodes never move: index_ keys view them
  absl::flat_hash_map<absl::string_view, std::list<std::string>::iterator> index_;
};

// What one client is subscribed to.
struct Subscriptions {
  SubscriptionSet channels;
  SubscriptionSet patterns;
  SubscriptionSet shard_channels;
  // SUBSCRIBE / PSUBSCRIBE / UNSUBSCRIBE / PUNSUBSCRIBE reply with this count; SSUBSCRIBE and
  // SUNSUBSCRIBE with shard_channels.size().
  size_t count() const { return channels.size() + patterns.size(); }
  // The client is in pub/sub mode (Redis's CLIENT_PUBSUB): in RESP2 only (P|S)SUBSCRIBE,
  // (P|S)UNSUBSCRIBE, PING, QUIT and RESET are allowed.
  bool any() const { return count() + shard_channels.size() > 0; }
};

class PubSub {
 public:
  enum class Kind { kChannel, kPattern, kShard };
  // Appends one encoded message (in the client's protocol) to what `client` will be sent.
  using Deliver = std::function<void(Client& client, std::string_view bytes)>;

  explicit PubSub(Deliver deliver) : deliver_(std::move(deliver)) {}

  // The client's own set (Client::subs) and the registry change together. False: it already
  // was (is not) subscribed.
  bool Subscribe(Client* client, Kind kind, std::string_view name);
  bool Unsubscribe(Client* client, Kind kind, std::string_view name);
  // Drops every subscription of `client` without replying (disconnect, RESET).
  void Forget(Client* client);

  // Delivers `message` to this region's subscribers of `channel` (shard: the shard channel
  // namespace) -- channel subscribers in subscription order, then every matching pattern's --
  // and returns how many deliveries were made (PUBLISH's reply).
  size_t Publish(std::string_view channel, std::string_view message, bool shard);

  // PUBSUB CHANNELS / SHARDCHANNELS: the active channels matching `pattern` (all when null).
  std::vector<std::string_view> Channels(bool shard, const std::string_view* pattern) const;
  // PUBSUB NUMSUB / SHARDNUMSUB: subscribers of one channel (patterns not counted).
  size_t NumSub(bool shard, std::string_view channel) const;
  // PUBSUB NUMPAT: distinct patterns with a subscriber.
  size_t NumPat() const { return patterns_.size(); }
  size_t channel_count() const { return channels_.size(); }
  size_t shard_channel_count() const { return shard_.size(); }

 private:
  using Registry = absl::flat_hash_map<std::string, std::vector<Client*>>;
  Registry& RegistryOf(Kind kind);
  static SubscriptionSet& SetOf(Client* client, Kind kind);

  Deliver deliver_;
  Registry channels_;
  Registry patterns_;
  Registry shard_;
};

}  // namespace activekv::server
