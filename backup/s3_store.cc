#include "backup/s3_store.h"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "backup/s3_xml.h"

namespace activekv::backup {
namespace s3 {

std::string UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string CanonicalQuery(std::vector<std::pair<std::string, std::string>> params) {
  for (auto& [k, v] : params) {
    k = UriEncode(k, false);
    v = UriEncode(v, false);
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, k, "=", v);
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(size_t{2} * len);
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

absl::Status ErrorFromResponse(int http_status, std::string_view body, const ErrorContext& ctx) {
  const std::string code = xml::FirstText(body, "Code").value_or("");
  const std::string message = xml::FirstText(body, "Message").value_or("");
  const std::string object = ctx.key.empty() ? absl::StrCat("s3://", ctx.bucket)
                                             : absl::StrCat("s3://", ctx.bucket, "/", ctx.key);
  const std::string what = absl::StrCat(ctx.op, " ", object, ": ");
  const std::string detail = absl::StrCat("(HTTP ", http_status, code.empty() ? "" : " ", code,
                                          message.empty() ? "" : ": ", message, ")");
  if (code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch") {
    return absl::PermissionDeniedError(absl::StrCat(
        what, ctx.endpoint, " rejected the credentials of access key id '", ctx.access_key_id,
        code == "InvalidAccessKeyId" ? "': the key id is unknown "
                                     : "': the secret does not match ",
        detail));
  }
  if (code == "AccessDenied" || (code.empty() && http_status == 403)) {
    return absl::PermissionDeniedError(
        absl::StrCat(what, "access denied to access key id '", ctx.access_key_id, "' ", detail));
  }
  if (code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" ||
      (http_status >= 300 && http_status < 400)) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, "the bucket is not served by ", ctx.endpoint,
                     " in this region: check AWS_REGION / region and the endpoint ", detail));
  }
  if (code == "NoSuchBucket") {
    return absl::NotFoundError(absl::StrCat(what, "bucket '", ctx.bucket, "' does not exist at ",
                                            ctx.endpoint, " ", detail));
  }
  if (code == "NoSuchKey" || (code.empty() && http_status == 404)) {
    return absl::NotFoundError(absl::StrCat(what, "no such object ", detail));
  }
  if (code == "NoSuchUpload") {
    return absl::NotFoundError(absl::StrCat(what, "the multipart upload is gone ", detail));
  }
  if (http_status >= 500 || code == "SlowDown" || code == "InternalError") {
    return absl::UnavailableError(
        absl::StrCat(what, "server error at ", ctx.endpoint, " ", detail));
  }
  if (http_status >= 400 && http_status < 500) {
    return absl::InvalidArgumentError(absl::StrCat(what, "request refused ", detail));
  }
  return absl::UnknownError(absl::StrCat(what, "unexpected response ", detail));
}

}  // namespace s3

namespace {

constexpr size_t kMaxErrorBody = 1 << 20;

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool IsTransportError(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

struct S3Store::Request {
  const char* op = "";
  const char* method = "GET";  // GET, PUT, POST, DELETE
  std::string full_key;        // "" = the bucket itself
  std::string query;           // canonical (s3::CanonicalQuery)
  std::string_view body;       // PUT / POST payload
  const Sink* sink = nullptr;  // GET: 2xx body goes here
};

absl::StatusOr<std::unique_ptr<S3Store>> S3Store::Open(std::string bucket, std::string prefix,
                                                       S3Config config, S3StoreOptions options) {
  if (bucket.empty()) return absl::InvalidArgumentError("S3 store: empty bucket name");
  if (options.part_size < s3::kMinPartSize) {
    return absl::InvalidArgumentError(absl::StrCat("S3 store: part size ", options.part_size,
                                                   " is under S3's minimum of ", s3::kMinPartSize,
                                                   " bytes"));
  }
  if (options.list_page_size < 1 || options.list_page_size > 1000) {
    return absl::InvalidArgumentError("S3 store: list page size must be 1..1000");
  }
  const std::string endpoint = config.EffectiveEndpoint();
  if (!absl::StartsWith(endpoint, "http://") && !absl::StartsWith(endpoint, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("S3 store: endpoint '", endpoint, "' must start with http:// or https://"));
  }
  if (config.access_key_id.empty() || config.secret_access_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "S3 store: credentials need an access key id and a secret (", config.Describe(), ")"));
  }
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  GlobalInitOnce();
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return absl::InternalError("S3 store: curl_easy_init failed");
  return std::unique_ptr<S3Store>(
      new S3Store(std::move(bucket), std::move(prefix), std::move(config), options, curl));
}

