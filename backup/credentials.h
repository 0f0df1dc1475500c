#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace activekv::backup {

// How to reach and sign for an S3-compatible server. The secret and the session token are
// secrets: they are never logged, never put in a process's arguments and never appear in a
// Status message; print a config with Describe(), which shows endpoint, region and key id only.
struct S3Config {
  std::string endpoint_url;  // "http://127.0.0.1:9000"; empty = https://s3.<region>.amazonaws.com
  std::string region = "us-east-1";
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // optional (temporary credentials)

  // "endpoint=<url> region=<region> access_key_id=<id>": safe to log.
  std::string Describe() const;
  // endpoint_url, or the AWS default for the region; never ends with '/'.
  std::string EffectiveEndpoint() const;
};

// A getenv-like lookup (nullptr when unset); injectable for tests.
using EnvLookup = std::function<const char*(const char*)>;

// From AWS_ENDPOINT_URL, AWS_REGION (default us-east-1), AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN. InvalidArgument (naming the missing variable)
// when the key id or the secret is unset or empty.
absl::StatusOr<S3Config> S3ConfigFromEnv(const EnvLookup& env);
absl::StatusOr<S3Config> S3ConfigFromEnv();

// Parses an AWS shared-credentials style INI text: "[name]" or "[profile name]" sections with
// aws_access_key_id, aws_secret_access_key, aws_session_token, region and endpoint_url; '#'
// and ';' start comments. `origin` names the text in errors (a file path). Errors name the
// profile, the line number or the missing key, never a value.
absl::StatusOr<S3Config> ParseCredentialsIni(std::string_view text, std::string_view profile,
                                             std::string_view origin);
// Reads `path` and parses it as above; NotFound when the file cannot be read.
absl::StatusOr<S3Config> LoadCredentialsFile(const std::string& path, std::string_view profile);

}  // namespace activekv::backup
