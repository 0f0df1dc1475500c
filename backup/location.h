#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace activekv::backup {

// Where backups are stored: a local directory or a prefix inside an S3 bucket.
struct Location {
  enum Kind { kLocal, kS3 };
  Kind kind = kLocal;
  std::string path;    // kLocal: the directory, as given (trailing '/' removed)
  std::string bucket;  // kS3: the bucket name
  std::string prefix;  // kS3: the key prefix without leading or trailing '/'; may be empty

  // "s3://bucket/prefix" or the local path.
  std::string ToString() const;
};

// Parses "s3://bucket[/prefix...]" or a filesystem path. Errors (InvalidArgument) name the input
// and what is wrong: an empty location, "s3://" without a bucket, a bucket name S3 would refuse
// (3-63 characters of a-z 0-9 . -, starting and ending with a letter or digit), an empty prefix
// segment ("a//b"), a "." or ".." segment, another URL scheme ("http://...").
absl::StatusOr<Location> ParseLocation(std::string_view text);

}  // namespace activekv::backup
