// ParseTopology: YAML text -> validated Topology.
//
// The parser walks the whole document and records every problem with the position of the node it
// concerns; the reported error is the first one in file order (line, then column). Collecting and
// sorting, instead of stopping at the first problem met, keeps that promise independent of the
// order in which the checks happen to run (e.g. `resp` is checked before `sync` even when the file
// lists `sync` first).

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "topology/topology.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"  // YAML::Parser too

namespace activekv::topology {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxNameLength = 64;
constexpr char kDocumentKeys[] = "name, persistence, backup, replication, regions";

const std::vector<absl::string_view>& TopLevelKeys() {
  static const auto* keys = new std::vector<absl::string_view>{
      "name",    "persistence", "backup",           "replication",
      "regions", "acl_file",    "requirepass_file", "tls"};
  return *keys;
}
const std::vector<absl::string_view>& RegionKeys() {
  static const auto* keys = new std::vector<absl::string_view>{
      "name",   "resp",     "resp_tls",         "sync", "data_dir", "persistence",
      "backup", "acl_file", "requirepass_file", "tls"};
  return *keys;
}
const std::vector<absl::string_view>& ReplicationKeys() {
  static const auto* keys = new std::vector<absl::string_view>{"compression"};
  return *keys;
}
const std::vector<absl::string_view>& BackupKeys() {
  static const auto* keys = new std::vector<absl::string_view>{
      "location", "interval", "offset", "retention", "credentials_file", "profile"};
  return *keys;
}
const std::vector<absl::string_view>& PersistenceKeys() {
  static const auto* keys =
      new std::vector<absl::string_view>{"mode", "appendfsync", "save", "snapshot"};
  return *keys;
}

absl::string_view KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Scalar:
      return "a string";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::string Child(absl::string_view path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

absl::string_view Display(absl::string_view path) { return path.empty() ? "top level" : path; }

// A position in the text; line and column are 0-based like YAML::Mark.
struct Pos {
  int line = 0;
  int column = 0;
};

Pos PosOf(const YAML::Mark& mark) {
  if (mark.is_null() || mark.line < 0) return Pos{};
  return Pos{mark.line, std::max(mark.column, 0)};
}

// One key of a mapping, as written.
struct Field {
  YAML::Node key;
  YAML::Node value;
};
using Fields = std::map<std::string, Field>;

// The position of a mapping value. yaml-cpp marks an empty (null) value at the next token, which
// may be lines further down, so an empty value is reported at its key.
Pos ValuePos(const Field& field) {
  if (field.value.IsNull() || field.value.Mark().is_null()) return PosOf(field.key.Mark());
  return PosOf(field.value.Mark());
}

// yaml-cpp 0.7's LoadAll never returns on a token no node may start with (a stray ',': a file
// ",", "'a' ,", "--- ,"): HandleNextDocument reports an empty document without consuming the
// token, again and again, and LoadAll collects them until memory runs out (jbeder/yaml-cpp#1319,
// fixed after 0.8.0; docs/fuzzing.md, finding 5). Walks the documents' events without building
// them and returns the mark of a document that starts where the one before it started (the parser
// made no progress); LoadAll is safe to call on a text this returns nullopt for. Throws
// YAML::Exception on a syntax error, as LoadAll would.
std::optional<YAML::Mark> FindStuckDocument(const std::string& yaml) {
  class DocumentStarts final : public YAML::EventHandler {
   public:
    std::optional<YAML::Mark> last;
    bool stuck = false;

    void OnDocumentStart(const YAML::Mark& mark) override {
      stuck = last.has_value() && last->pos == mark.pos;
      last = mark;
    }
    void OnDocumentEnd() override {}
    void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  const std::string&) override {}
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                         YAML::EmitterStyle::value) override {}
    void OnSequenceEnd() override {}
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                    YAML::EmitterStyle::value) override {}
    void OnMapEnd() override {}
  };
  std::istringstream in(yaml);
  YAML::Parser parser(in);
  DocumentStarts starts;
  while (parser.HandleNextDocument(starts)) {
    if (starts.stuck) return starts.last;
  }
  return std::nullopt;
}

