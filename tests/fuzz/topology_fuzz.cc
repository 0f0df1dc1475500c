// libFuzzer target for the topology YAML parser (topology/topology.h, docs/topology.md,
// docs/fuzzing.md). The whole input is the YAML text, given to ParseTopology as "fuzz.yaml"
// with base directory /srv/fuzz; each of its first lines (and the part after a "key: ") also goes
// to the small parsers the file uses (ParseEndpoint, ParseSaveRules, ParseInterval,
// ParseAppendfsync, ParsePersistenceMode). Invariants:
//   - no exception escapes, no crash, no sanitizer report (yaml-cpp is not instrumented, but it
//     runs under ASan's allocator);
//   - a refusal is InvalidArgument "fuzz.yaml:LINE: text", LINE a line of the input (1-based);
//   - parsing is deterministic (the same text gives the same topology or the same error);
//   - an accepted topology keeps the promises of topology.h: valid unique names, absolute
//     normalised unique data_dirs, distinct endpoints in canonical form, absolute security
//     files, TLS files all three or none, FindRegion finds every region;
//   - round trip: the accepted topology written back as YAML (every region's effective
//     settings spelled out) parses to the same topology (paths and endpoints come back
//     unchanged: their normalisation is idempotent);
//   - the small parsers: what they accept prints back to text they parse to the same value.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "fuzz_input.h"
#include "topology/endpoint.h"
#include "topology/topology.h"

