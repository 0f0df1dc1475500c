#include "backup/credentials.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace activekv::backup {

std::string S3Config::Describe() const {
  return absl::StrCat("endpoint=", EffectiveEndpoint(), " region=", region,
                      " access_key_id=", access_key_id);
}

std::string S3Config::EffectiveEndpoint() const {
  std::string e =
      endpoint_url.empty() ? absl::StrCat("https://s3.", region, ".amazonaws.com") : endpoint_url;
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

absl::StatusOr<S3Config> S3ConfigFromEnv(const EnvLookup& env) {
  auto get = [&](const char* name) -> std::string {
    const char* v = env(name);
    return v == nullptr ? std::string() : std::string(v);
  };
  S3Config c;
  c.endpoint_url = get("AWS_ENDPOINT_URL");
  const std::string region = get("AWS_REGION");
  if (!region.empty()) c.region = region;
  c.access_key_id = get("AWS_ACCESS_KEY_ID");
  c.secret_access_key = get("AWS_SECRET_ACCESS_KEY");
  c.session_token = get("AWS_SESSION_TOKEN");
  if (c.access_key_id.empty()) {
    return absl::InvalidArgumentError("S3 credentials: AWS_ACCESS_KEY_ID is not set");
  }
  if (c.secret_access_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "S3 credentials: AWS_SECRET_ACCESS_KEY is not set (access key id ", c.access_key_id, ")"));
  }
  return c;
}

absl::StatusOr<S3Config> S3ConfigFromEnv() {
  return S3ConfigFromEnv([](const char* name) { return std::getenv(name); });
}

absl::StatusOr<S3Config> ParseCredentialsIni(std::string_view text, std::string_view profile,
                                             std::string_view origin) {
  const std::string want(profile);
  const std::string where(origin);
  S3Config c;
  bool in_profile = false;
  bool found = false;
  int line_no = 0;
  for (absl::string_view raw : absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    ++line_no;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      if (line.back() != ']') {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ":", line_no, ": unterminated section header"));
      }
      absl::string_view name = absl::StripAsciiWhitespace(line.substr(1, line.size() - 2));
      if (absl::ConsumePrefix(&name, "profile ")) name = absl::StripAsciiWhitespace(name);
      in_profile = (name == want);
      found = found || in_profile;
      continue;
    }
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      // Never echo the line: it may hold a secret.
      return absl::InvalidArgumentError(
          absl::StrCat(where, ":", line_no, ": expected 'key = value'"));
    }
    if (!in_profile) continue;
    const std::string key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, eq)));
    const std::string value(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    if (key == "aws_access_key_id") {
      c.access_key_id = value;
    } else if (key == "aws_secret_access_key") {
      c.secret_access_key = value;
    } else if (key == "aws_session_token") {
      c.session_token = value;
    } else if (key == "region") {
      c.region = value;
    } else if (key == "endpoint_url") {
      c.endpoint_url = value;
    }  // other AWS settings are ignored
  }
  if (!found) {
    return absl::NotFoundError(absl::StrCat(where, ": no profile [", want, "]"));
  }
  if (c.access_key_id.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": profile [", want, "] has no aws_access_key_id"));
  }
  if (c.secret_access_key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": profile [", want, "] has no aws_secret_access_key"));
  }
  if (c.region.empty()) c.region = "us-east-1";
  return c;
}

absl::StatusOr<S3Config> LoadCredentialsFile(const std::string& path, std::string_view profile) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read credentials file ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseCredentialsIni(ss.str(), profile, path);
}

}  // namespace activekv::backup