class Parser {
 public:
  Parser(absl::string_view yaml, absl::string_view source_name, fs::path base_dir)
      : yaml_(yaml),
        lines_(absl::StrSplit(yaml, '\n')),
        source_name_(source_name),
        base_dir_(std::move(base_dir)) {}

  absl::StatusOr<Topology> Run() {
    Topology topology;
    topology.source_path = std::string(source_name_);
    try {
      std::string text(yaml_);
      if (std::optional<YAML::Mark> stuck = FindStuckDocument(text)) {
        AddError(PosOf(*stuck), absl::StrCat("YAML syntax error: unexpected '", CharAt(*stuck),
                                             "' where a value may start"));
      } else {
        ParseDocuments(YAML::LoadAll(text), &topology);
      }
    } catch (const YAML::Exception& e) {
      AddError(PosOf(e.mark), absl::StrCat("YAML syntax error: ", e.msg, SyntaxHint(e.mark)));
    } catch (const std::exception& e) {
      AddError(Pos{}, absl::StrCat("cannot parse: ", e.what()));
    }
    if (errors_.empty()) return topology;
    const Error& first = *std::min_element(errors_.begin(), errors_.end());
    return absl::InvalidArgumentError(
        absl::StrCat(source_name_, ":", first.line + 1, ": ", first.text));
  }

 private:
  struct Error {
    int line;
    int column;
    size_t seq;  // keeps equal positions in the order the checks found them
    std::string text;
    bool operator<(const Error& o) const {
      return std::tie(line, column, seq) < std::tie(o.line, o.column, o.seq);
    }
  };

  // A value that must be unique across the file (region name, endpoint, data_dir).
  struct Claim {
    std::string value;
    std::string path;
    Pos pos;
  };

  void AddError(Pos pos, std::string text) {
    errors_.push_back(Error{pos.line, pos.column, errors_.size(), std::move(text)});
  }

  void ParseDocuments(const std::vector<YAML::Node>& docs, Topology* topology) {
    if (docs.empty()) {
      AddError(Pos{},
               absl::StrCat("the document is empty; expected a mapping with keys ", kDocumentKeys));
      return;
    }
    if (docs.size() > 1) {
      AddError(PosOf(docs[1].Mark()),
               absl::StrCat("expected one YAML document, found ", docs.size()));
    }
    const YAML::Node& root = docs[0];
    if (root.IsNull()) {
      AddError(PosOf(root.Mark()),
               absl::StrCat("the document is empty; expected a mapping with keys ", kDocumentKeys));
      return;
    }
    if (!root.IsMap()) {
      AddError(PosOf(root.Mark()), absl::StrCat("top level: expected a mapping with keys ",
                                                kDocumentKeys, "; got ", KindName(root)));
      return;
    }
    Fields fields = ReadMapping(root, "", TopLevelKeys());

    if (const Field* name = Require(fields, root, "", "name")) {
      if (std::optional<std::string> value = ReadString(*name, "name")) {
        if (CheckName(*value, ValuePos(*name), "name", "database name")) topology->name = *value;
      }
    }
    if (auto it = fields.find("persistence"); it != fields.end()) {
      ReadPersistence(it->second, "persistence", &topology->persistence);
    }
    if (auto it = fields.find("backup"); it != fields.end()) {
      ReadBackup(it->second, "backup", &topology->backup);
    }
    if (auto it = fields.find("replication"); it != fields.end()) {
      ReadReplication(it->second, &topology->replication);
    }
    ReadSecurityFiles(fields, "", &topology->acl_file, &topology->requirepass_file);
    if (auto it = fields.find("tls"); it != fields.end()) ReadTls(it->second, "tls", topology);
    const Field* regions = Require(fields, root, "", "regions");
    if (regions == nullptr) return;
    if (!regions->value.IsSequence()) {
      AddError(ValuePos(*regions),
               absl::StrCat("regions: expected a sequence, got ", KindName(regions->value)));
      return;
    }
    if (regions->value.size() == 0) {
      AddError(ValuePos(*regions), "regions: must list at least one region");
      return;
    }
    std::vector<Claim> names, endpoints, data_dirs;
    size_t i = 0;
    for (const YAML::Node& item : regions->value) {
      std::string path = absl::StrCat("regions[", i++, "]");
      if (!item.IsMap()) {
        Pos pos = item.IsNull() ? NullItemPos(item.Mark()) : PosOf(item.Mark());
        AddError(pos, absl::StrCat(path, ": expected a mapping, got ", KindName(item)));
        continue;
      }
      RegionConfig region;
      region.persistence = topology->persistence;
      region.backup = topology->backup;
      region.acl_file = topology->acl_file;
      region.requirepass_file = topology->requirepass_file;
      region.tls = topology->tls;
      ReadRegion(item, path, &region, &names, &endpoints, &data_dirs);
      topology->regions.push_back(std::move(region));
    }
    CheckUnique(names, [](const Claim& dup, const Claim& first) {
      return absl::StrCat(dup.path, ": duplicate region name '", absl::CHexEscape(dup.value),
                          "' (first at line ", first.pos.line + 1, ")");
    });
    CheckUnique(endpoints, [](const Claim& dup, const Claim& first) {
      return absl::StrCat(dup.path, ": address ", dup.value, " is already used by ", first.path,
                          " (line ", first.pos.line + 1, ")");
    });
    CheckUnique(data_dirs, [](const Claim& dup, const Claim& first) {
      return absl::StrCat(dup.path, ": directory ", dup.value, " is already used by ", first.path,
                          " (line ", first.pos.line + 1, ")");
    });
  }