S3Store::S3Store(std::string bucket, std::string prefix, S3Config config, S3StoreOptions options,
                 void* curl)
    : bucket_(std::move(bucket)),
      prefix_(std::move(prefix)),
      config_(std::move(config)),
      options_(options),
      endpoint_(config_.EffectiveEndpoint()),
      curl_(curl) {}

S3Store::~S3Store() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

std::string S3Store::Describe() const {
  return absl::StrCat(prefix_.empty() ? absl::StrCat("s3://", bucket_)
                                      : absl::StrCat("s3://", bucket_, "/", prefix_),
                      " (", config_.Describe(), ")");
}

std::string S3Store::FullKey(const std::string& key) const {
  return prefix_.empty() ? key : absl::StrCat(prefix_, "/", key);
}

namespace {

struct Transfer {
  CURL* curl = nullptr;
  std::string_view upload;  // remaining PUT body
  const Sink* sink = nullptr;
  absl::Status sink_status;
  std::string* body = nullptr;
  std::string* etag = nullptr;
};

size_t ReadCb(char* buf, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = std::min(size * n, t->upload.size());
  std::copy_n(t->upload.data(), len, buf);
  t->upload.remove_prefix(len);
  return len;
}

size_t WriteCb(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  long status = 0;  // NOLINT(google-runtime-int): libcurl's type
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  if (t->sink != nullptr && status >= 200 && status < 300) {
    t->sink_status = (*t->sink)(std::string_view(data, len));
    return t->sink_status.ok() ? len : 0;
  }
  if (t->body->size() < kMaxErrorBody) t->body->append(data, std::min(len, kMaxErrorBody));
  return len;
}

size_t HeaderCb(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  absl::string_view line(data, len);
  if (absl::StartsWithIgnoreCase(line, "etag:")) {
    line.remove_prefix(5);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) {
      line.remove_suffix(1);
    }
    t->etag->assign(line.data(), line.size());
  }
  return len;
}

}  // namespace

absl::StatusOr<S3Store::Response> S3Store::Perform(const Request& req) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  Response resp;
  Transfer t;
  t.curl = curl;
  t.upload = req.body;
  t.sink = req.sink;
  t.body = &resp.body;
  t.etag = &resp.etag;

  std::string url = absl::StrCat(endpoint_, "/", bucket_);
  if (!req.full_key.empty()) absl::StrAppend(&url, "/", s3::UriEncode(req.full_key, true));
  if (!req.query.empty()) absl::StrAppend(&url, "?", req.query);

  // libcurl signs every header given here, so only headers actually sent belong in this list
  // (a blanked "Expect:" would be signed but not sent). x-amz-content-sha256 is ours to add.
  struct curl_slist* headers = nullptr;
  const std::string sha = absl::StrCat("x-amz-content-sha256: ", s3::Sha256Hex(req.body));
  headers = curl_slist_append(headers, sha.c_str());
  std::string token;
  if (!config_.session_token.empty()) {
    token = absl::StrCat("x-amz-security-token: ", config_.session_token);
    headers = curl_slist_append(headers, token.c_str());
  }
  const std::string method = req.method;
  if (method == "PUT" || method == "POST") {
    headers =
        curl_slist_append(headers, method == "POST" ? "Content-Type: application/xml"
                                                    : "Content-Type: application/octet-stream");
  }
  const std::string sigv4 = absl::StrCat("aws:amz:", config_.region, ":s3");
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // Plain HTTP(S) only, and no redirects (they would carry our signed request elsewhere).
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout_ms));  // NOLINT(google-runtime-int)
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT,
                   static_cast<long>(options_.low_speed_limit));  // NOLINT(google-runtime-int)
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(options_.low_speed_time_s));  // NOLINT(google-runtime-int)
  curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4.c_str());
  // USERNAME and PASSWORD separately: CURLOPT_USERPWD splits at the first ':'.
  curl_easy_setopt(curl, CURLOPT_USERNAME, config_.access_key_id.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, config_.secret_access_key.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteCb);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, HeaderCb);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  if (method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadCb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  } else if (method == "DELETE") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, "DELETE");
  }

  const CURLcode rc = curl_easy_perform(curl);
  // The handle outlives this call: drop its pointers to the locals freed here.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp.http_status);
  const std::string object = req.full_key.empty()
                                 ? absl::StrCat("s3://", bucket_)
                                 : absl::StrCat("s3://", bucket_, "/", req.full_key);
  if (rc != CURLE_OK) {
    if (!t.sink_status.ok()) return t.sink_status;
    const std::string why = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc);
    if (IsTransportError(rc)) {
      return absl::UnavailableError(
          absl::StrCat(req.op, " ", object, ": S3 endpoint ", endpoint_, " is unavailable: ", why));
    }
    return absl::InternalError(absl::StrCat(req.op, " ", object, ": ", why));
  }
  const bool ok2xx = resp.http_status >= 200 && resp.http_status < 300;
  // CompleteMultipartUpload may answer 200 with an <Error> body.
  if (!ok2xx || absl::StrContains(resp.body, "<Error>")) {
    return s3::ErrorFromResponse(
        static_cast<int>(resp.http_status), resp.body,
        s3::ErrorContext{req.op, bucket_, req.full_key, endpoint_, config_.access_key_id});
  }
  return resp;
}

