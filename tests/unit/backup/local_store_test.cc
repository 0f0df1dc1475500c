#include "backup/local_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "backup/object_store.h"

namespace activekv::backup {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadAll(ObjectStore& store, const std::string& key, absl::Status* status) {
  std::string out;
  *status = store.Get(key, [&](std::string_view chunk) {
    out.append(chunk.data(), chunk.size());
    return absl::OkStatus();
  });
  return out;
}

std::vector<std::string> Keys(const std::vector<ObjectInfo>& v) {
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const auto& o : v) out.push_back(o.key);
  return out;
}

class LocalStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/activekv-backup-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto store = LocalStore::Open(dir_ + "/root");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
  std::unique_ptr<LocalStore> store_;
};

TEST_F(LocalStoreTest, PutGetListDelete) {
  ASSERT_TRUE(store_->Put("a.txt", "hello").ok());
  absl::Status s;
  EXPECT_EQ(ReadAll(*store_, "a.txt", &s), "hello");
  ASSERT_TRUE(s.ok()) << s;
  auto listed = store_->List("");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].key, "a.txt");
  EXPECT_EQ((*listed)[0].size, 5u);
  ASSERT_TRUE(store_->Delete("a.txt").ok());
  EXPECT_TRUE(store_->List("")->empty());
  ReadAll(*store_, "a.txt", &s);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(store_->Delete("a.txt").ok()) << "deleting a missing key succeeds, as on S3";
}

TEST_F(LocalStoreTest, OverwriteReplacesWholeObject) {
  ASSERT_TRUE(store_->Put("k", std::string(100000, 'x')).ok());
  ASSERT_TRUE(store_->Put("k", "short").ok());
  absl::Status s;
  EXPECT_EQ(ReadAll(*store_, "k", &s), "short");
}

TEST_F(LocalStoreTest, NestedKeysAreSubdirectoriesAndListFiltersByPrefix) {
  for (const char* k : {"snap/1/manifest", "snap/1/data/0001", "snap/2/manifest", "snapx", "z"}) {
    ASSERT_TRUE(store_->Put(k, k).ok()) << k;
  }
  struct stat st;
  ASSERT_EQ(stat((dir_ + "/root/snap/1/data/0001").c_str(), &st), 0);
  EXPECT_THAT(Keys(*store_->List("")),
              ElementsAre("snap/1/data/0001", "snap/1/manifest", "snap/2/manifest", "snapx", "z"));
  EXPECT_THAT(Keys(*store_->List("snap/")),
              ElementsAre("snap/1/data/0001", "snap/1/manifest", "snap/2/manifest"));
  EXPECT_THAT(Keys(*store_->List("snap")),
              ElementsAre("snap/1/data/0001", "snap/1/manifest", "snap/2/manifest", "snapx"));
  EXPECT_THAT(Keys(*store_->List("snap/1/d")), ElementsAre("snap/1/data/0001"));
  EXPECT_TRUE(store_->List("nothing")->empty());
  // Deleting the last key of a directory removes the directories it leaves empty.
  ASSERT_TRUE(store_->Delete("snap/1/data/0001").ok());
  EXPECT_NE(stat((dir_ + "/root/snap/1/data").c_str(), &st), 0);
  EXPECT_EQ(stat((dir_ + "/root/snap/1").c_str(), &st), 0);
}

TEST_F(LocalStoreTest, InvalidKeysAreRejected) {
  for (const char* k : {"", "/abs", "a//b", "a/../b", "..", ".", "a/"}) {
    EXPECT_EQ(store_->Put(k, "x").code(), absl::StatusCode::kInvalidArgument) << k;
    absl::Status s;
    ReadAll(*store_, k, &s);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << k;
  }
}

TEST_F(LocalStoreTest, StreamUploadOfManyChunks) {
  std::mt19937_64 rng(::testing::UnitTest::GetInstance()->random_seed());
  std::string expected;
  std::string buf;  // one buffer reused for every chunk: the store must copy before asking again
  int chunks = 0;
  std::vector<uint64_t> progress;
  absl::Status s = store_->PutStream(
      "stream/obj",
      [&]() -> absl::StatusOr<std::string_view> {
        if (chunks++ == 200) return std::string_view();
        buf.assign(1 + rng() % 9000, static_cast<char>('a' + rng() % 26));
        expected += buf;
        return std::string_view(buf.data(), buf.size());
      },
      [&](uint64_t done) { progress.push_back(done); });
  ASSERT_TRUE(s.ok()) << s;
  absl::Status g;
  EXPECT_EQ(ReadAll(*store_, "stream/obj", &g), expected);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), expected.size());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
}