  void ReadRegion(const YAML::Node& map, const std::string& path, RegionConfig* region,
                  std::vector<Claim>* names, std::vector<Claim>* endpoints,
                  std::vector<Claim>* data_dirs) {
    Fields fields = ReadMapping(map, path, RegionKeys());
    if (const Field* f = Require(fields, map, path, "name")) {
      std::string p = Child(path, "name");
      if (std::optional<std::string> value = ReadString(*f, p)) {
        if (CheckName(*value, ValuePos(*f), p, "region name")) {
          region->name = *value;
          names->push_back(Claim{*value, p, ValuePos(*f)});
        }
      }
    }
    const std::pair<const char*, Endpoint*> endpoint_fields[] = {
        {"resp", &region->resp}, {"sync", &region->sync}, {"resp_tls", &region->resp_tls}};
    for (auto [key, endpoint] : endpoint_fields) {
      const Field* f = nullptr;
      if (endpoint == &region->resp_tls) {  // optional
        auto it = fields.find(key);
        if (it != fields.end()) f = &it->second;
      } else {
        f = Require(fields, map, path, key);
      }
      if (f == nullptr) continue;
      std::string p = Child(path, key);
      std::optional<std::string> value = ReadString(*f, p);
      if (!value) continue;
      absl::StatusOr<Endpoint> parsed = ParseEndpoint(*value);
      if (!parsed.ok()) {
        AddError(ValuePos(*f), absl::StrCat(p, ": ", parsed.status().message()));
        continue;
      }
      *endpoint = *std::move(parsed);
      endpoints->push_back(Claim{endpoint->ToString(), p, ValuePos(*f)});
    }
    if (const Field* f = Require(fields, map, path, "data_dir")) {
      std::string p = Child(path, "data_dir");
      if (std::optional<std::string> value = ReadString(*f, p)) {
        if (value->empty()) {
          AddError(ValuePos(*f), absl::StrCat(p, ": must not be empty"));
        } else {
          region->data_dir = Resolve(*value);
          data_dirs->push_back(Claim{region->data_dir, p, ValuePos(*f)});
        }
      }
    }
    if (auto it = fields.find("persistence"); it != fields.end()) {
      ReadPersistence(it->second, Child(path, "persistence"), &region->persistence);
    }
    if (auto it = fields.find("backup"); it != fields.end()) {
      ReadBackup(it->second, Child(path, "backup"), &region->backup);
    }
    ReadSecurityFiles(fields, path, &region->acl_file, &region->requirepass_file);
    if (auto it = fields.find("tls"); it != fields.end()) {
      ReadTls(it->second, Child(path, "tls"), nullptr, &region->tls);
    }
    const TlsConfig& t = region->tls;
    if ((t.ca_file.empty() || t.cert_file.empty() || t.key_file.empty()) &&
        !(t.ca_file.empty() && t.cert_file.empty() && t.key_file.empty())) {
      AddError(PosOf(map.Mark()),
               absl::StrCat(path, ": tls needs ca_file, cert_file and key_file together"));
    }
    // Under TLS a certificate's name is who it is: "operator" is activekvctl's (syncer/tls.h).
    if (t.enabled() && region->name == "operator") {
      AddError(PosOf(map.Mark()),
               absl::StrCat(path, ".name: 'operator' names the operator's certificate under tls"));
    }
    if (auto it = fields.find("resp_tls"); it != fields.end() && !t.enabled()) {
      AddError(ValuePos(it->second),
               absl::StrCat(path, ".resp_tls: needs tls (ca_file, cert_file, key_file)"));
    }
  }

