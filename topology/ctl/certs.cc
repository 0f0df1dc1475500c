// activekvctl certs FILE [--out DIR]: a CA and a certificate per region and for the operator, for
// the topology's mutual TLS (docs/security.md). For demos and tests; production CAs are the
// operator's own.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "syncer/tls.h"
#include "topology/ctl/commands.h"
#include "topology/topology.h"

namespace activekv::topology::ctl {
namespace {

// The certificate RESP clients present to a resp_tls port (tls auth_clients: yes).
constexpr char kClientName[] = "client";

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

Key NewKey() { return Key(EVP_EC_gen("P-256")); }

// A certificate for `name` (CN and DNS SAN, plus `extra_san` entries such as "IP:127.0.0.1"),
// signed by `issuer` (null: self-signed CA).
Cert NewCert(const std::string& name, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
             int64_t serial, const std::string& extra_san = "") {
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set_int64(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("activekv"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) return false;
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
    return true;
  };
  bool ok = true;
  if (issuer == nullptr) {
    ok = add(NID_basic_constraints, "critical,CA:TRUE") &&
         add(NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    ok = add(NID_basic_constraints, "critical,CA:FALSE") &&
         add(NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
         add(NID_ext_key_usage, "serverAuth,clientAuth") &&
         add(NID_subject_alt_name,
             absl::StrCat("DNS:", name, extra_san.empty() ? "" : ",", extra_san));
  }
  if (!ok || X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0) {
    return nullptr;
  }
  return cert;
}

bool Write(const std::string& path, EVP_PKEY* key, X509* cert) {
  FILE* f = fopen(path.c_str(), "w");
  if (f == nullptr) return false;
  if (key != nullptr) fchmod(fileno(f), 0600);
  const bool ok = key != nullptr
                      ? PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1
                      : PEM_write_X509(f, cert) == 1;
  return fclose(f) == 0 && ok;
}

}  // namespace

int Certs(const Topology& topology, const std::string& out_dir) {
  mkdir(out_dir.c_str(), 0700);
  Key ca_key = NewKey();
  Cert ca = ca_key ? NewCert(absl::StrCat(topology.name, " CA"), ca_key.get(), nullptr, nullptr, 1)
                   : nullptr;
  if (!ca || !Write(out_dir + "/ca.pem", nullptr, ca.get()) ||
      !Write(out_dir + "/ca.key", ca_key.get(), nullptr)) {
    fprintf(stderr, "activekvctl: cannot create the CA in %s\n", out_dir.c_str());
    return kExitFailure;
  }
  // name -> extra subject alternative names. A region's certificate also names the host of its
  // resp_tls port, so clients that check the host they dial (ioredis, redis-py with
  // ssl_check_hostname) accept it; regions check each other by region name only.
  std::vector<std::pair<std::string, std::string>> names;
  for (const RegionConfig& r : topology.regions) {
    if (r.name == syncer::kOperatorName || r.name == kClientName) {
      fprintf(stderr, "activekvctl: a region named '%s' would share a certificate name\n",
              r.name.c_str());
      return kExitFailure;
    }
    std::string san;
    if (r.resp_tls.port != 0) {
      unsigned char addr[sizeof(in6_addr)];
      const bool ip = inet_pton(AF_INET, r.resp_tls.host.c_str(), addr) == 1 ||
                      inet_pton(AF_INET6, r.resp_tls.host.c_str(), addr) == 1;
      san = absl::StrCat(ip ? "IP:" : "DNS:", r.resp_tls.host);
    }
    names.emplace_back(r.name, san);
  }
  names.emplace_back(syncer::kOperatorName, "");
  names.emplace_back(kClientName, "");
  int64_t serial = 2;
  for (const auto& [name, san] : names) {
    Key key = NewKey();
    Cert cert = key ? NewCert(name, key.get(), ca.get(), ca_key.get(), serial++, san) : nullptr;
    if (!cert || !Write(absl::StrCat(out_dir, "/", name, ".pem"), nullptr, cert.get()) ||
        !Write(absl::StrCat(out_dir, "/", name, ".key"), key.get(), nullptr)) {
      fprintf(stderr, "activekvctl: cannot create the certificate of %s in %s\n", name.c_str(),
              out_dir.c_str());
      return kExitFailure;
    }
  }
  printf(
      "wrote %s/ca.pem and a certificate and key per region, for the operator and for RESP "
      "clients (client.pem, client.key); add:\n\n",
      out_dir.c_str());
  printf(
      "tls:\n  ca_file: %s/ca.pem\n  operator_cert_file: %s/operator.pem\n"
      "  operator_key_file: %s/operator.key\n",
      out_dir.c_str(), out_dir.c_str(), out_dir.c_str());
  printf("and to each region:  tls: { cert_file: %s/NAME.pem, key_file: %s/NAME.key }\n",
         out_dir.c_str(), out_dir.c_str());
  return kExitOk;
}

}  // namespace activekv::topology::ctl
