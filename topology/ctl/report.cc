#include "topology/ctl/report.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"

namespace activekv::topology::ctl {
namespace {

using VectorMap = std::map<std::string, uint64_t>;

VectorMap ToMap(const google::protobuf::RepeatedPtrField<v1::VersionEntry>& vv) {
  VectorMap m;
  for (const v1::VersionEntry& e : vv) {
    if (e.seq() != 0) m[e.region()] = std::max(m[e.region()], e.seq());
  }
  return m;
}

// A table with left-aligned columns separated by two spaces; the last column is not padded.
class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  std::string Render() const {
    std::vector<size_t> width;
    for (const auto& row : rows_) {
      if (width.size() < row.size()) width.resize(row.size(), 0);
      for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    std::string out;
    for (const auto& row : rows_) {
      std::string line;
      for (size_t i = 0; i < row.size(); ++i) {
        line += row[i];
        if (i + 1 < row.size()) line.append(width[i] - row[i].size() + 2, ' ');
      }
      out += line + "\n";
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string State(const absl::StatusOr<v1::RegionStatus>& r) {
  if (!r.ok()) return "down";
  return r->loading() ? "loading" : "up";
}

}  // namespace

std::string FormatVersionVector(const Topology& topology,
                                const google::protobuf::RepeatedPtrField<v1::VersionEntry>& vv) {
  VectorMap m = ToMap(vv);
  std::vector<std::string> parts;
  for (const RegionConfig& region : topology.regions) {
    auto it = m.find(region.name);
    if (it == m.end()) continue;
    parts.push_back(absl::StrCat(it->first, ":", it->second));
    m.erase(it);
  }
  for (const auto& [name, seq] : m) parts.push_back(absl::StrCat(name, ":", seq));
  return parts.empty() ? "{}" : absl::StrJoin(parts, " ");
}

std::string FormatStatusTable(const Topology& topology, const StatusResults& results,
                              bool show_digest, const std::vector<std::string>& notes) {
  std::vector<std::string> header = {"REGION", "RESP", "STATE", "KEYS", "VERSION VECTOR"};
  if (show_digest) header.insert(header.end() - 1, "DIGEST");
  Table regions(header);
  Table links({"REGION", "PEER", "CONNECTED", "LAG_OPS", "LAG_MS"});
  bool any_link = false;
  std::string problems;
  for (size_t i = 0; i < topology.regions.size(); ++i) {
    const RegionConfig& rc = topology.regions[i];
    const absl::StatusOr<v1::RegionStatus>& r = results[i];
    std::vector<std::string> row = {rc.name, rc.resp.ToString(), State(r)};
    if (r.ok()) {
      row.push_back(absl::StrCat(r->keys()));
      if (show_digest) row.push_back(r->digest().empty() ? "-" : r->digest());
      row.push_back(FormatVersionVector(topology, r->version_vector()));
      for (const v1::PeerStatus& p : r->peers()) {
        links.Add({rc.name, p.region(), p.connected() ? "yes" : "no", absl::StrCat(p.lag_ops()),
                   absl::StrCat(p.lag_ms())});
        any_link = true;
      }
    } else {
      row.push_back("-");
      if (show_digest) row.push_back("-");
      row.push_back("-");
      absl::StrAppend(&problems, rc.name, ": ", r.status().message());
      if (i < notes.size() && !notes[i].empty()) absl::StrAppend(&problems, "; ", notes[i]);
      problems += "\n";
    }
    regions.Add(std::move(row));
  }
  std::string out = absl::StrCat("database ", topology.name, " (", topology.source_path, ")\n\n",
                                 regions.Render(), "\n");
  if (any_link) {
    out += links.Render();
  } else if (topology.regions.size() == 1) {
    out += "no peer links (single region)\n";
  } else {
    out += "no peer links reported\n";
  }
  if (!problems.empty()) absl::StrAppend(&out, "\n", problems);
  return out;
}

std::string FormatStatusJson(const Topology& topology, const StatusResults& results) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out = "{";
  for (size_t i = 0; i < topology.regions.size(); ++i) {
    const std::string& name = topology.regions[i].name;
    std::string value;
    if (results[i].ok()) {
      auto s = google::protobuf::util::MessageToJsonString(*results[i], &value, options);
      if (!s.ok()) {
        value = absl::StrCat(
            "{\"region\":", JsonString(name), ",\"down\":false,\"error\":",
            JsonString(absl::StrCat("cannot print status as JSON: ", s.ToString())), "}");
      }
    } else {
      value =
          absl::StrCat("{\"region\":", JsonString(name),
                       ",\"down\":true,\"error\":", JsonString(results[i].status().message()), "}");
    }
    absl::StrAppend(&out, i == 0 ? "\n" : ",\n", JsonString(name), ":", value);
  }
  return out + "\n}\n";
}

LinkCount CountLinks(const Topology& topology, const StatusResults& results) {
  LinkCount count;
  for (size_t i = 0; i < topology.regions.size(); ++i) {
    std::set<std::string> connected;
    if (results[i].ok()) {
      for (const v1::PeerStatus& p : results[i]->peers()) {
        if (p.connected()) connected.insert(p.region());
      }
    }
    for (const RegionConfig& peer : topology.regions) {
      if (peer.name == topology.regions[i].name) continue;
      ++count.total;
      if (connected.count(peer.name)) {
        ++count.connected;
      } else {
        count.missing.push_back(absl::StrCat(topology.regions[i].name, "<-", peer.name));
      }
    }
  }
  return count;
}

std::vector<std::string> SyncDifferences(const Topology& topology, const StatusResults& results) {
  std::vector<std::string> diffs;
  std::vector<size_t> up;
  for (size_t i = 0; i < topology.regions.size(); ++i) {
    const std::string& name = topology.regions[i].name;
    if (!results[i].ok()) {
      diffs.push_back(absl::StrCat(name, ": down (", results[i].status().message(), ")"));
    } else if (results[i]->loading()) {
      diffs.push_back(absl::StrCat(name, ": loading"));
    } else {
      up.push_back(i);
    }
  }
  auto describe_all = [&](auto field) {
    std::vector<std::string> parts;
    parts.reserve(up.size());
    for (size_t i : up) parts.push_back(absl::StrCat(topology.regions[i].name, " ", field(i)));
    return absl::StrJoin(parts, ", ");
  };
  bool vv_equal = true, digest_equal = true;
  for (size_t i : up) {
    vv_equal &= ToMap(results[i]->version_vector()) == ToMap(results[up[0]]->version_vector());
    digest_equal &= results[i]->digest() == results[up[0]]->digest();
  }
  if (!vv_equal) {
    diffs.push_back(
        absl::StrCat("version vectors differ: ", describe_all([&](size_t i) {
                       return absl::StrCat(
                           "{", FormatVersionVector(topology, results[i]->version_vector()), "}");
                     })));
  }
  for (size_t i : up) {
    for (const v1::PeerStatus& p : results[i]->peers()) {
      if (p.lag_ops() == 0) continue;
      diffs.push_back(absl::StrCat("lag: ", topology.regions[i].name, " -> ", p.region(),
                                   " lag_ops=", p.lag_ops(), " lag_ms=", p.lag_ms()));
    }
  }
  if (!digest_equal) {
    diffs.push_back(absl::StrCat("digests differ: ", describe_all([&](size_t i) {
                                   const std::string& d = results[i]->digest();
                                   return d.empty() ? std::string("(none)") : d;
                                 })));
  }
  return diffs;
}

}  // namespace activekv::topology::ctl