  // `tls`: top level (`topology` set: its defaults and the operator's certificate) or a
  // region's (`region_tls`), key by key.
  void ReadTls(const Field& field, const std::string& path, Topology* topology,
               TlsConfig* region_tls = nullptr) {
    if (!field.value.IsMap()) {
      AddError(ValuePos(field),
               absl::StrCat(path, ": expected a mapping, got ", KindName(field.value)));
      return;
    }
    static const auto* top_keys = new std::vector<absl::string_view>{
        "ca_file",   "cert_file",          "key_file",         "auth_clients",
        "protocols", "operator_cert_file", "operator_key_file"};
    static const auto* region_keys = new std::vector<absl::string_view>{
        "ca_file", "cert_file", "key_file", "auth_clients", "protocols"};
    Fields fields = ReadMapping(field.value, path, topology ? *top_keys : *region_keys);
    TlsConfig* tls = topology ? &topology->tls : region_tls;
    std::vector<std::pair<const char*, std::string*>> keys = {
        {"ca_file", &tls->ca_file}, {"cert_file", &tls->cert_file}, {"key_file", &tls->key_file}};
    if (topology) {
      keys.push_back({"operator_cert_file", &topology->operator_cert_file});
      keys.push_back({"operator_key_file", &topology->operator_key_file});
    }
    for (auto [key, out] : keys) {
      auto it = fields.find(key);
      if (it == fields.end()) continue;
      std::string p = Child(path, key);
      if (std::optional<std::string> v = ReadString(it->second, p)) {
        if (v->empty()) {
          AddError(ValuePos(it->second), absl::StrCat(p, ": must not be empty"));
        } else {
          *out = Resolve(*v);
        }
      }
    }
    if (auto it = fields.find("auth_clients"); it != fields.end()) {
      std::string p = Child(path, "auth_clients");
      // yaml-cpp keeps the scalar's text: yes / no are not turned into booleans.
      if (std::optional<std::string> v = ReadString(it->second, p)) {
        if (*v == "yes" || *v == "no" || *v == "optional") {
          tls->auth_clients = *v;
        } else {
          AddError(ValuePos(it->second), absl::StrCat(p, ": bad value '", absl::CHexEscape(*v),
                                                      "' (allowed: yes, no, optional)"));
        }
      }
    }
    if (auto it = fields.find("protocols"); it != fields.end()) {
      std::string p = Child(path, "protocols");
      if (std::optional<std::string> v = ReadString(it->second, p)) {
        for (absl::string_view word : absl::StrSplit(*v, ' ', absl::SkipEmpty())) {
          if (word != "TLSv1.2" && word != "TLSv1.3") {
            AddError(ValuePos(it->second),
                     absl::StrCat(p, ": '", absl::CHexEscape(word),
                                  "' is not supported (use TLSv1.2 and/or TLSv1.3)"));
          }
        }
        tls->protocols = *v;
      }
    }
  }

  // acl_file / requirepass_file: paths (relative to the YAML's folder), read by the region.
  void ReadSecurityFiles(const Fields& fields, const std::string& path, std::string* acl_file,
                         std::string* requirepass_file) {
    const std::pair<const char*, std::string*> keys[] = {{"acl_file", acl_file},
                                                         {"requirepass_file", requirepass_file}};
    for (auto [key, out] : keys) {
      auto it = fields.find(key);
      if (it == fields.end()) continue;
      std::string p = path.empty() ? std::string(key) : Child(path, key);
      if (std::optional<std::string> v = ReadString(it->second, p)) {
        if (v->empty()) {
          AddError(ValuePos(it->second), absl::StrCat(p, ": must not be empty"));
        } else {
          *out = Resolve(*v);
        }
      }
    }
  }

