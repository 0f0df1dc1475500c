// The S3 store's request helpers and error mapping, without a server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "backup/s3_store.h"

namespace activekv::backup::s3 {
namespace {

using ::testing::HasSubstr;

TEST(S3RequestTest, UriEncodeKeepsUnreservedAndOptionallySlash) {
  EXPECT_EQ(UriEncode("a-z_0.9~/b c+d=e&f", true), "a-z_0.9~/b%20c%2Bd%3De%26f");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriEncode("\xc3\xa9", true), "%C3%A9");
}

TEST(S3RequestTest, CanonicalQueryIsSortedAndEncoded) {
  // libcurl 7.88 signs the query as given: it must already be sorted and encoded.
  EXPECT_EQ(CanonicalQuery({{"prefix", "a b/"},
                            {"max-keys", "3"},
                            {"list-type", "2"},
                            {"continuation-token", "x+y/z="}}),
            "continuation-token=x%2By%2Fz%3D&list-type=2&max-keys=3&prefix=a%20b%2F");
  EXPECT_EQ(CanonicalQuery({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQuery({{"uploadId", "u"}, {"partNumber", "10"}}), "partNumber=10&uploadId=u");
}

TEST(S3RequestTest, Sha256Hex) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

ErrorContext Ctx() { return ErrorContext{"PutObject", "bk", "pre/k", "http://h:1", "AKIDX"}; }

std::string Body(const char* code) {
  return std::string("<Error><Code>") + code + "</Code><Message>m</Message></Error>";
}

TEST(S3RequestTest, BadCredentialsArePermissionDeniedNamingTheKeyId) {
  for (const char* code : {"InvalidAccessKeyId", "SignatureDoesNotMatch"}) {
    absl::Status s = ErrorFromResponse(403, Body(code), Ctx());
    EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << code;
    EXPECT_THAT(std::string(s.message()), HasSubstr("'AKIDX'"));
    EXPECT_THAT(std::string(s.message()), HasSubstr(code));
    EXPECT_THAT(std::string(s.message()), HasSubstr("s3://bk/pre/k"));
  }
  absl::Status denied = ErrorFromResponse(403, Body("AccessDenied"), Ctx());
  EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(denied.message()), HasSubstr("AKIDX"));
}

TEST(S3RequestTest, MissingBucketAndKeyAreNotFound) {
  absl::Status bucket = ErrorFromResponse(404, Body("NoSuchBucket"), Ctx());
  EXPECT_EQ(bucket.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(bucket.message()), HasSubstr("bucket 'bk' does not exist"));
  EXPECT_EQ(ErrorFromResponse(404, Body("NoSuchKey"), Ctx()).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ErrorFromResponse(404, "", Ctx()).code(), absl::StatusCode::kNotFound);
}

TEST(S3RequestTest, ServerErrorsAreUnavailableOthersInvalidArgument) {
  EXPECT_EQ(ErrorFromResponse(503, Body("SlowDown"), Ctx()).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorFromResponse(500, "", Ctx()).code(), absl::StatusCode::kUnavailable);
  // CompleteMultipartUpload can fail inside a 200.
  EXPECT_EQ(ErrorFromResponse(200, Body("InternalError"), Ctx()).code(),
            absl::StatusCode::kUnavailable);
  absl::Status redirect = ErrorFromResponse(301, Body("PermanentRedirect"), Ctx());
  EXPECT_EQ(redirect.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(redirect.message()), HasSubstr("region"));
  absl::Status small = ErrorFromResponse(400, Body("EntityTooSmall"), Ctx());
  EXPECT_EQ(small.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(small.message()), HasSubstr("EntityTooSmall"));
}

TEST(S3RequestTest, OpenRejectsSmallPartsAndBadEndpoints) {
  S3Config c;
  c.endpoint_url = "http://127.0.0.1:1";
  c.access_key_id = "AKIDX";
  c.secret_access_key = "secret";
  S3StoreOptions o;
  o.part_size = kMinPartSize - 1;
  EXPECT_EQ(S3Store::Open("bk", "", c, o).status().code(), absl::StatusCode::kInvalidArgument);
  c.endpoint_url = "ftp://host";
  EXPECT_EQ(S3Store::Open("bk", "", c, S3StoreOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
  c.endpoint_url = "http://127.0.0.1:1";
  c.secret_access_key = "";
  EXPECT_EQ(S3Store::Open("bk", "", c, S3StoreOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace activekv::backup::s3
