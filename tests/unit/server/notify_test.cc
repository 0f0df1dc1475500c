// Keyspace notification classes (Redis 7.0's keyspaceEventsStringToFlags / FlagsToString) and
// Notifier's channels and messages.
#include "region-server/notify.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "region-server/pubsub.h"
#include "region-server/server.h"

namespace activekv::server {
namespace {

std::string Canonical(std::string_view classes) {
  uint32_t flags = 0;
  if (!ParseNotifyFlags(classes, &flags)) return "<invalid>";
  return NotifyFlagsToString(flags);
}

TEST(NotifyFlags, CanonicalFormIsRedisOrder) {
  EXPECT_EQ(Canonical(""), "");
  EXPECT_EQ(Canonical("KEA"), "AKE");
  EXPECT_EQ(Canonical("g$lshzxetd"), "A");
  EXPECT_EQ(Canonical("Kx"), "xK");
  EXPECT_EQ(Canonical("EnmK$l"), "$lnKEm");
  EXPECT_EQ(Canonical("KEAmn"), "AKEm");  // Redis 7.0 hides n after A
  EXPECT_EQ(Canonical("sdhzetgx"), "gshzxetd");
  EXPECT_EQ(Canonical("AAgg"), "A");
}

TEST(NotifyFlags, UnknownCharacterIsRefused) {
  uint32_t flags = 7;
  EXPECT_FALSE(ParseNotifyFlags("KEb", &flags));
  EXPECT_FALSE(ParseNotifyFlags("K E", &flags));
  EXPECT_FALSE(ParseNotifyFlags("a", &flags));
  EXPECT_EQ(flags, 7u);  // unchanged
}

TEST(NotifyFlags, OnNeedsAChannelAndAClass) {
  PubSub pubsub([](Client&, std::string_view) {});
  Notifier n(&pubsub);
  EXPECT_FALSE(n.on());
  n.set_flags(kNotifyKeyspace | kNotifyKeyevent);
  EXPECT_FALSE(n.on());
  n.set_flags(kNotifyAll);
  EXPECT_FALSE(n.on());
  n.set_flags(kNotifyKeyevent | kNotifyKeyMiss);
  EXPECT_TRUE(n.on());
}

TEST(Notifier, PublishesKeyspaceThenKeyeventForItsClassesOnly) {
  std::vector<std::string> delivered;
  PubSub pubsub([&](Client&, std::string_view bytes) { delivered.emplace_back(bytes); });
  Client client;
  ASSERT_TRUE(pubsub.Subscribe(&client, PubSub::Kind::kPattern, "__key*__:*"));
  Notifier n(&pubsub);
  n.set_flags(kNotifyKeyspace | kNotifyKeyevent | kNotifyString);
  n.Notify(kNotifyString, "set", "k", 3);
  n.Notify(kNotifyHash, "hset", "h", 0);  // class off
  ASSERT_EQ(delivered.size(), 2u);
  EXPECT_EQ(
      delivered[0],
      "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$16\r\n__keyspace@3__:k\r\n$3\r\nset\r\n");
  EXPECT_EQ(
      delivered[1],
      "*4\r\n$8\r\npmessage\r\n$10\r\n__key*__:*\r\n$18\r\n__keyevent@3__:set\r\n$1\r\nk\r\n");
  n.set_flags(kNotifyKeyevent | kNotifyString);
  n.Notify(kNotifyString, "append", "k", 0);
  ASSERT_EQ(delivered.size(), 3u);
  EXPECT_NE(delivered[2].find("__keyevent@0__:append"), std::string::npos);
  pubsub.Forget(&client);
}

}  // namespace
}  // namespace activekv::server
