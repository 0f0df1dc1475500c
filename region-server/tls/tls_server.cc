#include "region-server/tls/tls_server.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace activekv::server::tls {
namespace {

// OpenSSL's queued errors, oldest first, as one line (and the queue emptied).
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {  // NOLINT(google-runtime-int): OpenSSL's type
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

absl::Status Fail(std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(what), ": ", OpenSslErrors()));
}

int PassphraseCallback(char* buf, int size, int /*rwflag*/, void* userdata) {
  const std::string* pass = static_cast<const std::string*>(userdata);
  if (pass == nullptr || pass->empty()) return 0;
  int n = static_cast<int>(std::min<size_t>(pass->size(), static_cast<size_t>(size)));
  memcpy(buf, pass->data(), static_cast<size_t>(n));
  return n;
}

// tls-protocols -> the lowest and highest version allowed.
absl::Status ParseProtocols(std::string_view text, int* min_version, int* max_version) {
  bool v12 = false, v13 = false;
  for (absl::string_view word :
       absl::StrSplit(absl::string_view(text.data(), text.size()), ' ', absl::SkipEmpty())) {
    std::string w = absl::AsciiStrToLower(word);
    if (w == "tlsv1.2") {
      v12 = true;
    } else if (w == "tlsv1.3") {
      v13 = true;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("tls-protocols: '", std::string(word),
                       "' is not supported (use TLSv1.2 and/or TLSv1.3)"));
    }
  }
  if (!v12 && !v13) v12 = v13 = true;
  *min_version = v12 ? TLS1_2_VERSION : TLS1_3_VERSION;
  *max_version = v13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  return absl::OkStatus();
}

}  // namespace

std::string_view AuthClientsName(AuthClients mode) {
  switch (mode) {
    case AuthClients::kNo:
      return "no";
    case AuthClients::kYes:
      return "yes";
    case AuthClients::kOptional:
      return "optional";
  }
  return "yes";
}

bool ParseAuthClients(std::string_view text, AuthClients* mode) {
  std::string t = absl::AsciiStrToLower(absl::string_view(text.data(), text.size()));
  if (t == "no") {
    *mode = AuthClients::kNo;
  } else if (t == "yes") {
    *mode = AuthClients::kYes;
  } else if (t == "optional") {
    *mode = AuthClients::kOptional;
  } else {
    return false;
  }
  return true;
}

