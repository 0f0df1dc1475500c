#include "backup/location.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace activekv::backup {
namespace {

using ::testing::HasSubstr;

TEST(LocationTest, S3BucketAndNestedPrefix) {
  auto loc = ParseLocation("s3://my-bucket/backups/prod/eu");
  ASSERT_TRUE(loc.ok()) << loc.status();
  EXPECT_EQ(loc->kind, Location::kS3);
  EXPECT_EQ(loc->bucket, "my-bucket");
  EXPECT_EQ(loc->prefix, "backups/prod/eu");
  EXPECT_EQ(loc->ToString(), "s3://my-bucket/backups/prod/eu");
}

TEST(LocationTest, S3BucketOnlyAndTrailingSlashes) {
  auto a = ParseLocation("s3://bucket1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->bucket, "bucket1");
  EXPECT_EQ(a->prefix, "");
  auto b = ParseLocation("s3://bucket1/pre/");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->prefix, "pre");
}

TEST(LocationTest, LocalPath) {
  auto loc = ParseLocation("/var/backups/akv/");
  ASSERT_TRUE(loc.ok());
  EXPECT_EQ(loc->kind, Location::kLocal);
  EXPECT_EQ(loc->path, "/var/backups/akv");
  auto rel = ParseLocation("backups");
  ASSERT_TRUE(rel.ok());
  EXPECT_EQ(rel->path, "backups");
  EXPECT_EQ(ParseLocation("/")->path, "/");
}

TEST(LocationTest, BadFormsAreRejectedWithTheReason) {
  struct Case {
    const char* in;
    const char* reason;
  };
  for (const Case& c : {Case{"", "empty"}, Case{"s3://", "names no bucket"},
                        Case{"s3:///prefix", "names no bucket"},
                        Case{"s3://Bad_Bucket/x", "not a valid S3 bucket name"},
                        Case{"s3://ab/x", "not a valid S3 bucket name"},
                        Case{"s3://-bucket/x", "not a valid S3 bucket name"},
                        Case{"s3://bucket/a//b", "empty, '.' or '..' segment"},
                        Case{"s3://bucket/a/../b", "empty, '.' or '..' segment"},
                        Case{"http://host/bucket", "unsupported scheme 'http'"},
                        Case{"gs://bucket/x", "unsupported scheme 'gs'"}}) {
    auto loc = ParseLocation(c.in);
    ASSERT_FALSE(loc.ok()) << c.in;
    EXPECT_EQ(loc.status().code(), absl::StatusCode::kInvalidArgument) << c.in;
    EXPECT_THAT(std::string(loc.status().message()), HasSubstr(c.reason)) << c.in;
  }
}

}  // namespace
}  // namespace activekv::backup
