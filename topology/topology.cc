#include "topology/topology.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace activekv::topology {
namespace {

// Reads the whole file; on failure returns the reason (strerror text).
absl::StatusOr<std::string> ReadFile(const std::string& path) {
  auto failure = [](int err) {
    return absl::InvalidArgumentError(std::error_code(err, std::generic_category()).message());
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return failure(errno);
  std::string contents;
  char buf[64 * 1024];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return failure(err);
    }
    if (n == 0) break;
    contents.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

}  // namespace

std::string_view AppendfsyncName(Appendfsync policy) {
  switch (policy) {
    case Appendfsync::kAlways:
      return "always";
    case Appendfsync::kEverysec:
      return "everysec";
    case Appendfsync::kNo:
      return "no";
  }
  return "unknown";
}

absl::StatusOr<Appendfsync> ParseAppendfsync(std::string_view text) {
  for (Appendfsync policy : {Appendfsync::kAlways, Appendfsync::kEverysec, Appendfsync::kNo}) {
    if (text == AppendfsyncName(policy)) return policy;
  }
  return absl::InvalidArgumentError(absl::StrCat("bad appendfsync value '",
                                                 absl::string_view(text.data(), text.size()),
                                                 "' (allowed: always, everysec, no)"));
}

std::string_view PersistenceModeName(PersistenceMode mode) {
  switch (mode) {
    case PersistenceMode::kAof:
      return "aof";
    case PersistenceMode::kSnapshot:
      return "snapshot";
    case PersistenceMode::kNone:
      return "none";
  }
  return "unknown";
}

absl::StatusOr<PersistenceMode> ParsePersistenceMode(std::string_view text) {
  for (PersistenceMode m :
       {PersistenceMode::kAof, PersistenceMode::kSnapshot, PersistenceMode::kNone}) {
    if (text == PersistenceModeName(m)) return m;
  }
  return absl::InvalidArgumentError(absl::StrCat("bad persistence mode '",
                                                 absl::string_view(text.data(), text.size()),
                                                 "' (allowed: aof, snapshot, none)"));
}

std::vector<SaveRule> PersistenceConfig::EffectiveSaveRules() const {
  if (mode == PersistenceMode::kNone) return {};
  std::vector<SaveRule> rules = save;
  int64_t interval = snapshot_interval_s;
  if (interval == 0 && mode == PersistenceMode::kSnapshot && save.empty()) interval = 3600;
  if (interval > 0) {
    const SaveRule rule{interval, 1};
    if (std::find(rules.begin(), rules.end(), rule) == rules.end()) rules.push_back(rule);
  }
  return rules;
}

absl::StatusOr<std::vector<SaveRule>> ParseSaveRules(std::string_view text) {
  std::vector<SaveRule> rules;
  if (text.empty()) return rules;
  std::vector<absl::string_view> words =
      absl::StrSplit(absl::string_view(text.data(), text.size()), ' ');
  if (words.size() % 2 != 0) return absl::InvalidArgumentError("Invalid save parameters");
  // An integer as Redis's string2ll takes it: an optional '-', then digits only.
  auto integer = [](absl::string_view w, int64_t* v) {
    absl::string_view digits = absl::StripPrefix(w, "-");
    return !digits.empty() && std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit) &&
           absl::SimpleAtoi(w, v);
  };
  for (size_t i = 0; i < words.size(); i += 2) {
    SaveRule r;
    if (!integer(words[i], &r.seconds) || !integer(words[i + 1], &r.changes) || r.seconds < 1 ||
        r.changes < 0) {
      return absl::InvalidArgumentError("Invalid save parameters");
    }
    rules.push_back(r);
  }
  return rules;
}

absl::StatusOr<int64_t> ParseInterval(std::string_view text) {
  int64_t n = 0;
  const absl::string_view t(text.data(), text.size());
  if (t.size() >= 2 && absl::SimpleAtoi(t.substr(0, t.size() - 1), &n) && n >= 1 &&
      std::all_of(t.begin(), t.end() - 1, absl::ascii_isdigit)) {
    int64_t unit = 0;
    switch (t.back()) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      default:
        break;
    }
    // A count of seconds past int64 is no interval (found by topology_fuzz: it overflowed).
    if (unit != 0 && n <= INT64_MAX / unit) return n * unit;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("'", t, "' is not an interval (<N>s, <N>m or <N>h, e.g. 1h, 4h, 12h, 24h)"));
}

std::string SaveRulesText(const std::vector<SaveRule>& rules) {
  std::string out;
  for (const SaveRule& r : rules) {
    if (!out.empty()) out += ' ';
    absl::StrAppend(&out, r.seconds, " ", r.changes);
  }
  return out;
}

const RegionConfig* Topology::FindRegion(std::string_view name) const {
  for (const RegionConfig& region : regions) {
    if (region.name == name) return &region;
  }
  return nullptr;
}

absl::StatusOr<std::string> ReadRequirePass(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("requirepass_file ", path, ": cannot be read"));
  }
  std::string_view line(*text);
  line = line.substr(0, line.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("requirepass_file ", path, ": the first line is empty"));
  }
  return std::string(line);
}

absl::StatusOr<Topology> LoadTopologyFile(const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError("cannot read topology file: empty file name");
  }
  absl::StatusOr<std::string> contents = ReadFile(path);
  if (!contents.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read topology file: ", contents.status().message()));
  }
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot resolve the file's location: ", ec.message()));
  }
  absolute = absolute.lexically_normal();
  absl::StatusOr<Topology> topology =
      ParseTopology(*contents, path, absolute.parent_path().string());
  if (topology.ok()) topology->source_path = absolute.string();
  return topology;
}

}  // namespace activekv::topology
