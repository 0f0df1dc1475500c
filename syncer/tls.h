#pragma once

// Mutual TLS on the sync port (docs/security.md, "Between regions"): credentials from the
// topology's PEM files, the identity a caller's certificate names, and calls refused for lack of
// the right one. Certificates name regions (and the operator), not addresses: a region's
// certificate carries its region name as CN and DNS SAN, and a caller checks the server's
// certificate against the region name it dials (the target name override), so regions can move
// between hosts without new certificates.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace activekv::syncer {

// The common name of the operator's certificate (activekvctl certs): the only caller the Status
// service answers under TLS. Region certificates carry their region's name.
inline constexpr char kOperatorName[] = "operator";

// How often the PEM files are read again: a certificate replaced in place (or a new CA) is used
// by the handshakes that follow, without a restart (docs/security.md, "Rotation").
inline constexpr unsigned int kReloadIntervalS = 5;

struct TlsFiles {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

// A server that requires every caller to present a certificate signed by the CA. The files are
// read now (an unreadable one is an error) and again every kReloadIntervalS.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MutualTlsServerCredentials(
    const TlsFiles& files);
// A caller presenting `files.cert_file` and trusting only `files.ca_file`, reloaded the same way.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MutualTlsChannelCredentials(
    const TlsFiles& files);
// Channel arguments that make a TLS caller check the server's certificate against `name`.
void VerifyServerName(const std::string& name, grpc::ChannelArguments* args);

// The common name of the caller's verified certificate; empty without TLS.
std::string CallerName(const grpc::CallbackServerContext& ctx);

// Reactors that end a call at once with `status` (an unauthorized caller).
template <typename Req, typename Resp>
class RefusedBidi final : public grpc::ServerBidiReactor<Req, Resp> {
 public:
  explicit RefusedBidi(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};
template <typename Resp>
class RefusedWriter final : public grpc::ServerWriteReactor<Resp> {
 public:
  explicit RefusedWriter(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};
template <typename Req>
class RefusedReader final : public grpc::ServerReadReactor<Req> {
 public:
  explicit RefusedReader(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace activekv::syncer
