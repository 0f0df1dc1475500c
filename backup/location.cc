#include "backup/location.h"

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace activekv::backup {
namespace {

constexpr absl::string_view kS3Scheme = "s3://";

bool ValidBucketName(const std::string& b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) return false;
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  return alnum(b.front()) && alnum(b.back());
}

}  // namespace

std::string Location::ToString() const {
  if (kind == kLocal) return path;
  return prefix.empty() ? absl::StrCat("s3://", bucket)
                        : absl::StrCat("s3://", bucket, "/", prefix);
}

absl::StatusOr<Location> ParseLocation(std::string_view text) {
  const std::string in(text);
  if (in.empty()) return absl::InvalidArgumentError("backup location is empty");
  Location loc;
  if (absl::StartsWith(in, kS3Scheme)) {
    std::string rest = in.substr(kS3Scheme.size());
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    const size_t slash = rest.find('/');
    loc.kind = Location::kS3;
    loc.bucket = rest.substr(0, slash);
    if (loc.bucket.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("backup location '", in, "' names no bucket (expected s3://bucket/prefix)"));
    }
    if (!ValidBucketName(loc.bucket)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "backup location '", in, "': '", loc.bucket,
          "' is not a valid S3 bucket name (3-63 characters of a-z, 0-9, '.', '-', starting and "
          "ending with a letter or digit)"));
    }
    if (slash != std::string::npos) {
      loc.prefix = rest.substr(slash + 1);
      for (absl::string_view seg : absl::StrSplit(loc.prefix, '/')) {
        if (seg.empty() || seg == "." || seg == "..") {
          return absl::InvalidArgumentError(absl::StrCat("backup location '", in, "': the prefix '",
                                                         loc.prefix,
                                                         "' has an empty, '.' or '..' segment"));
        }
      }
    }
    return loc;
  }
  const size_t scheme = in.find("://");
  if (scheme != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("backup location '", in, "': unsupported scheme '", in.substr(0, scheme),
                     "' (use s3://bucket/prefix or a local directory)"));
  }
  loc.kind = Location::kLocal;
  loc.path = in;
  while (loc.path.size() > 1 && loc.path.back() == '/') loc.path.pop_back();
  return loc;
}

}  // namespace activekv::backup
