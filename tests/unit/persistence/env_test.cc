// Conformance tests run against every Env (POSIX in a temp folder, MemEnv, FaultInjectionEnv with
// no fault active), then the behaviour specific to each.
#include "persistence/env.h"

#include <stdlib.h>

#include <algorithm>
#include <memory>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/fault_env.h"
#include "persistence/mem_env.h"

namespace activekv::persistence {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

std::string MakeTempDir() {
  std::string tmpl = ::testing::TempDir() + "/activekv-env-test-XXXXXX";
  char* dir = ::mkdtemp(tmpl.data());
  EXPECT_NE(dir, nullptr);
  return tmpl;
}

class EnvTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string& kind = GetParam();
    if (kind == "posix") {
      env_ = Env::Default();
      dir_ = MakeTempDir();
    } else {
      mem_ = std::make_unique<MemEnv>();
      env_ = mem_.get();
      dir_ = "/mem";
      if (kind == "fault") {
        fault_ = std::make_unique<FaultInjectionEnv>(mem_.get());
        env_ = fault_.get();
      }
      ASSERT_TRUE(env_->CreateDirs(dir_).ok());
    }
  }
  void TearDown() override {
    if (GetParam() != "posix") return;
    auto children = env_->GetChildren(dir_);
    if (children.ok()) {
      for (const std::string& name : *children) env_->RemoveFile(dir_ + "/" + name).IgnoreError();
    }
    ::rmdir(dir_.c_str());
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Contents(const std::string& name) {
    auto data = ReadFileToString(env_, Path(name));
    EXPECT_TRUE(data.ok()) << data.status();
    return data.ok() ? *data : "";
  }

  Env* env_ = nullptr;
  std::string dir_;
  std::unique_ptr<MemEnv> mem_;
  std::unique_ptr<FaultInjectionEnv> fault_;
};

TEST_P(EnvTest, WrittenBytesReadBack) {
  auto file = env_->NewWritableFile(Path("f"), /*append=*/false);
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append("hello ").ok());
  ASSERT_TRUE((*file)->Append("world").ok());
  ASSERT_TRUE((*file)->Flush().ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Close().ok());
  EXPECT_EQ(Contents("f"), "hello world");
  EXPECT_TRUE(env_->FileExists(Path("f")));
  EXPECT_EQ(*env_->GetFileSize(Path("f")), 11u);
}

TEST_P(EnvTest, AppendKeepsContentAndNonAppendTruncates) {
  ASSERT_TRUE(WriteStringToFile(env_, "abc", Path("f"), true).ok());
  {
    auto file = env_->NewWritableFile(Path("f"), /*append=*/true);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE((*file)->Append("def").ok());
  }
  EXPECT_EQ(Contents("f"), "abcdef");
  ASSERT_TRUE(env_->NewWritableFile(Path("f"), /*append=*/false).ok());
  EXPECT_EQ(Contents("f"), "");
}

TEST_P(EnvTest, SequentialReadInChunksAndSkip) {
  ASSERT_TRUE(WriteStringToFile(env_, "0123456789", Path("f"), false).ok());
  auto file = env_->NewSequentialFile(Path("f"));
  ASSERT_TRUE(file.ok());
  char scratch[16];
  std::string_view got;
  ASSERT_TRUE((*file)->Read(3, &got, scratch).ok());
  EXPECT_EQ(got, "012");
  ASSERT_TRUE((*file)->Skip(4).ok());
  ASSERT_TRUE((*file)->Read(16, &got, scratch).ok());
  EXPECT_EQ(got, "789");
  ASSERT_TRUE((*file)->Read(16, &got, scratch).ok());
  EXPECT_TRUE(got.empty());
}

TEST_P(EnvTest, MissingFileErrorsNameOperationPathAndErrno) {
  auto file = env_->NewSequentialFile(Path("missing"));
  ASSERT_FALSE(file.ok());
  EXPECT_TRUE(absl::IsNotFound(file.status()));
  EXPECT_THAT(file.status().message(),
              HasSubstr("open " + Path("missing") + ": No such file or directory"));
  EXPECT_TRUE(absl::IsNotFound(env_->GetFileSize(Path("missing")).status()));
  EXPECT_TRUE(absl::IsNotFound(env_->RemoveFile(Path("missing"))));
  EXPECT_TRUE(absl::IsNotFound(env_->Truncate(Path("missing"), 0)));
  EXPECT_FALSE(env_->FileExists(Path("missing")));
}

