#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "backup/credentials.h"
#include "backup/object_store.h"
#include "backup/s3_options.h"

namespace activekv::backup {

// S3 (or an S3-compatible server) over libcurl: path-style URLs <endpoint>/<bucket>/<key>,
// requests signed by libcurl's CURLOPT_AWS_SIGV4. Keys are stored under the location's prefix
// ("<prefix>/<key>"). docs/backup-locations.md lists the operations and the error mapping.
//
// PutStream uploads objects up to part_size with one PutObject and larger ones as a multipart
// upload, holding one part in memory; any failure aborts the upload (AbortMultipartUpload), so a
// partial object never becomes visible. There are no retries: a failed call returns its error.
//
// Error codes: bad credentials (InvalidAccessKeyId, SignatureDoesNotMatch) and AccessDenied ->
// PermissionDenied naming the key id; NoSuchBucket -> NotFound naming the bucket; NoSuchKey ->
// NotFound; connection refused, DNS failure, timeout, a dropped connection or a 5xx ->
// Unavailable naming the endpoint. Messages never contain the secret.
//
// Not thread-safe (one libcurl easy handle, reused for connection keep-alive).
class S3Store : public ObjectStore {
 public:
  // No I/O. InvalidArgument for a part size under 5 MiB, an empty bucket, an endpoint that is not
  // http:// or https://, or credentials without a key id or secret.
  static absl::StatusOr<std::unique_ptr<S3Store>> Open(std::string bucket, std::string prefix,
                                                       S3Config config, S3StoreOptions options);
  ~S3Store() override;
  S3Store(const S3Store&) = delete;
  S3Store& operator=(const S3Store&) = delete;

  absl::Status Put(const std::string& key, std::string_view data) override;
  absl::Status PutStream(const std::string& key, const Source& source,
                         const Progress& progress) override;
  absl::Status Get(const std::string& key, const Sink& sink) override;
  absl::StatusOr<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  absl::Status Delete(const std::string& key) override;
  std::string Describe() const override;

 private:
  struct Request;
  struct Response {
    long http_status = 0;  // NOLINT(google-runtime-int): libcurl's type
    std::string body;      // error / XML responses (capped); empty when streamed to a sink
    std::string etag;
  };

  S3Store(std::string bucket, std::string prefix, S3Config config, S3StoreOptions options,
          void* curl);
  std::string FullKey(const std::string& key) const;
  absl::StatusOr<Response> Perform(const Request& request);
  // PutObject of one in-memory payload.
  absl::Status PutObject(const std::string& full_key, std::string_view data);
  absl::Status Abort(const std::string& full_key, const std::string& upload_id);

  const std::string bucket_;
  const std::string prefix_;  // no leading or trailing '/'
  const S3Config config_;
  const S3StoreOptions options_;
  const std::string endpoint_;
  void* curl_;  // CURL*
};

namespace s3 {

// S3 minimum part size (all parts but the last).
inline constexpr size_t kMinPartSize = 5 << 20;
inline constexpr int kMaxParts = 10'000;

// Percent-encodes everything but A-Z a-z 0-9 - . _ ~ (and '/', when keep_slash), uppercase hex:
// the SigV4 canonical form.
std::string UriEncode(std::string_view s, bool keep_slash);

// "k1=v1&k2=v2" with keys sorted and both sides UriEncoded: libcurl 7.88 signs the query string
// exactly as given, so it must already be canonical. A parameter without a value is "k=".
std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params);

// Lowercase hex SHA-256 (x-amz-content-sha256).
std::string Sha256Hex(std::string_view data);

// What a failed request was doing, for the error message.
struct ErrorContext {
  std::string op;  // "PutObject"
  std::string bucket;
  std::string key;  // full key; may be empty
  std::string endpoint;
  std::string access_key_id;
};

// Maps a non-2xx response (or a 2xx whose body is an <Error>) to a Status (see S3Store).
absl::Status ErrorFromResponse(int http_status, std::string_view body, const ErrorContext& ctx);

}  // namespace s3
}  // namespace activekv::backup
