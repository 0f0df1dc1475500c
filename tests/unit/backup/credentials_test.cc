#include "backup/credentials.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace activekv::backup {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG:bPxRfiCYEXAMPLEKEY";

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(CredentialsTest, FromEnvironment) {
  auto c = S3ConfigFromEnv(FakeEnv({{"AWS_ENDPOINT_URL", "http://127.0.0.1:9000/"},
                                    {"AWS_REGION", "eu-west-3"},
                                    {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                                    {"AWS_SECRET_ACCESS_KEY", kSecret},
                                    {"AWS_SESSION_TOKEN", "tok"}}));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->endpoint_url, "http://127.0.0.1:9000/");
  EXPECT_EQ(c->EffectiveEndpoint(), "http://127.0.0.1:9000");
  EXPECT_EQ(c->region, "eu-west-3");
  EXPECT_EQ(c->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(c->secret_access_key, kSecret);
  EXPECT_EQ(c->session_token, "tok");
}

TEST(CredentialsTest, RegionDefaultsToUsEast1AndEndpointToAws) {
  auto c = S3ConfigFromEnv(
      FakeEnv({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}, {"AWS_SECRET_ACCESS_KEY", kSecret}}));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->region, "us-east-1");
  EXPECT_EQ(c->EffectiveEndpoint(), "https://s3.us-east-1.amazonaws.com");
}

TEST(CredentialsTest, MissingVariablesAreNamed) {
  auto no_id = S3ConfigFromEnv(FakeEnv({{"AWS_SECRET_ACCESS_KEY", kSecret}}));
  ASSERT_FALSE(no_id.ok());
  EXPECT_THAT(std::string(no_id.status().message()), HasSubstr("AWS_ACCESS_KEY_ID"));
  EXPECT_THAT(std::string(no_id.status().message()), Not(HasSubstr(kSecret)));
  auto no_secret = S3ConfigFromEnv(FakeEnv({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"}}));
  ASSERT_FALSE(no_secret.ok());
  EXPECT_THAT(std::string(no_secret.status().message()), HasSubstr("AWS_SECRET_ACCESS_KEY"));
}

TEST(CredentialsTest, DescribeShowsEndpointRegionAndKeyIdButNeverSecrets) {
  S3Config c;
  c.endpoint_url = "http://minio:9000";
  c.region = "eu-north-1";
  c.access_key_id = "AKIDEXAMPLE";
  c.secret_access_key = kSecret;
  c.session_token = "SESSIONTOKENVALUE";
  const std::string d = c.Describe();
  EXPECT_THAT(d, HasSubstr("http://minio:9000"));
  EXPECT_THAT(d, HasSubstr("eu-north-1"));
  EXPECT_THAT(d, HasSubstr("AKIDEXAMPLE"));
  EXPECT_THAT(d, Not(HasSubstr(kSecret)));
  EXPECT_THAT(d, Not(HasSubstr("wJalr")));
  EXPECT_THAT(d, Not(HasSubstr("SESSIONTOKENVALUE")));
}

constexpr char kIni[] = R"(# shared credentials
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret-default

[profile backup]
aws_access_key_id=AKIDBACKUP
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG:bPxRfiCYEXAMPLEKEY
region = eu-west-1
endpoint_url = http://10.0.0.5:9000
; a comment
output = json

[nosecret]
aws_access_key_id = AKIDNOSECRET
)";

TEST(CredentialsTest, IniProfilesWithAndWithoutProfileWord) {
  auto d = ParseCredentialsIni(kIni, "default", "creds.ini");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(d->secret_access_key, "secret-default");
  EXPECT_EQ(d->region, "us-east-1");
  EXPECT_EQ(d->endpoint_url, "");

  auto b = ParseCredentialsIni(kIni, "backup", "creds.ini");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->access_key_id, "AKIDBACKUP");
  EXPECT_EQ(b->secret_access_key, kSecret);
  EXPECT_EQ(b->region, "eu-west-1");
  EXPECT_EQ(b->endpoint_url, "http://10.0.0.5:9000");
}

TEST(CredentialsTest, IniErrorsNameProfileAndFileButNoValues) {
  auto missing = ParseCredentialsIni(kIni, "prod", "creds.ini");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("[prod]"));
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("creds.ini"));

  auto no_secret = ParseCredentialsIni(kIni, "nosecret", "creds.ini");
  ASSERT_FALSE(no_secret.ok());
  EXPECT_THAT(std::string(no_secret.status().message()), HasSubstr("aws_secret_access_key"));

  auto garbage = ParseCredentialsIni("[default]\nthis line holds " + std::string(kSecret) + "\n",
                                     "default", "creds.ini");
  ASSERT_FALSE(garbage.ok());
  EXPECT_THAT(std::string(garbage.status().message()), HasSubstr("creds.ini:2"));
  EXPECT_THAT(std::string(garbage.status().message()), Not(HasSubstr(kSecret)));
}

TEST(CredentialsTest, UnreadableFileIsNotFound) {
  auto c = LoadCredentialsFile("/nonexistent/activekv/credentials", "default");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("/nonexistent/activekv/credentials"));
}

}  // namespace
}  // namespace activekv::backup