  // Sets only the keys present (a region's block overrides the top-level one key by key).
  void ReadBackup(const Field& field, const std::string& path, BackupConfig* config) {
    if (!field.value.IsMap()) {
      AddError(ValuePos(field),
               absl::StrCat(path, ": expected a mapping, got ", KindName(field.value)));
      return;
    }
    Fields fields = ReadMapping(field.value, path, BackupKeys());
    auto read = [&](const char* key) -> std::optional<std::pair<std::string, const Field*>> {
      auto it = fields.find(key);
      if (it == fields.end()) return std::nullopt;
      std::optional<std::string> v = ReadString(it->second, Child(path, key));
      if (!v) return std::nullopt;
      return std::make_pair(*v, &it->second);
    };
    if (auto v = read("location")) config->location = v->first;
    if (auto v = read("credentials_file")) config->credentials_file = Resolve(v->first);
    if (auto v = read("profile")) config->profile = v->first;
    if (auto v = read("interval")) {
      absl::StatusOr<int64_t> s = ParseInterval(v->first);
      if (s.ok()) {
        config->interval_s = *s;
      } else {
        AddError(ValuePos(*v->second),
                 absl::StrCat(Child(path, "interval"), ": ", s.status().message()));
      }
    }
    if (auto v = read("offset")) {
      int hh = -1, mm = -1;
      const std::string& t = v->first;
      if (t.size() == 5 && t[2] == ':' && absl::SimpleAtoi(t.substr(0, 2), &hh) &&
          absl::SimpleAtoi(t.substr(3, 2), &mm) && hh >= 0 && hh < 24 && mm >= 0 && mm < 60) {
        config->offset_s = hh * 3600 + mm * 60;
      } else {
        AddError(ValuePos(*v->second),
                 absl::StrCat(Child(path, "offset"), ": '", t, "' is not HH:MM (00:00-23:59)"));
      }
    }
    if (auto v = read("retention")) {
      int64_t n = -1;
      if (absl::SimpleAtoi(v->first, &n) && n >= 0) {
        config->retention = n;
      } else {
        AddError(ValuePos(*v->second), absl::StrCat(Child(path, "retention"), ": '", v->first,
                                                    "' is not a number of backups (0: keep all)"));
      }
    }
    if (!config->location.empty() && config->interval_s == 0) {
      AddError(ValuePos(field), absl::StrCat(path, ": a location needs an interval"));
    }
  }

  // Sets only the keys present, so a region's block overrides the top-level defaults key by key.
  void ReadReplication(const Field& field, ReplicationConfig* config) {
    if (!field.value.IsMap()) {
      AddError(ValuePos(field),
               absl::StrCat("replication: expected a mapping, got ", KindName(field.value)));
      return;
    }
    Fields fields = ReadMapping(field.value, "replication", ReplicationKeys());
    if (auto it = fields.find("compression"); it != fields.end()) {
      if (std::optional<std::string> value = ReadString(it->second, "replication.compression")) {
        if (*value == "none") {
          config->compression = ReplicationConfig::Compression::kNone;
        } else if (*value == "gzip") {
          config->compression = ReplicationConfig::Compression::kGzip;
        } else {
          AddError(ValuePos(it->second), absl::StrCat("replication.compression: '", *value,
                                                      "' is not one of none, gzip"));
        }
      }
    }
  }

