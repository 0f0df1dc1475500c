#pragma once

// TLS for RESP clients (docs/security.md, "Clients over TLS"): Redis's tls-* settings, the
// OpenSSL server context they build, and one connection's TLS session over a non-blocking socket.
// No dependency on the server: the event loop owns the socket and waits on it in whichever
// direction a session asks for.
//
// Thread-safety: a Session is used by one thread at a time. A context (shared_ptr<SSL_CTX>) may
// be shared by sessions on any thread; reloading settings builds a new one (sessions keep theirs).

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace activekv::server::tls {

// tls-auth-clients: whether a client must present a certificate signed by the CA.
enum class AuthClients { kNo, kYes, kOptional };
// "no" / "yes" / "optional" (Redis's spelling; case-insensitive for parsing).
std::string_view AuthClientsName(AuthClients mode);
bool ParseAuthClients(std::string_view text, AuthClients* mode);

// What redis.conf's tls-* directives of the same names hold.
struct Settings {
  std::string cert_file;       // tls-cert-file (PEM chain)
  std::string key_file;        // tls-key-file (PEM)
  std::string key_file_pass;   // tls-key-file-pass: the key's passphrase, if it is encrypted
  std::string ca_cert_file;    // tls-ca-cert-file: verifies client certificates
  std::string ca_cert_dir;     // tls-ca-cert-dir (c_rehash layout)
  std::string dh_params_file;  // tls-dh-params-file: DH parameters for DHE ciphers (optional)
  AuthClients auth_clients = AuthClients::kYes;
  // tls-protocols: space-separated "TLSv1.2" / "TLSv1.3"; empty: both. (Redis also takes TLSv1
  // and TLSv1.1; OpenSSL 3's default security level refuses them, so they are refused here too.)
  std::string protocols;
  std::string ciphers;       // tls-ciphers: TLS 1.2 cipher list; empty: OpenSSL's default
  std::string ciphersuites;  // tls-ciphersuites: TLS 1.3 suites; empty: OpenSSL's default
  bool prefer_server_ciphers = false;
  bool session_caching = true;
  int64_t session_cache_size = int64_t{20} * 1024;
  int64_t session_cache_timeout_s = 300;
};

// A server context for `settings`: certificate and key (checked to match), client verification
// as auth_clients says, protocol versions, ciphers, session cache. InvalidArgument naming the
// setting and OpenSSL's reason when any of it fails (a missing file, a key that does not match,
// an unknown protocol or cipher).
absl::StatusOr<std::shared_ptr<SSL_CTX>> MakeServerContext(const Settings& settings);

// One accepted connection's TLS state over non-blocking socket `fd` (not owned: the caller closes
// it after this Session is gone). Each call does what it can without blocking and says what it
// waits for:
//   kOk         done (Handshake), or *n bytes moved (Read / Write, *n > 0)
//   kWantRead   call again once the socket is readable (also from Write: TLS may need input)
//   kWantWrite  call again once the socket is writable (also from Read)
//   kClosed     the peer closed the stream (close_notify or EOF)
//   kError      protocol or certificate failure; error() says which. The session is dead.
// Write after kWantRead / kWantWrite must be called again with the same bytes at the front of
// its buffer (more may follow; the buffer may move), as OpenSSL requires.
class Session {
 public:
  enum class Result { kOk, kWantRead, kWantWrite, kClosed, kError };

  Session(SSL_CTX* ctx, int fd);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Result Handshake();
  bool handshake_done() const { return handshake_done_; }
  Result Read(char* buf, size_t cap, size_t* n);
  Result Write(const char* buf, size_t len, size_t* n);
  // Decrypted input is buffered inside the session: Read returns it without the socket becoming
  // readable, so the caller must not wait for readability first.
  bool has_buffered_input() const;
  // Sends close_notify if the socket takes it now; never waits.
  void Shutdown();

  const std::string& error() const { return error_; }
  // The negotiated protocol ("TLSv1.3") and the client certificate's subject CN ("" if none).
  std::string_view protocol() const;
  std::string peer_common_name() const;

 private:
  Result Classify(int ret);

  SSL* ssl_;
  bool handshake_done_ = false;
  std::string error_;
};

}  // namespace activekv::server::tls
