// A command's ops are one unit (Op.unit_continues): one AOF record, and a unit that was written
// as several records (Region::AppendRecord, too large for one) replays whole or not at all
// (docs/aof-format.md, "Units").
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "activekv/v1/op.pb.h"
#include "gtest/gtest.h"
#include "in_process_server.h"
#include "persistence/aof_reader.h"
#include "persistence/aof_writer.h"

namespace activekv::server {
namespace {

constexpr char kAof[] = "/mem/r1/appendonly.aof";

std::vector<v1::OpBatch> Records(persistence::Env* env) { return testing::AofOpRecords(env, kAof); }

// A SET of `key` by origin "x" (a peer's op, as AppendRecord would have split it).
std::string OneOpRecord(uint64_t seq, const std::string& key, bool continues) {
  v1::OpBatch batch;
  v1::Op* op = batch.add_ops();
  op->set_origin("x");
  op->set_seq(seq);
  op->set_hlc(uint64_t{1'700'000'000'000} << 16);
  op->set_key(key);
  op->mutable_set()->set_value("v");
  op->set_unit_continues(continues);
  return batch.SerializeAsString();
}

// Writes an AOF holding a one-op unit x:1 and the unit x:2..x:4 as one record per op, or only
// its first `unit_records` records (the rest never reached the disk). Returns the file size
// after x:1's record.
uint64_t WriteSplitUnit(persistence::Env* env, int unit_records) {
  EXPECT_TRUE(env->CreateDirs("/mem/r1").ok());
  auto file = env->NewWritableFile(kAof, /*append=*/false);
  EXPECT_TRUE(file.ok()) << file.status();
  persistence::aof::Writer writer(file->get());
  EXPECT_TRUE(writer.WriteFileHeader().ok());
  EXPECT_TRUE(writer.AddRecord(OneOpRecord(1, "single", false)).ok());
  const uint64_t size = persistence::aof::kFileHeaderSize + persistence::aof::kRecordHeaderSize +
                        OneOpRecord(1, "single", false).size();
  for (int i = 0; i < unit_records; ++i) {
    EXPECT_TRUE(writer.AddRecord(OneOpRecord(2 + i, absl::StrCat("u", i), i < 2)).ok());
  }
  EXPECT_TRUE((*file)->Sync().ok());
  EXPECT_TRUE((*file)->Close().ok());
  return size;
}

TEST(Units, ACommandsOpsAreOneUnitInOneRecord) {
  persistence::MemEnv env;
  {
    testing::InProcessServer s(&env);
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    ASSERT_EQ(s.Run({"mset", "a", "1", "b", "2", "c", "3"}), "+OK\r\n");
    ASSERT_EQ(s.Run({"set", "d", "4"}), "+OK\r\n");
  }
  std::vector<v1::OpBatch> records = Records(&env);
  ASSERT_EQ(records.size(), 2u);
  ASSERT_EQ(records[0].ops_size(), 3);
  EXPECT_TRUE(records[0].ops(0).unit_continues());
  EXPECT_TRUE(records[0].ops(1).unit_continues());
  EXPECT_FALSE(records[0].ops(2).unit_continues());
  ASSERT_EQ(records[1].ops_size(), 1);
  // A one-op unit sets nothing: its bytes are what they were before units existed.
  v1::Op plain = records[1].ops(0);
  EXPECT_FALSE(plain.unit_continues());
  std::string bytes = plain.SerializeAsString();
  plain.set_unit_continues(true);
  EXPECT_EQ(plain.SerializeAsString().size(), bytes.size() + 2);
}

TEST(Units, AUnitSplitOverSeveralRecordsReplaysWhole) {
  persistence::MemEnv env;
  WriteSplitUnit(&env, 3);
  testing::InProcessServer s(&env);
  ASSERT_TRUE(s.start_status().ok()) << s.start_status();
  EXPECT_EQ(s.Run({"mget", "single", "u0", "u1", "u2"}),
            "*4\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n$1\r\nv\r\n");
}

TEST(Units, AUnitWhoseLastRecordIsMissingIsCutOffLikeATornTail) {
  for (int records = 1; records <= 2; ++records) {
    SCOPED_TRACE(absl::StrCat(records, " of the unit's 3 records on disk"));
    persistence::MemEnv env;
    const uint64_t before_unit = WriteSplitUnit(&env, records);
    {
      testing::InProcessServer s(&env);
      ASSERT_TRUE(s.start_status().ok()) << s.start_status();
      EXPECT_EQ(s.Run({"mget", "single", "u0", "u1", "u2"}),
                "*4\r\n$1\r\nv\r\n$-1\r\n$-1\r\n$-1\r\n")
          << "half a unit was applied";
      absl::StatusOr<uint64_t> size = env.GetFileSize(kAof);
      ASSERT_TRUE(size.ok());
      EXPECT_EQ(*size, before_unit) << "the unit's records are cut off";
      EXPECT_EQ(s.Run({"set", "after", "1"}), "+OK\r\n");
    }
    testing::InProcessServer s(&env);  // and the file is clean again
    ASSERT_TRUE(s.start_status().ok()) << s.start_status();
    EXPECT_EQ(s.Run({"mget", "single", "u0", "after"}), "*3\r\n$1\r\nv\r\n$-1\r\n$1\r\n1\r\n");
  }
}

}  // namespace
}  // namespace activekv::server
