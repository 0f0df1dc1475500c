// persistence/byte_queue.h against a std::string model: random appends (across block
// boundaries, empty, larger than a block), front drops, splices and piece walks from any offset.
// Seeds: BYTE_QUEUE_SEED=<seed> replays one history (each failure prints its seed).
#include "persistence/byte_queue.h"

#include <cstdlib>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace activekv::persistence {
namespace {

std::string Contents(const ByteQueue& q, size_t from = 0) {
  std::string out;
  absl::Status status = q.ForEachPiece(from, [&](std::string_view piece) {
    EXPECT_FALSE(piece.empty());
    out.append(piece);
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok());
  return out;
}

uint32_t SeedOrRandom() {
  if (const char* s = std::getenv("BYTE_QUEUE_SEED")) return static_cast<uint32_t>(std::atoll(s));
  return std::random_device{}();
}

TEST(ByteQueue, MatchesAStringModel) {
  for (int round = 0; round < 20; ++round) {
    const uint32_t seed = SeedOrRandom();
    SCOPED_TRACE(absl::StrCat("BYTE_QUEUE_SEED=", seed));
    std::mt19937 rng(seed);
    ByteQueue q, other;
    std::string model, other_model;
    char next = 0;
    for (int step = 0; step < 400; ++step) {
      switch (rng() % 6) {
        case 0:
        case 1: {  // append: mostly record-sized, sometimes more than a block
          size_t n = rng() % 8 == 0 ? rng() % (3 * ByteQueue::kBlockSize) : rng() % 300;
          std::string data(n, '\0');
          for (char& c : data) c = next++;
          q.Append(data);
          model += data;
          break;
        }
        case 2: {  // drop a prefix
          size_t n = model.empty() ? 0 : rng() % (model.size() + 1);
          q.DropFront(n);
          model.erase(0, n);
          break;
        }
        case 3: {  // hand everything over, then keep appending to the receiver
          q.SpliceTo(&other);
          other_model += model;
          model.clear();
          std::swap(q, other);
          std::swap(model, other_model);
          break;
        }
        case 4: {  // a piece walk from an offset
          size_t from = rng() % (model.size() + 1);
          ASSERT_EQ(Contents(q, from), model.substr(from));
          break;
        }
        case 5:
          if (rng() % 10 == 0) {
            q.Clear();
            model.clear();
          }
          break;
      }
      ASSERT_EQ(q.size(), model.size());
      ASSERT_EQ(q.empty(), model.empty());
    }
    ASSERT_EQ(Contents(q), model);
    ASSERT_EQ(Contents(other), other_model);
  }
}

TEST(ByteQueue, AWalkStopsAtTheFirstError) {
  ByteQueue q;
  q.Append(std::string(ByteQueue::kBlockSize * 2 + 10, 'x'));
  int calls = 0;
  absl::Status status = q.ForEachPiece(0, [&](std::string_view) {
    ++calls;
    return absl::DataLossError("disk");
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(calls, 1);
}

TEST(ByteQueue, AppendsDoNotMoveQueuedBytes) {
  ByteQueue q;
  q.Append("first");
  const char* where = nullptr;
  ASSERT_TRUE(q.ForEachPiece(0, [&](std::string_view piece) {
                 where = piece.data();
                 return absl::OkStatus();
               }).ok());
  for (int i = 0; i < 1000; ++i) q.Append(std::string(1000, 'y'));  // many blocks
  const char* now = nullptr;
  ASSERT_TRUE(q.ForEachPiece(0, [&](std::string_view piece) {
                 if (now == nullptr) now = piece.data();
                 return absl::OkStatus();
               }).ok());
  EXPECT_EQ(now, where);
}

// The kAlways AOF's blocks travel one way (event loop -> background thread by SpliceTo) and come
// back by TakeSpareFrom: the next append reuses the block instead of allocating one.
TEST(ByteQueue, SplicedBlocksComeBackForReuse) {
  auto first_piece = [](const ByteQueue& q) {
    const char* p = nullptr;
    EXPECT_TRUE(q.ForEachPiece(0, [&](std::string_view piece) {
                   if (p == nullptr) p = piece.data();
                   return absl::OkStatus();
                 }).ok());
    return p;
  };
  ByteQueue loop, background;
  loop.Append("record");
  const char* block = first_piece(loop);
  loop.SpliceTo(&background);
  EXPECT_TRUE(loop.empty());
  EXPECT_EQ(Contents(background), "record");
  background.Clear();
  loop.TakeSpareFrom(&background);
  loop.Append("next");
  EXPECT_EQ(first_piece(loop), block);
  EXPECT_EQ(Contents(loop), "next");
}

}  // namespace
}  // namespace activekv::persistence
