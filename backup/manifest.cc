#include "backup/manifest.h"

#include <openssl/evp.h>

#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "yaml-cpp/yaml.h"

namespace activekv::backup {

std::string ManifestToYaml(const Manifest& m) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "format_version" << YAML::Value << m.format_version;
  out << YAML::Key << "id" << YAML::Value << m.id;
  out << YAML::Key << "database" << YAML::Value << m.database;
  out << YAML::Key << "region" << YAML::Value << m.region;
  out << YAML::Key << "created_unix_ms" << YAML::Value << m.created_unix_ms;
  out << YAML::Key << "saved_unix_ms" << YAML::Value << m.saved_unix_ms;
  out << YAML::Key << "version_vector" << YAML::Value << YAML::BeginMap;
  for (const auto& [origin, seq] : m.version_vector) {
    out << YAML::Key << origin << YAML::Value << seq;
  }
  out << YAML::EndMap;
  out << YAML::Key << "objects" << YAML::Value << YAML::BeginSeq;
  for (const Manifest::Object& o : m.objects) {
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << o.name << YAML::Key << "size"
        << YAML::Value << o.size << YAML::Key << "sha256" << YAML::Value << o.sha256
        << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

absl::StatusOr<Manifest> ParseManifest(std::string_view yaml) {
  Manifest m;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    if (!root.IsMap()) return absl::InvalidArgumentError("manifest: not a mapping");
    auto need = [&](const char* key) -> absl::StatusOr<YAML::Node> {
      YAML::Node n = root[key];
      if (!n) return absl::InvalidArgumentError(absl::StrCat("manifest: no '", key, "'"));
      return n;
    };
    absl::StatusOr<YAML::Node> n = need("format_version");
    if (!n.ok()) return n.status();
    m.format_version = n->as<int>();
    if (m.format_version != kBackupFormatVersion) {
      return absl::FailedPreconditionError(absl::StrCat("unsupported backup format version ",
                                                        m.format_version, " (this build reads ",
                                                        kBackupFormatVersion, ")"));
    }
    for (auto [key, field] : {std::pair<const char*, std::string*>{"id", &m.id},
                              {"database", &m.database},
                              {"region", &m.region}}) {
      n = need(key);
      if (!n.ok()) return n.status();
      *field = n->as<std::string>();
    }
    for (auto [key, field] :
         {std::pair<const char*, int64_t*>{"created_unix_ms", &m.created_unix_ms},
          {"saved_unix_ms", &m.saved_unix_ms}}) {
      n = need(key);
      if (!n.ok()) return n.status();
      *field = n->as<int64_t>();
    }
    if (YAML::Node vv = root["version_vector"]) {
      for (const auto& kv : vv) {
        m.version_vector.emplace_back(kv.first.as<std::string>(), kv.second.as<uint64_t>());
      }
    }
    n = need("objects");
    if (!n.ok()) return n.status();
    for (const YAML::Node& o : *n) {
      if (!o["name"] || !o["size"] || !o["sha256"]) {
        return absl::InvalidArgumentError("manifest: an object lacks name, size or sha256");
      }
      m.objects.push_back(
          {o["name"].as<std::string>(), o["size"].as<uint64_t>(), o["sha256"].as<std::string>()});
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("manifest: ", e.what()));
  }
  return m;
}

std::string BackupId(std::string_view database, std::string_view region, int64_t unix_ms) {
  const time_t secs = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  return absl::StrFormat("%s/%s/%04d%02d%02dT%02d%02d%02d.%03dZ", database, region,
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, static_cast<int>(unix_ms % 1000));
}

struct Sha256::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) {
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
}
Sha256::~Sha256() = default;

void Sha256::Update(std::string_view data) {
  EVP_DigestUpdate(impl_->ctx, data.data(), data.size());
}

std::string Sha256::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &n);
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) absl::StrAppendFormat(&hex, "%02x", md[i]);
  return hex;
}

}  // namespace activekv::backup
