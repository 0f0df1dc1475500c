#include "topology/ctl/probe.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "persistence/mutex.h"
#include "syncer/tls.h"

namespace activekv::topology::ctl {
namespace {

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

const char* GrpcCodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {"OK",
                                           "CANCELLED",
                                           "UNKNOWN",
                                           "INVALID_ARGUMENT",
                                           "DEADLINE_EXCEEDED",
                                           "NOT_FOUND",
                                           "ALREADY_EXISTS",
                                           "PERMISSION_DENIED",
                                           "RESOURCE_EXHAUSTED",
                                           "FAILED_PRECONDITION",
                                           "ABORTED",
                                           "OUT_OF_RANGE",
                                           "UNIMPLEMENTED",
                                           "INTERNAL",
                                           "UNAVAILABLE",
                                           "DATA_LOSS",
                                           "UNAUTHENTICATED"};
  int i = static_cast<int>(code);
  return i >= 0 && i < static_cast<int>(std::size(kNames)) ? kNames[i] : "UNKNOWN";
}

int RemainingMs(absl::Time deadline) {
  return static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now())));
}

// Waits until `fd` is ready for `events`; false on timeout.
bool WaitFd(int fd, int16_t events, absl::Time deadline) {
  while (true) {
    struct pollfd p = {fd, events, 0};
    int r = ::poll(&p, 1, RemainingMs(deadline));
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

// Appends what one recv() on `fd` returns to `*buf` (nothing after EINTR / EAGAIN). Unavailable on
// a timeout, an error or the peer closing; `what` names the awaited reply.
absl::Status ReadMore(int fd, std::string* buf, absl::Time deadline, const char* what) {
  if (!WaitFd(fd, POLLIN, deadline)) {
    return absl::UnavailableError(absl::StrCat("no reply to ", what, ": timed out"));
  }
  char chunk[4096];
  ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return absl::OkStatus();
  if (n < 0) return absl::UnavailableError(absl::StrCat("recv: ", ErrnoText(errno)));
  if (n == 0) {
    return absl::UnavailableError(absl::StrCat("connection closed before the reply to ", what));
  }
  buf->append(chunk, static_cast<size_t>(n));
  return absl::OkStatus();
}

// The value of `field` in an INFO text ("field:value\r\n"), or "".
std::string InfoField(std::string_view info, std::string_view field) {
  std::string key = "\n" + std::string(field) + ":";
  size_t at = info.find(key);
  if (at == std::string_view::npos) return "";
  at += key.size();
  size_t end = info.find_first_of("\r\n", at);
  return std::string(info.substr(at, end == std::string_view::npos ? end : end - at));
}

// A region replaying its AOF answers -LOADING (docs/operations.md): not ready yet, and no failure
// either. INFO persistence (allowed while loading) says how far the replay is.
std::string LoadingProgress(int fd, absl::Time deadline) {
  static constexpr char kInfo[] = "*2\r\n$4\r\nINFO\r\n$11\r\npersistence\r\n";
  if (::send(fd, kInfo, sizeof(kInfo) - 1, MSG_NOSIGNAL) != sizeof(kInfo) - 1) return "";
  std::string reply;
  size_t header_end;
  while ((header_end = reply.find("\r\n")) == std::string::npos && reply.size() < 64) {
    if (!ReadMore(fd, &reply, deadline, "INFO").ok()) return "";
  }
  size_t len = 0;
  if (header_end == std::string::npos || reply[0] != '$' ||
      !absl::SimpleAtoi(absl::string_view(reply.data() + 1, header_end - 1), &len) ||
      len > (1u << 20)) {
    return "";
  }
  while (reply.size() < header_end + 2 + len) {
    if (!ReadMore(fd, &reply, deadline, "INFO").ok()) return "";
  }
  std::string_view info(reply.data() + header_end + 1, len + 1);  // keeps the leading '\n'
  std::string perc = InfoField(info, "loading_loaded_perc");
  if (perc.empty()) return "";
  std::string eta = InfoField(info, "loading_eta_seconds");
  return absl::StrCat(perc, "% of the AOF replayed",
                      eta.empty() ? "" : absl::StrCat(", about ", eta, " s left"));
}

// Sends `request` and reads until the reply's first line is in `*reply` (replaced).
absl::Status SendAndReadLine(int fd, std::string_view request, absl::Time deadline,
                             const char* what, std::string* reply) {
  if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    return absl::UnavailableError(absl::StrCat("send: ", ErrnoText(errno)));
  }
  reply->clear();
  while (reply->find("\r\n") == std::string::npos && reply->size() < 512) {
    absl::Status s = ReadMore(fd, reply, deadline, what);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status PingFd(int fd, const struct addrinfo* ai, absl::Time deadline,
                    const std::string& password) {
  if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      return absl::UnavailableError(absl::StrCat("connect: ", ErrnoText(errno)));
    }
    if (!WaitFd(fd, POLLOUT, deadline)) return absl::UnavailableError("connect: timed out");
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return absl::UnavailableError(absl::StrCat("connect: ", ErrnoText(err)));
  }
  std::string reply;
  if (!password.empty()) {
    // A password-protected region answers NOAUTH to everything else, loading or not.
    absl::Status s = SendAndReadLine(
        fd, absl::StrCat("*2\r\n$4\r\nAUTH\r\n$", password.size(), "\r\n", password, "\r\n"),
        deadline, "AUTH", &reply);
    if (!s.ok()) return s;
    if (reply.rfind("+OK\r\n", 0) != 0) {
      return absl::UnavailableError(
          absl::StrCat("AUTH with the requirepass_file's password replied '",
                       reply.substr(0, std::min<size_t>(reply.find("\r\n"), 200)), "'"));
    }
  }
  absl::Status s = SendAndReadLine(fd, "*1\r\n$4\r\nPING\r\n", deadline, "PING", &reply);
  if (!s.ok()) return s;
  if (reply.rfind("+PONG\r\n", 0) == 0) return absl::OkStatus();
  if (reply.rfind("-LOADING", 0) == 0) {
    std::string progress = LoadingProgress(fd, deadline);
    return absl::UnavailableError(absl::StrCat(
        "loading the dataset (", progress.empty() ? "PING replied -LOADING" : progress, ")"));
  }
  size_t eol = reply.find("\r\n");
  return absl::UnavailableError(
      absl::StrCat("PING replied '", reply.substr(0, std::min<size_t>(eol, 200)), "'"));
}

}  // namespace

