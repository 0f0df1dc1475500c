#include "region-server/pubsub.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "region-server/server.h"

namespace activekv::server {
namespace {

using Kind = PubSub::Kind;

// Collects what each client would be sent.
struct Sink {
  std::vector<std::pair<const Client*, std::string>> sent;
  PubSub::Deliver deliver() {
    return [this](Client& c, std::string_view bytes) { sent.emplace_back(&c, bytes); };
  }
};

std::vector<std::string> Names(const SubscriptionSet& set) {
  return {set.names().begin(), set.names().end()};
}

TEST(SubscriptionSet, KeepsSubscriptionOrderAndRefusesDuplicates) {
  SubscriptionSet s;
  EXPECT_TRUE(s.Insert("b"));
  EXPECT_TRUE(s.Insert("a"));
  EXPECT_FALSE(s.Insert("b"));
  EXPECT_TRUE(s.Insert("c"));
  EXPECT_EQ(Names(s), (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_TRUE(s.Erase("a"));
  EXPECT_FALSE(s.Erase("a"));
  EXPECT_TRUE(s.Insert("a"));
  EXPECT_EQ(Names(s), (std::vector<std::string>{"b", "c", "a"}));
  EXPECT_TRUE(s.Contains("c"));
  EXPECT_FALSE(s.Contains("z"));
}

TEST(PubSub, DeliversToChannelThenPatternSubscribersInTheirProtocol) {
  Sink sink;
  PubSub ps(sink.deliver());
  Client c2, c3;
  c3.protocol = 3;
  ps.Subscribe(&c2, Kind::kChannel, "news");
  ps.Subscribe(&c3, Kind::kPattern, "n*");
  ps.Subscribe(&c3, Kind::kPattern, "x*");
  EXPECT_EQ(ps.Publish("news", "hi", /*shard=*/false), 2u);
  ASSERT_EQ(sink.sent.size(), 2u);
  EXPECT_EQ(sink.sent[0].first, &c2);
  EXPECT_EQ(sink.sent[0].second, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
  EXPECT_EQ(sink.sent[1].first, &c3);
  EXPECT_EQ(sink.sent[1].second, ">4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$2\r\nhi\r\n");
  // A client subscribed to a channel and a matching pattern gets the message twice (Redis).
  ps.Subscribe(&c3, Kind::kChannel, "news");
  sink.sent.clear();
  EXPECT_EQ(ps.Publish("news", "again", false), 3u);
  EXPECT_EQ(sink.sent.size(), 3u);
  EXPECT_EQ(ps.Publish("zzz", "x", false), 0u);
  EXPECT_EQ(c3.subs.count(), 3u);
}

TEST(PubSub, ShardChannelsAreANamespaceOfTheirOwn) {
  Sink sink;
  PubSub ps(sink.deliver());
  Client a, b;
  ps.Subscribe(&a, Kind::kShard, "s");
  ps.Subscribe(&b, Kind::kChannel, "s");
  ps.Subscribe(&b, Kind::kPattern, "*");
  EXPECT_EQ(ps.Publish("s", "m", /*shard=*/true), 1u);
  ASSERT_EQ(sink.sent.size(), 1u);
  EXPECT_EQ(sink.sent[0].second, "*3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nm\r\n");
  EXPECT_EQ(ps.NumSub(true, "s"), 1u);
  EXPECT_EQ(ps.NumSub(false, "s"), 1u);
  EXPECT_EQ(a.subs.count(), 0u) << "shard subscriptions are counted apart";
  EXPECT_TRUE(a.subs.any());
}

TEST(PubSub, UnsubscribeAndForgetLeaveNothingBehind) {
  Sink sink;
  PubSub ps(sink.deliver());
  Client a, b;
  ps.Subscribe(&a, Kind::kChannel, "c");
  ps.Subscribe(&b, Kind::kChannel, "c");
  ps.Subscribe(&a, Kind::kPattern, "p*");
  ps.Subscribe(&a, Kind::kShard, "s");
  EXPECT_EQ(ps.channel_count(), 1u);
  EXPECT_EQ(ps.NumPat(), 1u);
  EXPECT_FALSE(ps.Unsubscribe(&a, Kind::kChannel, "other"));
  ps.Forget(&a);
  EXPECT_FALSE(a.subs.any());
  EXPECT_EQ(ps.NumSub(false, "c"), 1u);
  EXPECT_EQ(ps.NumPat(), 0u);
  EXPECT_EQ(ps.shard_channel_count(), 0u);
  EXPECT_TRUE(ps.Unsubscribe(&b, Kind::kChannel, "c"));
  EXPECT_EQ(ps.channel_count(), 0u) << "a channel without subscribers is gone";
  EXPECT_EQ(ps.Publish("c", "m", false), 0u);
  EXPECT_TRUE(sink.sent.empty());
  const std::string_view pattern = "c*";
  ps.Subscribe(&b, Kind::kChannel, "cat");
  ps.Subscribe(&b, Kind::kChannel, "dog");
  std::vector<std::string_view> names = ps.Channels(false, &pattern);
  EXPECT_EQ(names, (std::vector<std::string_view>{"cat"}));
  EXPECT_EQ(ps.Channels(false, nullptr).size(), 2u);
}

}  // namespace
}  // namespace activekv::server