TEST_P(EnvTest, TruncateShrinksOrExtendsWithZeros) {
  ASSERT_TRUE(WriteStringToFile(env_, "0123456789", Path("f"), false).ok());
  ASSERT_TRUE(env_->Truncate(Path("f"), 4).ok());
  EXPECT_EQ(Contents("f"), "0123");
  ASSERT_TRUE(env_->Truncate(Path("f"), 6).ok());
  EXPECT_EQ(Contents("f"), std::string("0123\0\0", 6));
}

TEST_P(EnvTest, AppendAfterTruncateOfOpenFileContinuesAtNewEnd) {
  auto file = env_->NewWritableFile(Path("f"), /*append=*/false);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("good-partial").ok());
  ASSERT_TRUE(env_->Truncate(Path("f"), 4).ok());
  ASSERT_TRUE((*file)->Append("+more").ok());
  EXPECT_EQ(Contents("f"), "good+more");
}

TEST_P(EnvTest, RenameReplacesTarget) {
  ASSERT_TRUE(WriteStringToFile(env_, "new", Path("a"), false).ok());
  ASSERT_TRUE(WriteStringToFile(env_, "old", Path("b"), false).ok());
  ASSERT_TRUE(env_->RenameFile(Path("a"), Path("b")).ok());
  EXPECT_FALSE(env_->FileExists(Path("a")));
  EXPECT_EQ(Contents("b"), "new");
  EXPECT_TRUE(absl::IsNotFound(env_->RenameFile(Path("a"), Path("c"))));
}

TEST_P(EnvTest, RemoveFile) {
  ASSERT_TRUE(WriteStringToFile(env_, "x", Path("f"), false).ok());
  ASSERT_TRUE(env_->RemoveFile(Path("f")).ok());
  EXPECT_FALSE(env_->FileExists(Path("f")));
}

TEST_P(EnvTest, CreateDirsGetChildrenAndSyncDir) {
  ASSERT_TRUE(env_->CreateDirs(Path("x/y/z")).ok());
  ASSERT_TRUE(env_->CreateDirs(Path("x/y/z")).ok());  // already there: fine
  ASSERT_TRUE(WriteStringToFile(env_, "1", Path("x/y/file"), false).ok());
  ASSERT_TRUE(WriteStringToFile(env_, "2", Path("x/top"), false).ok());
  EXPECT_TRUE(env_->FileExists(Path("x/y")));
  auto children = env_->GetChildren(Path("x/y"));
  ASSERT_TRUE(children.ok()) << children.status();
  EXPECT_THAT(*children, UnorderedElementsAre("z", "file"));
  children = env_->GetChildren(Path("x"));
  ASSERT_TRUE(children.ok());
  EXPECT_THAT(*children, UnorderedElementsAre("y", "top"));
  EXPECT_TRUE(env_->SyncDir(Path("x/y")).ok());
  EXPECT_TRUE(env_->SyncDir(dir_).ok());
  EXPECT_FALSE(env_->SyncDir(Path("nope")).ok());
  EXPECT_FALSE(env_->CreateDirs(Path("x/top")).ok());  // a file is in the way
}

TEST(EnvHelpersTest, DirNameOfPaths) {
  EXPECT_EQ(DirName("a/b/c.aof"), "a/b");
  EXPECT_EQ(DirName("c.aof"), ".");
  EXPECT_EQ(DirName("/c.aof"), "/");
}

INSTANTIATE_TEST_SUITE_P(AllEnvs, EnvTest, ::testing::Values("posix", "mem", "fault"),
                         [](const auto& info) { return info.param; });

TEST(PosixEnvTest, FullDiskIsResourceExhaustedWithErrnoText) {
  if (!Env::Default()->FileExists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  auto file = Env::Default()->NewWritableFile("/dev/full", /*append=*/true);
  ASSERT_TRUE(file.ok()) << file.status();
  absl::Status status = (*file)->Append("data");
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_EQ(status.message(), "write /dev/full: No space left on device");
}

TEST(MemEnvTest, DropUnsyncedDataLosesExactlyTheUnsyncedTail) {
  MemEnv env;
  auto a = env.NewWritableFile("a", false);
  auto b = env.NewWritableFile("b", false);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Append("synced-").ok());
  ASSERT_TRUE((*a)->Sync().ok());
  ASSERT_TRUE((*a)->Append("lost").ok());
  ASSERT_TRUE((*b)->Append("never synced").ok());
  EXPECT_EQ(*env.GetSyncedSize("a"), 7u);
  EXPECT_EQ(*env.GetFileSize("a"), 11u);
  EXPECT_EQ(env.sync_count(), 1u);

  env.DropUnsyncedData();
  EXPECT_EQ(*ReadFileToString(&env, "a"), "synced-");
  EXPECT_EQ(*ReadFileToString(&env, "b"), "");
  // The open handle keeps appending after the surviving prefix.
  ASSERT_TRUE((*a)->Append("again").ok());
  EXPECT_EQ(*ReadFileToString(&env, "a"), "synced-again");
}