absl::StatusOr<std::shared_ptr<SSL_CTX>> MakeServerContext(const Settings& s) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!ctx) return Fail("cannot create a TLS context");
  SSL_CTX* c = ctx.get();
  int min_version = 0, max_version = 0;
  if (absl::Status st = ParseProtocols(s.protocols, &min_version, &max_version); !st.ok()) {
    return st;
  }
  SSL_CTX_set_min_proto_version(c, min_version);
  SSL_CTX_set_max_proto_version(c, max_version);
  // No compression (CRIME), no renegotiation (a client-driven CPU sink); a peer that just closes
  // the socket reads as a close, as a plain TCP client's EOF.
  uint64_t options = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF;
  if (s.prefer_server_ciphers) options |= SSL_OP_CIPHER_SERVER_PREFERENCE;
  SSL_CTX_set_options(c, options);
  // Connection writes what it has and keeps the rest; its buffer grows and moves meanwhile.
  SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);

  if (s.cert_file.empty() || s.key_file.empty()) {
    return absl::InvalidArgumentError("tls-cert-file and tls-key-file must both be set");
  }
  // The passphrase is read during the key load below only; `s` outlives that call.
  SSL_CTX_set_default_passwd_cb(c, PassphraseCallback);
  SSL_CTX_set_default_passwd_cb_userdata(c, const_cast<std::string*>(&s.key_file_pass));
  bool key_ok = SSL_CTX_use_certificate_chain_file(c, s.cert_file.c_str()) == 1;
  if (!key_ok) return Fail(absl::StrCat("tls-cert-file ", s.cert_file));
  key_ok = SSL_CTX_use_PrivateKey_file(c, s.key_file.c_str(), SSL_FILETYPE_PEM) == 1;
  SSL_CTX_set_default_passwd_cb_userdata(c, nullptr);
  if (!key_ok) return Fail(absl::StrCat("tls-key-file ", s.key_file));
  if (SSL_CTX_check_private_key(c) != 1) {
    return Fail(absl::StrCat("tls-key-file ", s.key_file, " does not match tls-cert-file"));
  }

  const bool have_ca = !s.ca_cert_file.empty() || !s.ca_cert_dir.empty();
  if (have_ca) {
    if (SSL_CTX_load_verify_locations(c, s.ca_cert_file.empty() ? nullptr : s.ca_cert_file.c_str(),
                                      s.ca_cert_dir.empty() ? nullptr : s.ca_cert_dir.c_str()) !=
        1) {
      return Fail("tls-ca-cert-file / tls-ca-cert-dir");
    }
    if (!s.ca_cert_file.empty()) {
      // Tell clients which CA their certificate must come from.
      if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(s.ca_cert_file.c_str())) {
        SSL_CTX_set_client_CA_list(c, names);
      }
    }
  } else if (s.auth_clients != AuthClients::kNo) {
    return absl::InvalidArgumentError(
        "tls-ca-cert-file or tls-ca-cert-dir must be set when tls-auth-clients is not 'no'");
  }
  switch (s.auth_clients) {
    case AuthClients::kNo:
      SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
      break;
    case AuthClients::kYes:
      SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
    case AuthClients::kOptional:
      SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
      break;
  }

  if (!s.ciphers.empty() && SSL_CTX_set_cipher_list(c, s.ciphers.c_str()) != 1) {
    return Fail(absl::StrCat("tls-ciphers '", s.ciphers, "'"));
  }
  if (!s.ciphersuites.empty() && SSL_CTX_set_ciphersuites(c, s.ciphersuites.c_str()) != 1) {
    return Fail(absl::StrCat("tls-ciphersuites '", s.ciphersuites, "'"));
  }

  if (!s.dh_params_file.empty()) {
    BIO* bio = BIO_new_file(s.dh_params_file.c_str(), "r");
    EVP_PKEY* dh = bio != nullptr ? PEM_read_bio_Parameters(bio, nullptr) : nullptr;
    if (bio != nullptr) BIO_free(bio);
    // On success the context owns `dh`.
    if (dh == nullptr || SSL_CTX_set0_tmp_dh_pkey(c, dh) != 1) {
      if (dh != nullptr) EVP_PKEY_free(dh);
      return Fail(absl::StrCat("tls-dh-params-file ", s.dh_params_file));
    }
  } else {
    SSL_CTX_set_dh_auto(c, 1);
  }

  static constexpr unsigned char kSessionContext[] = "activekv";
  SSL_CTX_set_session_id_context(c, kSessionContext, sizeof(kSessionContext) - 1);
  if (s.session_caching) {
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(c, s.session_cache_size);
    SSL_CTX_set_timeout(c, s.session_cache_timeout_s);
  } else {
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET);
  }
  return ctx;
}

Session::Session(SSL_CTX* ctx, int fd) : ssl_(SSL_new(ctx)) {
  if (ssl_ == nullptr) {
    error_ = OpenSslErrors();
    return;
  }
  SSL_set_fd(ssl_, fd);
  SSL_set_accept_state(ssl_);
}

Session::~Session() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

Session::Result Session::Classify(int ret) {
  int err = SSL_get_error(ssl_, ret);
  switch (err) {
    case SSL_ERROR_WANT_READ:
      return Result::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Result::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      return Result::kClosed;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        if (errno == 0) return Result::kClosed;
        error_ = strerror(errno);
        return Result::kError;
      }
      break;
    default:
      break;
  }
  error_ = OpenSslErrors();
  const auto verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    absl::StrAppend(&error_, " (certificate: ", X509_verify_cert_error_string(verify), ")");
  }
  return Result::kError;
}

Session::Result Session::Handshake() {
  if (ssl_ == nullptr) return Result::kError;
  if (handshake_done_) return Result::kOk;
  ERR_clear_error();
  errno = 0;
  int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    handshake_done_ = true;
    return Result::kOk;
  }
  return Classify(ret);
}

Session::Result Session::Read(char* buf, size_t cap, size_t* n) {
  *n = 0;
  if (ssl_ == nullptr) return Result::kError;
  ERR_clear_error();
  errno = 0;
  int ret = SSL_read_ex(ssl_, buf, cap, n);
  return ret == 1 ? Result::kOk : Classify(ret);
}

Session::Result Session::Write(const char* buf, size_t len, size_t* n) {
  *n = 0;
  if (ssl_ == nullptr) return Result::kError;
  ERR_clear_error();
  errno = 0;
  int ret = SSL_write_ex(ssl_, buf, len, n);
  return ret == 1 ? Result::kOk : Classify(ret);
}

bool Session::has_buffered_input() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

void Session::Shutdown() {
  if (ssl_ == nullptr || !handshake_done_) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

std::string_view Session::protocol() const { return ssl_ != nullptr ? SSL_get_version(ssl_) : ""; }

std::string Session::peer_common_name() const {
  if (ssl_ == nullptr) return "";
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr) return "";
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)) < 0) {
    return "";
  }
  return cn;
}

}  // namespace activekv::server::tls
