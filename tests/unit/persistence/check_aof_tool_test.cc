// Runs the real activekv-check-aof binary on files in a temp folder.
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <string>
#include <vector>

#include "activekv/v1/op.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/aof_format.h"
#include "persistence/aof_writer.h"
#include "persistence/env.h"

namespace activekv::persistence {
namespace {

using ::testing::HasSubstr;

struct RunResult {
  int exit_code = -1;
  std::string output;
};

RunResult RunTool(const std::string& args) {
  RunResult result;
  std::string command = std::string(ACTIVEKV_CHECK_AOF) + " " + args + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) result.output.append(buf, n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string Batch(int ops) {
  v1::OpBatch batch;
  for (int i = 0; i < ops; ++i) {
    v1::Op* op = batch.add_ops();
    op->set_origin("us-east");
    op->set_seq(static_cast<uint64_t>(i + 1));
    op->set_key("key" + std::to_string(i));
    op->mutable_set()->set_value("value");
  }
  return batch.SerializeAsString();
}

class CheckAofToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/activekv-check-aof-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/appendonly.aof";
  }
  void TearDown() override {
    Env::Default()->RemoveFile(path_).IgnoreError();
    ::rmdir(dir_.c_str());
  }
  // Three records of 1, 2 and 3 ops; `offsets` gets their offsets.
  std::string ValidImage(std::vector<uint64_t>* offsets) {
    std::string image = aof::FileHeader();
    for (int ops = 1; ops <= 3; ++ops) {
      offsets->push_back(image.size());
      aof::EncodeRecord(Batch(ops), &image);
    }
    return image;
  }
  void Write(const std::string& image) {
    ASSERT_TRUE(WriteStringToFile(Env::Default(), image, path_, false).ok());
  }

  std::string dir_;
  std::string path_;
};

TEST_F(CheckAofToolTest, CleanFileExitsZeroWithCounts) {
  std::vector<uint64_t> offsets;
  Write(ValidImage(&offsets));
  RunResult r = RunTool(path_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("records: 3\nops: 6\n"));
  EXPECT_THAT(r.output, HasSubstr("AOF is valid"));
  r = RunTool("--verbose " + path_);
  EXPECT_THAT(r.output, HasSubstr("us-east:1 set \"key0\""));
}

TEST_F(CheckAofToolTest, MidFileCorruptionIsReportedAndFixDropsEverythingFromIt) {
  std::vector<uint64_t> offsets;
  std::string image = ValidImage(&offsets);
  image[offsets[1] + aof::kRecordHeaderSize + 2] ^= 0x40;
  Write(image);
  RunResult r = RunTool(path_);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("first problem: byte offset " + std::to_string(offsets[1]) +
                                  ": mid-file corruption: record payload checksum mismatch"));
  EXPECT_THAT(r.output, HasSubstr("1 valid records after it"));
  EXPECT_THAT(r.output, HasSubstr("records: 1\nops: 1\n"));

  r = RunTool("--fix " + path_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("dropped " + std::to_string(image.size() - offsets[1]) +
                                  " bytes and 1 valid records"));
  EXPECT_EQ(*Env::Default()->GetFileSize(path_), offsets[1]);
  r = RunTool(path_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(CheckAofToolTest, TornTailIsDamagedAndFixable) {
  std::vector<uint64_t> offsets;
  std::string image = ValidImage(&offsets);
  image.resize(image.size() - 1);
  Write(image);
  RunResult r = RunTool(path_);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("torn tail"));
  EXPECT_EQ(RunTool("--fix " + path_).exit_code, 0);
  EXPECT_EQ(*Env::Default()->GetFileSize(path_), offsets[2]);
}

TEST_F(CheckAofToolTest, UndecodablePayloadIsAProblem) {
  std::string image = aof::FileHeader();
  aof::EncodeRecord(Batch(1), &image);
  aof::EncodeRecord("\xff\xff\xff", &image);
  Write(image);
  RunResult r = RunTool(path_);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("undecodable record"));
}

TEST_F(CheckAofToolTest, NotAnAofIsNotFixable) {
  Write("*1\r\n$4\r\nPING\r\n");
  RunResult r = RunTool("--fix " + path_);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_THAT(r.output, HasSubstr("not fixable"));
  EXPECT_EQ(*Env::Default()->GetFileSize(path_), 14u);
}

TEST_F(CheckAofToolTest, UsageAndMissingFileExitTwo) {
  EXPECT_EQ(RunTool("").exit_code, 2);
  EXPECT_EQ(RunTool("--bogus " + path_).exit_code, 2);
  RunResult r = RunTool(dir_ + "/missing.aof");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.output, HasSubstr("No such file or directory"));
}

}  // namespace
}  // namespace activekv::persistence