TEST(MemEnvTest, TruncateIsDurable) {
  MemEnv env;
  ASSERT_TRUE(WriteStringToFile(&env, "0123456789", "f", /*sync=*/false).ok());
  ASSERT_TRUE(env.Truncate("f", 3).ok());
  env.DropUnsyncedData();
  EXPECT_EQ(*ReadFileToString(&env, "f"), "012");
}

TEST(MemEnvTest, OpenFileSurvivesRemove) {
  MemEnv env;
  auto file = env.NewWritableFile("f", false);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE(env.RemoveFile("f").ok());
  EXPECT_TRUE((*file)->Append("into the void").ok());
  EXPECT_FALSE(env.FileExists("f"));
}

class FaultEnvTest : public ::testing::Test {
 protected:
  MemEnv mem_;
  FaultInjectionEnv env_{&mem_};
};

TEST_F(FaultEnvTest, NoSpaceWritesThePrefixThatFitsThenFails) {
  auto file = env_.NewWritableFile("aof", false);
  ASSERT_TRUE(file.ok());
  env_.SetNoSpaceAfter(14);
  ASSERT_TRUE((*file)->Append("0123456789").ok());
  absl::Status status = (*file)->Append("abcdefghij");
  EXPECT_TRUE(absl::IsResourceExhausted(status)) << status;
  EXPECT_EQ(status.message(), "write aof: No space left on device");
  EXPECT_EQ(*ReadFileToString(&mem_, "aof"), "0123456789abcd");
  EXPECT_FALSE((*file)->Append("x").ok());  // still full: nothing written
  EXPECT_EQ(*mem_.GetFileSize("aof"), 14u);
  EXPECT_EQ(env_.failed_write_count(), 2u);
  env_.ClearNoSpace();
  ASSERT_TRUE((*file)->Append("!").ok());
  EXPECT_EQ(*ReadFileToString(&mem_, "aof"), "0123456789abcd!");
  EXPECT_EQ(env_.bytes_appended(), 15u);
}

TEST_F(FaultEnvTest, SyncErrorIsEioUntilCleared) {
  auto file = env_.NewWritableFile("aof", false);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("data").ok());
  env_.SetSyncError(true);
  absl::Status status = (*file)->Sync();
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.message(), "sync aof: Input/output error");
  EXPECT_EQ(*mem_.GetSyncedSize("aof"), 0u);
  EXPECT_EQ(*mem_.GetFileSize("aof"), 4u);  // data kept unless asked to lose it
  env_.SetSyncError(false);
  EXPECT_TRUE((*file)->Sync().ok());
  EXPECT_EQ(*mem_.GetSyncedSize("aof"), 4u);
  EXPECT_EQ(env_.sync_count(), 1u);
  EXPECT_EQ(env_.failed_sync_count(), 1u);
}

TEST_F(FaultEnvTest, FailedSyncCanLoseTheUnsyncedBytes) {
  auto file = env_.NewWritableFile("aof", false);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Append("kept|").ok());
  ASSERT_TRUE((*file)->Sync().ok());
  ASSERT_TRUE((*file)->Append("lost").ok());
  env_.SetSyncError(true, /*lose_unsynced=*/true);
  EXPECT_FALSE((*file)->Sync().ok());
  EXPECT_EQ(*ReadFileToString(&mem_, "aof"), "kept|");
}

TEST_F(FaultEnvTest, WriteErrorWritesNothing) {
  auto file = env_.NewWritableFile("aof", false);
  ASSERT_TRUE(file.ok());
  env_.SetWriteError(true);
  absl::Status status = (*file)->Append("data");
  EXPECT_EQ(status.message(), "write aof: Input/output error");
  EXPECT_EQ(*mem_.GetFileSize("aof"), 0u);
  env_.SetWriteError(false);
  EXPECT_TRUE((*file)->Append("data").ok());
}

TEST_F(FaultEnvTest, OpenErrorFailsBothKindsOfOpen) {
  ASSERT_TRUE(WriteStringToFile(&mem_, "x", "f", false).ok());
  env_.SetOpenError(true);
  EXPECT_FALSE(env_.NewWritableFile("f", true).ok());
  auto seq = env_.NewSequentialFile("f");
  ASSERT_FALSE(seq.ok());
  EXPECT_EQ(seq.status().message(), "open f: Input/output error");
  env_.SetOpenError(false);
  EXPECT_TRUE(env_.NewSequentialFile("f").ok());
}

}  // namespace
}  // namespace activekv::persistence