TEST_F(LocalStoreTest, FailedStreamLeavesNoObjectAndNoTempFile) {
  ASSERT_TRUE(store_->Put("keep", "old").ok());
  int calls = 0;
  absl::Status s = store_->PutStream(
      "keep",
      [&]() -> absl::StatusOr<std::string_view> {
        if (calls++ < 3) return std::string_view("partial");
        return absl::DataLossError("source broke");
      },
      /*progress=*/nullptr);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  absl::Status g;
  EXPECT_EQ(ReadAll(*store_, "keep", &g), "old");
  EXPECT_THAT(Keys(*store_->List("")), ElementsAre("keep"));
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir_ + "/root")) {
    files += e.is_regular_file();
  }
  EXPECT_EQ(files, 1) << "a temporary file was left behind";
}

TEST_F(LocalStoreTest, TemporaryFilesAreNotListed) {
  std::ofstream(dir_ + "/root/.akv-tmp-123-0-x") << "torn";
  ASSERT_TRUE(store_->Put("x", "y").ok());
  EXPECT_THAT(Keys(*store_->List("")), ElementsAre("x"));
}

TEST_F(LocalStoreTest, OpenOnAFileFails) {
  std::ofstream(dir_ + "/plainfile") << "x";
  auto store = LocalStore::Open(dir_ + "/plainfile");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(LocalStoreTest, ValidateLocationSucceedsAndLeavesNothing) {
  absl::Status s = ValidateLocation(*store_);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(store_->List("")->empty());
}

TEST_F(LocalStoreTest, OpenObjectStoreForALocalLocation) {
  auto loc = ParseLocation(dir_ + "/via-location/");
  ASSERT_TRUE(loc.ok());
  auto store = OpenObjectStore(*loc, S3Config());
  ASSERT_TRUE(store.ok()) << store.status();
  ASSERT_TRUE((*store)->Put("a/b", "c").ok());
  struct stat st;
  EXPECT_EQ(stat((dir_ + "/via-location/a/b").c_str(), &st), 0);
}

// A store whose one operation fails: ValidateLocation must name that step.
class FailingStore : public ObjectStore {
 public:
  FailingStore(ObjectStore* inner, std::string failing)
      : inner_(inner), failing_(std::move(failing)) {}
  absl::Status Put(const std::string& key, std::string_view data) override {
    if (failing_ == "put") return absl::PermissionDeniedError("no write for you");
    return inner_->Put(key, data);
  }
  absl::Status PutStream(const std::string& key, const Source& source,
                         const Progress& progress) override {
    return inner_->PutStream(key, source, progress);
  }
  absl::Status Get(const std::string& key, const Sink& sink) override {
    if (failing_ == "get") return sink("garbage");
    return inner_->Get(key, sink);
  }
  absl::StatusOr<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    if (failing_ == "list") return std::vector<ObjectInfo>{};
    return inner_->List(prefix);
  }
  absl::Status Delete(const std::string& key) override {
    if (failing_ == "delete") return absl::UnavailableError("endpoint gone");
    return inner_->Delete(key);
  }
  std::string Describe() const override { return "failing"; }

 private:
  ObjectStore* inner_;
  std::string failing_;
};

TEST_F(LocalStoreTest, ValidateLocationNamesTheFailingStep) {
  struct Case {
    const char* failing;
    absl::StatusCode code;
    const char* step;
  };
  for (const Case& c : {Case{"put", absl::StatusCode::kPermissionDenied, "write failed"},
                        Case{"get", absl::StatusCode::kDataLoss, "read back failed"},
                        Case{"list", absl::StatusCode::kDataLoss, "list failed"},
                        Case{"delete", absl::StatusCode::kUnavailable, "delete failed"}}) {
    FailingStore store(store_.get(), c.failing);
    absl::Status s = ValidateLocation(store);
    EXPECT_EQ(s.code(), c.code) << c.failing;
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.step)) << c.failing;
    EXPECT_THAT(std::string(s.message()), HasSubstr("failing")) << c.failing;
    // A step failing after the write still removes the probe (unless Delete is what fails).
    auto left = store_->List("");
    ASSERT_TRUE(left.ok());
    EXPECT_EQ(left->size(), std::string(c.failing) == "delete" ? 1u : 0u) << c.failing;
    for (const ObjectInfo& o : *left) ASSERT_TRUE(store_->Delete(o.key).ok());
  }
}

}  // namespace
}  // namespace activekv::backup