  void ReadPersistence(const Field& field, const std::string& path, PersistenceConfig* config) {
    if (!field.value.IsMap()) {
      AddError(ValuePos(field),
               absl::StrCat(path, ": expected a mapping, got ", KindName(field.value)));
      return;
    }
    Fields fields = ReadMapping(field.value, path, PersistenceKeys());
    if (auto mode = ReadParsed<PersistenceMode>(fields, "mode", path, ParsePersistenceMode)) {
      config->mode = *mode;
      // The mode is chosen as a whole: what another block said about snapshots goes.
      if (*mode == PersistenceMode::kNone) {
        config->save.clear();
        config->snapshot_interval_s = 0;
      }
    }
    if (auto interval = ReadParsed<int64_t>(fields, "snapshot", path, ParseInterval)) {
      config->snapshot_interval_s = *interval;
    }
    if (config->mode == PersistenceMode::kNone &&
        (fields.count("save") > 0 || fields.count("snapshot") > 0)) {
      AddError(ValuePos(field), absl::StrCat(path,
                                             ": mode none keeps nothing on disk; drop save and "
                                             "snapshot, or use mode snapshot"));
    }
    if (auto policy = ReadParsed<Appendfsync>(fields, "appendfsync", path, ParseAppendfsync)) {
      config->appendfsync = *policy;
    }
    if (auto it = fields.find("save"); it != fields.end()) {
      std::string p = Child(path, "save");
      if (std::optional<std::string> value = ReadString(it->second, p)) {
        absl::StatusOr<std::vector<SaveRule>> rules = ParseSaveRules(*value);
        if (rules.ok()) {
          config->save = *std::move(rules);
        } else {
          AddError(ValuePos(it->second),
                   absl::StrCat(p, ": '", *value, "': ", rules.status().message(),
                                " (pairs of <seconds> <changes>, e.g. \"3600 1 300 100\")"));
        }
      }
    }
  }

  // The string at `key` of `fields` (if present) parsed by `parse`; a parse error is reported as
  // "<path>.<key>: <its message>" at the value, and gives nullopt like an absent key.
  template <typename T, typename Parse>
  std::optional<T> ReadParsed(const Fields& fields, const char* key, const std::string& path,
                              Parse parse) {
    auto it = fields.find(key);
    if (it == fields.end()) return std::nullopt;
    const std::string p = Child(path, key);
    std::optional<std::string> value = ReadString(it->second, p);
    if (!value) return std::nullopt;
    absl::StatusOr<T> parsed = parse(*value);
    if (!parsed.ok()) {
      AddError(ValuePos(it->second), absl::StrCat(p, ": ", parsed.status().message()));
      return std::nullopt;
    }
    return *std::move(parsed);
  }

  // Returns the known keys of `map`; reports non-string, duplicate and unknown keys.
  Fields ReadMapping(const YAML::Node& map, absl::string_view path,
                     const std::vector<absl::string_view>& allowed) {
    Fields fields;
    std::map<std::string, Pos> seen;
    for (const auto& kv : map) {
      const YAML::Node& key = kv.first;
      Pos pos = PosOf(key.Mark());
      if (!key.IsScalar()) {
        AddError(pos, absl::StrCat(Display(path), ": keys must be strings, got ", KindName(key)));
        continue;
      }
      const std::string& name = key.Scalar();
      if (auto [it, inserted] = seen.emplace(name, pos); !inserted) {
        AddError(pos, absl::StrCat(Display(path), ": duplicate key '", absl::CHexEscape(name),
                                   "' (first at line ", it->second.line + 1, ")"));
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        AddError(pos, absl::StrCat(Display(path), ": unknown key '", absl::CHexEscape(name),
                                   "' (allowed: ", absl::StrJoin(allowed, ", "), ")"));
        continue;
      }
      fields.emplace(name, Field{key, kv.second});
    }
    return fields;
  }

  const Field* Require(const Fields& fields, const YAML::Node& map, absl::string_view path,
                       absl::string_view key) {
    auto it = fields.find(std::string(key));
    if (it != fields.end()) return &it->second;
    AddError(PosOf(map.Mark()), absl::StrCat(Display(path), ": missing required key '", key, "'"));
    return nullptr;
  }

  std::optional<std::string> ReadString(const Field& field, absl::string_view path) {
    if (field.value.IsScalar()) return field.value.Scalar();
    AddError(ValuePos(field),
             absl::StrCat(path, ": expected a string, got ", KindName(field.value)));
    return std::nullopt;
  }

