#include "region-server/pubsub.h"

#include <algorithm>

#include "region-server/glob.h"
#include "region-server/resp/reply.h"
#include "region-server/server.h"

namespace activekv::server {
namespace {
// Debian's Abseil has its own string_view: heterogeneous lookups take that one.
absl::string_view Key(std::string_view s) { return absl::string_view(s.data(), s.size()); }
}  // namespace

bool SubscriptionSet::Insert(std::string_view name) {
  if (index_.contains(Key(name))) return false;
  order_.emplace_back(name);
  auto it = std::prev(order_.end());
  index_.emplace(Key(*it), it);
  return true;
}

bool SubscriptionSet::Erase(std::string_view name) {
  auto found = index_.find(Key(name));
  if (found == index_.end()) return false;
  auto it = found->second;
  index_.erase(found);
  order_.erase(it);
  return true;
}

bool SubscriptionSet::Contains(std::string_view name) const { return index_.contains(Key(name)); }

PubSub::Registry& PubSub::RegistryOf(Kind kind) {
  switch (kind) {
    case Kind::kChannel:
      return channels_;
    case Kind::kPattern:
      return patterns_;
    case Kind::kShard:
      break;
  }
  return shard_;
}

SubscriptionSet& PubSub::SetOf(Client* client, Kind kind) {
  switch (kind) {
    case Kind::kChannel:
      return client->subs.channels;
    case Kind::kPattern:
      return client->subs.patterns;
    case Kind::kShard:
      break;
  }
  return client->subs.shard_channels;
}

bool PubSub::Subscribe(Client* client, Kind kind, std::string_view name) {
  if (!SetOf(client, kind).Insert(name)) return false;
  RegistryOf(kind)[Key(name)].push_back(client);
  return true;
}

bool PubSub::Unsubscribe(Client* client, Kind kind, std::string_view name) {
  if (!SetOf(client, kind).Erase(name)) return false;
  Registry& registry = RegistryOf(kind);
  auto it = registry.find(Key(name));
  if (it == registry.end()) return true;
  std::vector<Client*>& subscribers = it->second;
  subscribers.erase(std::find(subscribers.begin(), subscribers.end(), client));
  if (subscribers.empty()) registry.erase(it);
  return true;
}

void PubSub::Forget(Client* client) {
  for (Kind kind : {Kind::kChannel, Kind::kPattern, Kind::kShard}) {
    SubscriptionSet& set = SetOf(client, kind);
    while (!set.empty()) Unsubscribe(client, kind, std::string(set.names().front()));
  }
}

namespace {
// One message in both protocols, each encoded on first use: RESP2 "*3"/"*4", RESP3 ">3"/">4".
class Encoded {
 public:
  Encoded(std::string_view kind, const std::string_view* pattern, std::string_view channel,
          std::string_view message)
      : kind_(kind), pattern_(pattern), channel_(channel), message_(message) {}

  std::string_view For(int protocol) {
    std::string& out = protocol == 3 ? resp3_ : resp2_;
    if (out.empty()) {
      resp::ReplyBuilder r(&out, protocol);
      r.PushLen(pattern_ != nullptr ? 4 : 3);
      r.Bulk(kind_);
      if (pattern_ != nullptr) r.Bulk(*pattern_);
      r.Bulk(channel_);
      r.Bulk(message_);
    }
    return out;
  }

 private:
  std::string_view kind_;
  const std::string_view* pattern_;
  std::string_view channel_;
  std::string_view message_;
  std::string resp2_;
  std::string resp3_;
};
}  // namespace

size_t PubSub::Publish(std::string_view channel, std::string_view message, bool shard) {
  size_t receivers = 0;
  const Registry& registry = shard ? shard_ : channels_;
  if (auto it = registry.find(Key(channel)); it != registry.end()) {
    Encoded encoded(shard ? "smessage" : "message", nullptr, channel, message);
    for (Client* client : it->second) {
      deliver_(*client, encoded.For(client->protocol));
      ++receivers;
    }
  }
  if (shard) return receivers;
  for (const auto& [pattern, subscribers] : patterns_) {
    if (!GlobMatch(pattern, channel)) continue;
    const std::string_view p(pattern);
    Encoded encoded("pmessage", &p, channel, message);
    for (Client* client : subscribers) {
      deliver_(*client, encoded.For(client->protocol));
      ++receivers;
    }
  }
  return receivers;
}

std::vector<std::string_view> PubSub::Channels(bool shard, const std::string_view* pattern) const {
  std::vector<std::string_view> out;
  for (const auto& [name, subscribers] : shard ? shard_ : channels_) {
    if (pattern == nullptr || GlobMatch(*pattern, name)) out.emplace_back(name);
  }
  return out;
}

size_t PubSub::NumSub(bool shard, std::string_view channel) const {
  const Registry& registry = shard ? shard_ : channels_;
  auto it = registry.find(Key(channel));
  return it == registry.end() ? 0 : it->second.size();
}

}  // namespace activekv::server