absl::Status S3Store::PutObject(const std::string& full_key, std::string_view data) {
  Request req;
  req.op = "PutObject";
  req.method = "PUT";
  req.full_key = full_key;
  req.body = data;
  return Perform(req).status();
}

absl::Status S3Store::Put(const std::string& key, std::string_view data) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  if (data.size() <= options_.part_size) return PutObject(FullKey(key), data);
  return PutStream(key, SingleChunk(data), /*progress=*/nullptr);
}

absl::Status S3Store::Abort(const std::string& full_key, const std::string& upload_id) {
  Request req;
  req.op = "AbortMultipartUpload";
  req.method = "DELETE";
  req.full_key = full_key;
  req.query = s3::CanonicalQuery({{"uploadId", upload_id}});
  return Perform(req).status();
}

absl::Status S3Store::PutStream(const std::string& key, const Source& source,
                                const Progress& progress) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  const std::string full_key = FullKey(key);
  const size_t part_size = options_.part_size;

  // The one part buffer: memory is bounded by part_size whatever the object size.
  std::string part;
  part.reserve(part_size);
  std::string_view pending;  // the unconsumed rest of the source's last chunk
  bool eof = false;
  // Fills `part` up to part_size; then makes sure `pending` is non-empty unless at the end,
  // so "more data follows" is known before a part is sent.
  auto fill = [&]() -> absl::Status {
    part.clear();
    while (true) {
      if (pending.empty() && !eof) {
        absl::StatusOr<std::string_view> chunk = source();
        if (!chunk.ok()) return chunk.status();
        if (chunk->empty()) {
          eof = true;
        } else {
          pending = *chunk;
        }
      }
      if (pending.empty() || part.size() == part_size) return absl::OkStatus();
      const size_t n = std::min(pending.size(), part_size - part.size());
      part.append(pending.data(), n);
      pending.remove_prefix(n);
    }
  };

  if (absl::Status s = fill(); !s.ok()) return s;
  if (pending.empty()) {  // the whole object fits in one part: a single PutObject
    if (absl::Status s = PutObject(full_key, part); !s.ok()) return s;
    if (progress) progress(part.size());
    return absl::OkStatus();
  }

  Request create;
  create.op = "CreateMultipartUpload";
  create.method = "POST";
  create.full_key = full_key;
  create.query = s3::CanonicalQuery({{"uploads", ""}});
  absl::StatusOr<Response> created = Perform(create);
  if (!created.ok()) return created.status();
  const std::optional<std::string> upload_id = xml::FirstText(created->body, "UploadId");
  if (!upload_id.has_value() || upload_id->empty()) {
    return absl::InternalError(absl::StrCat("CreateMultipartUpload s3://", bucket_, "/", full_key,
                                            ": the response has no UploadId"));
  }

  auto fail = [&](const absl::Status& s) {
    const absl::Status aborted = Abort(full_key, *upload_id);
    if (aborted.ok()) return s;
    return absl::Status(
        s.code(),
        absl::StrCat(s.message(), " (AbortMultipartUpload failed too: ", aborted.message(), ")"));
  };

  std::string complete = "<CompleteMultipartUpload>";
  uint64_t done = 0;
  for (int part_number = 1;; ++part_number) {
    if (part_number > s3::kMaxParts) {
      return fail(absl::ResourceExhaustedError(
          absl::StrCat("PutStream s3://", bucket_, "/", full_key, ": more than ", s3::kMaxParts,
                       " parts of ", part_size, " bytes; use a larger part size")));
    }
    Request up;
    up.op = "UploadPart";
    up.method = "PUT";
    up.full_key = full_key;
    up.query =
        s3::CanonicalQuery({{"partNumber", absl::StrCat(part_number)}, {"uploadId", *upload_id}});
    up.body = part;
    absl::StatusOr<Response> uploaded = Perform(up);
    if (!uploaded.ok()) return fail(uploaded.status());
    if (uploaded->etag.empty()) {
      return fail(absl::InternalError(absl::StrCat("UploadPart ", part_number, " of s3://", bucket_,
                                                   "/", full_key, ": the response has no ETag")));
    }
    absl::StrAppend(&complete, "<Part><PartNumber>", part_number, "</PartNumber><ETag>",
                    xml::Escape(uploaded->etag), "</ETag></Part>");
    done += part.size();
    if (progress) progress(done);
    if (pending.empty() && eof) break;
    if (absl::Status s = fill(); !s.ok()) return fail(s);
    if (part.empty()) break;
  }
  complete += "</CompleteMultipartUpload>";

  Request fin;
  fin.op = "CompleteMultipartUpload";
  fin.method = "POST";
  fin.full_key = full_key;
  fin.query = s3::CanonicalQuery({{"uploadId", *upload_id}});
  fin.body = complete;
  if (absl::StatusOr<Response> r = Perform(fin); !r.ok()) return fail(r.status());
  return absl::OkStatus();
}

