#include "syncer/tls.h"

#include "absl/strings/str_cat.h"
#include "persistence/env.h"

namespace activekv::syncer {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  absl::StatusOr<std::string> text =
      persistence::ReadFileToString(persistence::Env::Default(), path);
  if (!text.ok() || text->empty()) {
    return absl::FailedPreconditionError(absl::StrCat("tls ", what, " ", path, ": cannot be read"));
  }
  return text;
}

struct Pems {
  std::string ca, cert, key;
};

absl::StatusOr<Pems> ReadAll(const TlsFiles& files) {
  Pems p;
  absl::StatusOr<std::string> ca = ReadPem(files.ca_file, "ca_file");
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> cert = ReadPem(files.cert_file, "cert_file");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(files.key_file, "key_file");
  if (!key.ok()) return key.status();
  p.ca = *std::move(ca);
  p.cert = *std::move(cert);
  p.key = *std::move(key);
  return p;
}

// Reads the files again every kReloadIntervalS (gRPC's file watcher): new handshakes use what
// they hold then, established connections keep going.
std::shared_ptr<grpc::experimental::FileWatcherCertificateProvider> Watch(const TlsFiles& files) {
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.key_file, files.cert_file, files.ca_file, kReloadIntervalS);
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MutualTlsServerCredentials(
    const TlsFiles& files) {
  // Unreadable files stop the start here, with their names (the watcher would only log).
  if (absl::StatusOr<Pems> pems = ReadAll(files); !pems.ok()) return pems.status();
  grpc::experimental::TlsServerCredentialsOptions options(Watch(files));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MutualTlsChannelCredentials(
    const TlsFiles& files) {
  if (absl::StatusOr<Pems> pems = ReadAll(files); !pems.ok()) return pems.status();
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(Watch(files));
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  return grpc::experimental::TlsCredentials(options);
}

void VerifyServerName(const std::string& name, grpc::ChannelArguments* args) {
  args->SetSslTargetNameOverride(name);
}

std::string CallerName(const grpc::CallbackServerContext& ctx) {
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth == nullptr) return "";
  for (const grpc::string_ref& v : auth->FindPropertyValues("x509_common_name")) {
    return std::string(v.data(), v.size());
  }
  return "";
}

}  // namespace activekv::syncer