namespace activekv::topology {
namespace {

constexpr char kSource[] = "fuzz.yaml";

// For absl calls (Debian's absl::string_view is not std::string_view).
absl::string_view A(std::string_view s) { return absl::string_view(s.data(), s.size()); }
constexpr char kBase[] = "/srv/fuzz";

bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// Absolute and lexically normal: no empty, "." or ".." component, no trailing '/'.
bool NormalPath(const std::string& p) {
  if (p.empty() || p[0] != '/') return false;
  if (p == "/") return true;
  if (p.back() == '/') return false;
  for (std::string_view part : fuzz::Split(std::string_view(p).substr(1), '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

void CheckEndpoint(const Endpoint& e) {
  FUZZ_CHECK(e.port != 0 && !e.host.empty());
  absl::StatusOr<Endpoint> again = ParseEndpoint(e.ToString());
  FUZZ_CHECK(again.ok() && *again == e);
}

// The fields this target knows, as text (equal texts: equal topologies).
std::string Render(const PersistenceConfig& p) {
  return absl::StrCat(A(PersistenceModeName(p.mode)), "/", A(AppendfsyncName(p.appendfsync)), "/",
                      SaveRulesText(p.save), "/", p.snapshot_interval_s);
}
std::string Render(const BackupConfig& b) {
  return absl::StrCat(b.location, "|", b.interval_s, "|", b.offset_s, "|", b.retention, "|",
                      b.credentials_file, "|", b.profile);
}
std::string Render(const TlsConfig& t) {
  return absl::StrCat(t.ca_file, "|", t.cert_file, "|", t.key_file);
}
std::string Render(const Topology& t) {
  std::string out = absl::StrCat(
      t.name, "\n", t.source_path, "\n", Render(t.persistence), "\n", Render(t.backup), "\n",
      static_cast<int>(t.replication.compression), "\n", t.acl_file, "|", t.requirepass_file, "\n",
      Render(t.tls), "|", t.operator_cert_file, "|", t.operator_key_file, "\n");
  for (const RegionConfig& r : t.regions) {
    absl::StrAppend(&out, r.name, " ", r.resp.ToString(), " ", r.sync.ToString(), " ", r.data_dir,
                    " ", Render(r.persistence), " ", Render(r.backup), " ", r.acl_file, "|",
                    r.requirepass_file, " ", Render(r.tls), "\n");
  }
  return out;
}

// A double-quoted YAML scalar; false when `s` holds a byte that is not printable ASCII.
bool Quote(const std::string& s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
    if (c == '"' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('"');
  return true;
}

class Writer {
 public:
  bool ok() const { return ok_; }
  std::string text;

  void Key(int indent, const char* key, const std::string& value) {
    absl::StrAppend(&text, std::string(indent, ' '), key, ": ");
    ok_ = Quote(value, &text) && ok_;
    text += "\n";
  }
  void Persistence(int indent, const PersistenceConfig& p) {
    absl::StrAppend(&text, std::string(indent, ' '), "persistence:\n");
    Key(indent + 2, "mode", std::string(PersistenceModeName(p.mode)));
    Key(indent + 2, "appendfsync", std::string(AppendfsyncName(p.appendfsync)));
    if (p.mode == PersistenceMode::kNone) return;
    if (!p.save.empty()) Key(indent + 2, "save", SaveRulesText(p.save));
    if (p.snapshot_interval_s != 0) {
      Key(indent + 2, "snapshot", absl::StrCat(p.snapshot_interval_s, "s"));
    }
  }
  void Backup(int indent, const BackupConfig& b) {
    absl::StrAppend(&text, std::string(indent, ' '), "backup:\n");
    Key(indent + 2, "location", b.location);
    if (b.interval_s != 0) Key(indent + 2, "interval", absl::StrCat(b.interval_s, "s"));
    const int64_t hh = b.offset_s / 3600, mm = b.offset_s % 3600 / 60;
    Key(indent + 2, "offset", absl::StrCat(hh < 10 ? "0" : "", hh, ":", mm < 10 ? "0" : "", mm));
    Key(indent + 2, "retention", absl::StrCat(b.retention));
    if (!b.credentials_file.empty()) Key(indent + 2, "credentials_file", b.credentials_file);
    Key(indent + 2, "profile", b.profile);
  }
  void Files(int indent, const std::string& acl, const std::string& pass) {
    if (!acl.empty()) Key(indent, "acl_file", acl);
    if (!pass.empty()) Key(indent, "requirepass_file", pass);
  }
  void Tls(int indent, const TlsConfig& t, const Topology* top) {
    const bool op =
        top != nullptr && !(top->operator_cert_file.empty() && top->operator_key_file.empty());
    if (t.ca_file.empty() && t.cert_file.empty() && t.key_file.empty() && !op) return;
    absl::StrAppend(&text, std::string(indent, ' '), "tls:\n");
    if (!t.ca_file.empty()) Key(indent + 2, "ca_file", t.ca_file);
    if (!t.cert_file.empty()) Key(indent + 2, "cert_file", t.cert_file);
    if (!t.key_file.empty()) Key(indent + 2, "key_file", t.key_file);
    if (top != nullptr && !top->operator_cert_file.empty()) {
      Key(indent + 2, "operator_cert_file", top->operator_cert_file);
    }
    if (top != nullptr && !top->operator_key_file.empty()) {
      Key(indent + 2, "operator_key_file", top->operator_key_file);
    }
  }

 private:
  bool ok_ = true;
};

// The topology as YAML, every region's effective settings spelled out; false when some string
// cannot be written as plain ASCII.
bool Write(const Topology& t, std::string* yaml) {
  Writer w;
  w.Key(0, "name", t.name);
  w.Persistence(0, t.persistence);
  w.Backup(0, t.backup);
  w.text += "replication:\n";
  w.Key(2, "compression",
        t.replication.compression == ReplicationConfig::Compression::kGzip ? "gzip" : "none");
  w.Files(0, t.acl_file, t.requirepass_file);
  w.Tls(0, t.tls, &t);
  w.text += "regions:\n";
  for (const RegionConfig& r : t.regions) {
    w.text += "  -\n";
    w.Key(4, "name", r.name);
    w.Key(4, "resp", r.resp.ToString());
    w.Key(4, "sync", r.sync.ToString());
    w.Key(4, "data_dir", r.data_dir);
    w.Persistence(4, r.persistence);
    w.Backup(4, r.backup);
    w.Files(4, r.acl_file, r.requirepass_file);
    w.Tls(4, r.tls, nullptr);
  }
  *yaml = std::move(w.text);
  return w.ok();
}

void CheckAccepted(const Topology& t) {
  FUZZ_CHECK(ValidName(t.name));
  FUZZ_CHECK(t.source_path == kSource);
  FUZZ_CHECK(!t.regions.empty());
  std::set<std::string> names, dirs, endpoints;
  for (const RegionConfig& r : t.regions) {
    FUZZ_CHECK(ValidName(r.name));
    FUZZ_CHECK(names.insert(r.name).second);
    FUZZ_CHECK(t.FindRegion(r.name) == &r);
    FUZZ_CHECK(NormalPath(r.data_dir));
    FUZZ_CHECK(dirs.insert(r.data_dir).second);
    CheckEndpoint(r.resp);
    CheckEndpoint(r.sync);
    FUZZ_CHECK(endpoints.insert(r.resp.ToString()).second);
    FUZZ_CHECK(endpoints.insert(r.sync.ToString()).second);
    for (const std::string* f : {&r.acl_file, &r.requirepass_file, &r.tls.ca_file, &r.tls.cert_file,
                                 &r.tls.key_file, &r.backup.credentials_file}) {
      FUZZ_CHECK(f->empty() || NormalPath(*f));
    }
    FUZZ_CHECK(r.tls.ca_file.empty() == r.tls.cert_file.empty() &&
               r.tls.ca_file.empty() == r.tls.key_file.empty());
    FUZZ_CHECK(r.backup.location.empty() || r.backup.interval_s > 0);
    FUZZ_CHECK(r.backup.offset_s >= 0 && r.backup.offset_s < 86400 && r.backup.retention >= 0);
    if (r.persistence.mode == PersistenceMode::kNone) {
      FUZZ_CHECK(r.persistence.EffectiveSaveRules().empty());
    }
  }
  FUZZ_CHECK(t.FindRegion("") == nullptr);
}

// The line of "fuzz.yaml:LINE: ..." (0 when the message has none).
int ErrorLine(std::string_view message) {
  const std::string_view prefix = "fuzz.yaml:";
  FUZZ_CHECK(message.substr(0, prefix.size()) == prefix);
  const std::string_view rest = message.substr(prefix.size());
  const size_t colon = rest.find(": ");
  FUZZ_CHECK(colon != std::string_view::npos && colon + 2 < rest.size());
  int line = 0;
  FUZZ_CHECK(absl::SimpleAtoi(A(rest.substr(0, colon)), &line));
  return line;
}

void CheckHelpers(std::string_view text) {
  if (absl::StatusOr<Endpoint> e = ParseEndpoint(text); e.ok()) {
    CheckEndpoint(*e);
    FUZZ_CHECK(ParseEndpoint(e->ToString())->ToString() == e->ToString());
  }
  if (absl::StatusOr<std::vector<SaveRule>> rules = ParseSaveRules(text); rules.ok()) {
    for (const SaveRule& r : *rules) FUZZ_CHECK(r.seconds >= 1 && r.changes >= 0);
    absl::StatusOr<std::vector<SaveRule>> again = ParseSaveRules(SaveRulesText(*rules));
    FUZZ_CHECK(again.ok() && *again == *rules);
  }
  if (absl::StatusOr<int64_t> s = ParseInterval(text); s.ok()) {
    FUZZ_CHECK(*s >= 1);
    absl::StatusOr<int64_t> again = ParseInterval(absl::StrCat(*s, "s"));
    FUZZ_CHECK(again.ok() && *again == *s);
  }
  if (absl::StatusOr<Appendfsync> a = ParseAppendfsync(text); a.ok()) {
    FUZZ_CHECK(AppendfsyncName(*a) == text);
  }
  if (absl::StatusOr<PersistenceMode> m = ParsePersistenceMode(text); m.ok()) {
    FUZZ_CHECK(PersistenceModeName(*m) == text);
  }
}

void Check(std::string_view yaml) {
  absl::StatusOr<Topology> t = ParseTopology(yaml, kSource, kBase);
  absl::StatusOr<Topology> again = ParseTopology(yaml, kSource, kBase);
  FUZZ_CHECK(t.ok() == again.ok());
  if (!t.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(t.status()));
    FUZZ_CHECK(t.status() == again.status());
    const absl::string_view message = t.status().message();
    const int line = ErrorLine(std::string_view(message.data(), message.size()));
    const int lines = 1 + static_cast<int>(std::count(yaml.begin(), yaml.end(), '\n'));
    FUZZ_CHECK(line >= 1 && line <= lines);
    return;
  }
  FUZZ_CHECK(Render(*t) == Render(*again));
  CheckAccepted(*t);
  std::string written;
  if (!Write(*t, &written)) return;
  absl::StatusOr<Topology> reparsed = ParseTopology(written, kSource, kBase);
  if (!reparsed.ok())
    std::fprintf(stderr, "%s\n%s\n", written.c_str(),
                 std::string(reparsed.status().message()).c_str());
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(Render(*reparsed) == Render(*t));
}

}  // namespace
}  // namespace activekv::topology

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  try {
    activekv::topology::Check(yaml);
    int n = 0;
    for (std::string_view line : activekv::fuzz::Split(yaml, '\n')) {
      if (++n > 8) break;
      activekv::topology::CheckHelpers(line);
      const size_t colon = line.find(": ");
      if (colon != std::string_view::npos) activekv::topology::CheckHelpers(line.substr(colon + 2));
    }
  } catch (...) {
    std::fprintf(stderr, "an exception escaped\n");
    std::abort();
  }
  return 0;
}
