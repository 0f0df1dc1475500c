// The keys a command names, from Redis 7.0's key specs (acl/command_meta.h).
#include "region-server/acl/command_meta.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace activekv::server::acl {
namespace {

// (position, flags) of each key of `args`.
std::vector<std::pair<size_t, uint32_t>> Keys(std::vector<std::string_view> args) {
  const CommandMeta* meta = CommandMetaTable::Get().Resolve(args);
  EXPECT_NE(meta, nullptr) << args[0];
  std::vector<KeyRef> keys;
  if (meta != nullptr) CommandMetaTable::GetKeys(*meta, args, &keys);
  std::vector<std::pair<size_t, uint32_t>> out;
  for (const KeyRef& k : keys) out.emplace_back(k.pos, k.flags);
  return out;
}

std::vector<size_t> Positions(std::vector<std::string_view> args) {
  std::vector<size_t> out;
  for (auto [pos, flags] : Keys(std::move(args))) out.push_back(pos);
  return out;
}

TEST(CommandMeta, HasEveryRedisCommandAndSubcommand) {
  const CommandMetaTable& t = CommandMetaTable::Get();
  EXPECT_GT(t.all().size(), 300u);
  ASSERT_NE(t.Find("GET"), nullptr);
  EXPECT_EQ(t.Find("get")->categories, kCatRead | kCatString | kCatFast);
  ASSERT_NE(t.Find("client|list"), nullptr);
  EXPECT_EQ(t.Find("client|list")->container, "client");
  EXPECT_EQ(t.Find("nosuch"), nullptr);
  const std::vector<std::string_view> args = {"CLIENT", "LIST"};
  EXPECT_EQ(t.Resolve(args), t.Find("client|list"));
  const std::vector<std::string_view> bad = {"CLIENT", "NOSUCH"};
  EXPECT_EQ(t.Resolve(bad), nullptr);
  EXPECT_TRUE(t.Find("auth")->flags & kMetaNoAuth);
}

TEST(CommandMeta, KeysFromIndexRangeKeywordAndKeynumSpecs) {
  EXPECT_EQ(Positions({"GET", "k"}), (std::vector<size_t>{1}));
  EXPECT_EQ(Positions({"MSET", "a", "1", "b", "2"}), (std::vector<size_t>{1, 3}));
  EXPECT_EQ(Positions({"DEL", "a", "b", "c"}), (std::vector<size_t>{1, 2, 3}));
  EXPECT_EQ(Positions({"ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"}),
            (std::vector<size_t>{1, 3, 4}));
  EXPECT_EQ(Positions({"XREAD", "COUNT", "1", "STREAMS", "s1", "s2", "0", "0"}),
            (std::vector<size_t>{4, 5}));
  EXPECT_EQ(Positions({"EVAL", "return 1", "2", "a", "b", "argv"}), (std::vector<size_t>{3, 4}));
  EXPECT_EQ(Positions({"EVAL", "return 1", "0"}), (std::vector<size_t>{}));
  // A bad key count: Redis finds no key (the command reports its error).
  EXPECT_EQ(Positions({"EVAL", "return 1", "x", "a"}), (std::vector<size_t>{}));
  EXPECT_EQ(Positions({"EVAL", "return 1", "5", "a"}), (std::vector<size_t>{}));
  EXPECT_EQ(Positions({"PUBLISH", "ch", "m"}), (std::vector<size_t>{}));
}

TEST(CommandMeta, GetkeysRulesForSetBitfieldAndSort) {
  EXPECT_EQ(Keys({"SET", "k", "v"}),
            (std::vector<std::pair<size_t, uint32_t>>{{1, kKeyOW | kKeyUpdate}}));
  EXPECT_EQ(Keys({"SET", "k", "v", "get"}),
            (std::vector<std::pair<size_t, uint32_t>>{{1, kKeyRW | kKeyAccess | kKeyUpdate}}));
  EXPECT_EQ(Keys({"BITFIELD", "k", "GET", "u8", "0"}),
            (std::vector<std::pair<size_t, uint32_t>>{{1, kKeyRO | kKeyAccess}}));
  EXPECT_EQ(Keys({"BITFIELD", "k", "SET", "u8", "0", "1"}),
            (std::vector<std::pair<size_t, uint32_t>>{{1, kKeyRW | kKeyAccess | kKeyUpdate}}));
  EXPECT_EQ(Keys({"SORT", "k", "BY", "w*", "STORE", "d1", "STORE", "d2"}),
            (std::vector<std::pair<size_t, uint32_t>>{{1, kKeyRO | kKeyAccess},
                                                      {7, kKeyOW | kKeyUpdate}}));
}

}  // namespace
}  // namespace activekv::server::acl