absl::Status S3Store::Get(const std::string& key, const Sink& sink) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  Request req;
  req.op = "GetObject";
  req.full_key = FullKey(key);
  req.sink = &sink;
  return Perform(req).status();
}

absl::StatusOr<std::vector<ObjectInfo>> S3Store::List(const std::string& prefix) {
  const std::string root = prefix_.empty() ? std::string() : prefix_ + "/";
  const std::string full_prefix = root + prefix;
  std::vector<ObjectInfo> out;
  std::string token;
  while (true) {
    std::vector<std::pair<std::string, std::string>> params = {
        {"list-type", "2"}, {"max-keys", absl::StrCat(options_.list_page_size)}};
    if (!full_prefix.empty()) params.emplace_back("prefix", full_prefix);
    if (!token.empty()) params.emplace_back("continuation-token", token);
    Request req;
    req.op = "ListObjectsV2";
    req.query = s3::CanonicalQuery(std::move(params));
    absl::StatusOr<Response> r = Perform(req);
    if (!r.ok()) return r.status();
    for (std::string_view contents : xml::AllElements(r->body, "Contents")) {
      std::optional<std::string> key = xml::FirstText(contents, "Key");
      std::optional<std::string> size = xml::FirstText(contents, "Size");
      uint64_t n = 0;
      if (!key.has_value() || !size.has_value() || !absl::SimpleAtoi(*size, &n) ||
          !absl::StartsWith(*key, root)) {
        return absl::DataLossError(absl::StrCat("ListObjectsV2 s3://", bucket_, "/", full_prefix,
                                                ": malformed <Contents> entry"));
      }
      out.push_back(ObjectInfo{key->substr(root.size()), n});
    }
    if (xml::FirstText(r->body, "IsTruncated").value_or("false") != "true") break;
    std::optional<std::string> next = xml::FirstText(r->body, "NextContinuationToken");
    if (!next.has_value() || next->empty() || *next == token) {
      return absl::DataLossError(absl::StrCat("ListObjectsV2 s3://", bucket_, "/", full_prefix,
                                              ": truncated page without a new continuation token"));
    }
    token = *next;
  }
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

absl::Status S3Store::Delete(const std::string& key) {
  if (absl::Status s = ValidateKey(key); !s.ok()) return s;
  Request req;
  req.op = "DeleteObject";
  req.method = "DELETE";
  req.full_key = FullKey(key);
  return Perform(req).status();
}

}  // namespace activekv::backup