  bool CheckName(const std::string& name, Pos pos, absl::string_view path, absl::string_view what) {
    if (name.empty()) {
      AddError(pos, absl::StrCat(path, ": ", what, " must not be empty"));
      return false;
    }
    if (name.size() > kMaxNameLength) {
      AddError(pos, absl::StrCat(path, ": ", what, " is ", name.size(),
                                 " characters long (maximum ", kMaxNameLength, ")"));
      return false;
    }
    for (char c : name) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
        AddError(pos, absl::StrCat(path, ": invalid ", what, " '", absl::CHexEscape(name),
                                   "': use only letters, digits, '_' and '-'"));
        return false;
      }
    }
    return true;
  }

  // Reports every claim whose value an earlier claim (in file order) already holds.
  template <typename Describe>
  void CheckUnique(std::vector<Claim> claims, Describe describe) {
    std::stable_sort(claims.begin(), claims.end(), [](const Claim& a, const Claim& b) {
      return std::tie(a.pos.line, a.pos.column) < std::tie(b.pos.line, b.pos.column);
    });
    std::map<std::string, const Claim*> first;
    for (const Claim& claim : claims) {
      auto [it, inserted] = first.emplace(claim.value, &claim);
      if (!inserted) AddError(claim.pos, describe(claim, *it->second));
    }
  }

  // Absolute, lexically normalised, without a trailing separator.
  std::string Resolve(const std::string& dir) const {
    fs::path path(dir);
    if (path.is_relative()) path = base_dir_ / path;
    path = path.lexically_normal();
    if (!path.has_filename() && path != path.root_path()) path = path.parent_path();
    std::string out = path.string();
    // libstdc++ 12 leaves "//" and "///" as they are (it folds "//a" to "/a"): the root.
    // (Found by topology_fuzz: a region with data_dir "/" and one with "//" were distinct.)
    if (out.find_first_not_of('/') == std::string::npos) out = "/";
    return out;
  }

  // The character at `mark` (a blank past the end of the text).
  std::string CharAt(const YAML::Mark& mark) const {
    if (mark.pos < 0 || static_cast<size_t>(mark.pos) >= yaml_.size()) return " ";
    return absl::CHexEscape(yaml_.substr(mark.pos, 1));
  }

  // An unquoted IPv6 endpoint ("resp: [::1]:7001") opens a YAML flow sequence; say so.
  std::string SyntaxHint(const YAML::Mark& mark) const {
    if (mark.is_null() || mark.line < 0 || mark.line >= static_cast<int>(lines_.size())) return "";
    absl::string_view line = lines_[mark.line];
    size_t open = line.find('[');
    if (open == absl::string_view::npos || line.find("]:", open) == absl::string_view::npos) {
      return "";
    }
    return " (hint: quote IPv6 addresses, e.g. resp: \"[::1]:7001\")";
  }

  // yaml-cpp marks an empty sequence item ("-" alone) at the token after it. Walk back from there
  // over blank and comment lines to the "-" that introduced the item; keep the mark otherwise.
  Pos NullItemPos(const YAML::Mark& mark) const {
    Pos pos = PosOf(mark);
    if (mark.is_null() || lines_.empty()) return pos;
    int line = std::min<int>(pos.line, static_cast<int>(lines_.size()) - 1);
    absl::string_view text = lines_[line];
    if (line == pos.line) text = text.substr(0, std::min<size_t>(pos.column, text.size()));
    while (true) {
      absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(text);
      if (!trimmed.empty() && trimmed[0] == '-' &&
          (trimmed.size() == 1 || absl::ascii_isspace(static_cast<unsigned char>(trimmed[1])))) {
        return Pos{line, static_cast<int>(text.size() - trimmed.size())};
      }
      if (!trimmed.empty() && trimmed[0] != '#') return pos;
      if (--line < 0) return pos;
      text = lines_[line];
    }
  }

  absl::string_view yaml_;
  std::vector<absl::string_view> lines_;
  absl::string_view source_name_;
  fs::path base_dir_;
  std::vector<Error> errors_;
};

}  // namespace

absl::StatusOr<Topology> ParseTopology(std::string_view yaml_std, std::string_view source_name_std,
                                       std::string_view base_dir_std) {
  const absl::string_view yaml(yaml_std.data(), yaml_std.size());
  const absl::string_view source_name(source_name_std.data(), source_name_std.size());
  const absl::string_view base_dir(base_dir_std.data(), base_dir_std.size());
  std::error_code ec;
  fs::path base =
      base_dir.empty() ? fs::current_path(ec) : fs::absolute(fs::path(std::string(base_dir)), ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ": cannot resolve base directory '",
                                                   base_dir, "': ", ec.message()));
  }
  return Parser(yaml, source_name, base.lexically_normal()).Run();
}

}  // namespace activekv::topology