absl::Status RespPing(const Endpoint& endpoint, absl::Duration timeout,
                      const std::string& password) {
  absl::Time deadline = absl::Now() + timeout;
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  struct addrinfo* res = nullptr;
  std::string port = absl::StrCat(endpoint.port);
  int rc = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve ", endpoint.host, ": ", ::gai_strerror(rc)));
  }
  absl::Status last = absl::UnavailableError("no address");
  for (struct addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last = absl::UnavailableError(absl::StrCat("socket: ", ErrnoText(errno)));
      continue;
    }
    last = PingFd(fd, ai, deadline, password);
    ::close(fd);
    if (last.ok()) break;
  }
  ::freeaddrinfo(res);
  return last;
}

std::string RegionPassword(const RegionConfig& region) {
  if (region.requirepass_file.empty()) return "";
  absl::StatusOr<std::string> password = ReadRequirePass(region.requirepass_file);
  return password.ok() ? *password : "";
}

std::shared_ptr<grpc::Channel> OperatorChannel(const Topology& topology, const RegionConfig& region,
                                               grpc::ChannelArguments args) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (region.tls.enabled()) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls =
        syncer::MutualTlsChannelCredentials(
            {region.tls.ca_file, topology.operator_cert_file, topology.operator_key_file});
    if (tls.ok()) {
      credentials = *std::move(tls);
      syncer::VerifyServerName(region.name, &args);
    } else {
      fprintf(stderr, "activekvctl: %s: %s (tls.operator_cert_file / operator_key_file)\n",
              region.name.c_str(), std::string(tls.status().message()).c_str());
    }
  }
  return grpc::CreateCustomChannel(region.sync.ToString(), credentials, args);
}

StatusClient::StatusClient(const Topology& topology) : topology_(topology) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  for (const RegionConfig& region : topology.regions) {
    stubs_.push_back(v1::Status::NewStub(OperatorChannel(topology, region, args)));
  }
}

std::vector<absl::StatusOr<v1::RegionStatus>> StatusClient::GetAll(bool with_digest,
                                                                   absl::Duration timeout) {
  std::vector<size_t> all;
  for (size_t i = 0; i < topology_.regions.size(); ++i) all.push_back(i);
  return Get(all, with_digest, timeout);
}

std::vector<absl::StatusOr<v1::RegionStatus>> StatusClient::Get(const std::vector<size_t>& indices,
                                                                bool with_digest,
                                                                absl::Duration timeout) {
  struct Call {
    grpc::ClientContext context;
    v1::RegionStatus response;
    grpc::Status status;
  };
  v1::GetStatusRequest request;
  request.set_with_digest(with_digest);
  std::vector<std::unique_ptr<Call>> calls;
  persistence::Mutex mu;
  size_t pending = indices.size();  // guarded by mu
  std::chrono::system_clock::time_point deadline =
      std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout);
  for (size_t index : indices) {
    auto call = std::make_unique<Call>();
    call->context.set_deadline(deadline);
    Call* c = call.get();
    calls.push_back(std::move(call));
    stubs_[index]->async()->GetStatus(&c->context, &request, &c->response,
                                      [&mu, &pending, c](grpc::Status s) {
                                        persistence::MutexLock lock(&mu);
                                        c->status = std::move(s);
                                        --pending;
                                      });
  }
  {
    persistence::MutexLock lock(&mu);
    mu.Await([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return pending == 0; });
  }

  std::vector<absl::StatusOr<v1::RegionStatus>> out;
  for (size_t k = 0; k < indices.size(); ++k) {
    const RegionConfig& region = topology_.regions[indices[k]];
    Call& c = *calls[k];
    if (!c.status.ok()) {
      std::string message = c.status.error_message();
      absl::StatusCode code = c.status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED
                                  ? absl::StatusCode::kDeadlineExceeded
                                  : absl::StatusCode::kUnavailable;
      out.push_back(
          absl::Status(code, absl::StrCat("no answer from ", region.sync.ToString(), ": ",
                                          message.empty() ? "(no message)" : message, " (",
                                          GrpcCodeName(c.status.error_code()), ")")));
    } else if (c.response.region() != region.name ||
               (!c.response.database().empty() && c.response.database() != topology_.name)) {
      out.push_back(absl::FailedPreconditionError(absl::StrCat(
          region.sync.ToString(), " answers as region '", c.response.region(), "' of database '",
          c.response.database(), "', expected '", region.name, "' of '", topology_.name, "'")));
    } else {
      out.push_back(std::move(c.response));
    }
  }
  return out;
}

}  // namespace activekv::topology::ctl
