#pragma once

// The topology of one active-active database: its regions, where each listens, where each keeps
// its data, and how each persists. Loaded from the YAML file described in docs/topology.md:
//
//   name: demo
//   persistence: { mode: aof, appendfsync: everysec }   # optional, default for every region
//   regions:
//     - name: us-east
//       resp: 127.0.0.1:7001                      # RESP endpoint for clients
//       resp_tls: 127.0.0.1:7201                  # optional: RESP over TLS (needs `tls`)
//       sync: 127.0.0.1:7101                      # gRPC endpoint: Syncer + Status
//       data_dir: data/us-east                    # relative to the YAML file's folder
//       persistence: { appendfsync: always }      # optional per-region override
//
// Every loading or validation failure is an InvalidArgument status whose message is
// "FILE:LINE: what is wrong" (LINE 1-based), naming the first problem in file order, e.g.
//   topo.yaml:7: regions[1].sync: address 127.0.0.1:7101 is already used by regions[0].sync
//   (line 5)
// A file that cannot be read at all gives "FILE: cannot read topology file: <reason>".
//
// Thread-safety: the functions are reentrant and keep no state. A Topology is a plain value; the
// usual const-is-thread-safe rule applies. No exceptions escape.

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "topology/endpoint.h"

namespace activekv::topology {

// Redis's appendfsync policy; see docs/topology.md and DESIGN.md §4.
enum class Appendfsync { kAlways, kEverysec, kNo };

// "always", "everysec" or "no": the spelling used in the YAML file and in INFO.
std::string_view AppendfsyncName(Appendfsync policy);

// Inverse of AppendfsyncName (exact, lower-case match). InvalidArgument otherwise:
//   bad appendfsync value 'sometimes' (allowed: always, everysec, no)
absl::StatusOr<Appendfsync> ParseAppendfsync(std::string_view text);

// Redis's `save` rules: "<seconds> <changes> ...", a snapshot (BGSAVE) once `changes` writes
// happened and `seconds` passed since the last one. "" (no rule) is the default.
struct SaveRule {
  int64_t seconds = 0;  // >= 1
  int64_t changes = 0;  // >= 0
  bool operator==(const SaveRule& o) const { return seconds == o.seconds && changes == o.changes; }
};
// Parses `text` as Redis 7.0 does: tokens separated by single spaces, pairs of integers.
// InvalidArgument "Invalid save parameters" otherwise.
absl::StatusOr<std::vector<SaveRule>> ParseSaveRules(std::string_view text);
// The rules as CONFIG GET save shows them ("3600 1 300 100").
std::string SaveRulesText(const std::vector<SaveRule>& rules);

// How a region persists (docs/operations.md, "Persistence options"):
//   kAof       every write appended to appendonly.aof (appendfsync); restart replays it
//   kSnapshot  no AOF: dump.akv every `snapshot` interval (and by `save` rules, SAVE, BGSAVE, a
//              clean shutdown); restart loads it, then catches up from peers
//   kNone      nothing on disk: restart starts empty and catches up from peers
enum class PersistenceMode { kAof, kSnapshot, kNone };
// "aof", "snapshot" or "none".
std::string_view PersistenceModeName(PersistenceMode mode);
// Inverse of PersistenceModeName; InvalidArgument
//   bad persistence mode 'x' (allowed: aof, snapshot, none)
absl::StatusOr<PersistenceMode> ParsePersistenceMode(std::string_view text);

struct PersistenceConfig {
  PersistenceMode mode = PersistenceMode::kAof;
  Appendfsync appendfsync = Appendfsync::kEverysec;
  std::vector<SaveRule> save;
  // `snapshot: 1h|6h|12h` (any ParseInterval): a snapshot every interval when anything changed,
  // i.e. the save rule "<interval> 1". 0: none; mode kSnapshot then defaults to 1h.
  int64_t snapshot_interval_s = 0;

  // The save rules a region runs with: `save` plus the `snapshot` interval's rule (kSnapshot
  // without either: "3600 1"); none for kNone.
  std::vector<SaveRule> EffectiveSaveRules() const;
};

// Scheduled backups, run by each region itself (docs/operations.md, "Scheduled backups").
struct BackupConfig {
  std::string location;          // a directory or s3://bucket/prefix; empty: no scheduled backups
  int64_t interval_s = 0;        // "1h" | "4h" | "12h" | "24h" (or any "<N>s", "<N>m", "<N>h")
  int64_t offset_s = 0;          // "HH:MM": the schedule's phase after midnight UTC
  int64_t retention = 0;         // how many of this region's newest backups are kept; 0: all
  std::string credentials_file;  // AWS shared-credentials file; empty: the AWS_* environment
  std::string profile = "default";
};
// "<N>s" / "<N>m" / "<N>h" in seconds (N >= 1); InvalidArgument otherwise.
absl::StatusOr<int64_t> ParseInterval(std::string_view text);

// TLS (docs/security.md): mutual TLS on the sync port, and the certificate a region's
// `resp_tls` port presents to clients. PEM files, absolute. All three or none.
struct TlsConfig {
  std::string ca_file;    // the CA every region's and the operator's certificate is signed by
  std::string cert_file;  // this region's certificate (its name is the region's name)
  std::string key_file;
  // The RESP TLS port only (the sync port always requires certificates): Redis's
  // tls-auth-clients ("yes", "no", "optional") and tls-protocols ("" or a space-separated list
  // of TLSv1.2 / TLSv1.3).
  std::string auth_clients = "yes";
  std::string protocols;
  bool enabled() const { return !ca_file.empty(); }
};

struct RegionConfig {
  std::string name;      // unique; [A-Za-z0-9_-]{1,64}
  Endpoint resp;         // RESP endpoint for clients
  Endpoint resp_tls;     // RESP over TLS (optional, needs `tls`); port 0: none
  Endpoint sync;         // gRPC endpoint: activekv.v1.Syncer + activekv.v1.Status
  std::string data_dir;  // absolute, lexically normalised, no trailing '/'
  // Effective settings: the region's own `persistence` keys override the top-level defaults.
  PersistenceConfig persistence;
  BackupConfig backup;  // the same for `backup`
  // Security (docs/security.md): Redis-format ACL file and a file holding the default user's
  // password; absolute; empty: none. The region's own keys override the top-level ones.
  std::string acl_file;
  std::string requirepass_file;
  TlsConfig tls;  // the top-level `tls`, key by key overridden by the region's own
};

// Replication settings shared by every region (the `replication` mapping).
struct ReplicationConfig {
  enum class Compression { kNone, kGzip };
  Compression compression = Compression::kNone;  // of the gRPC streams between regions
};

struct Topology {
  std::string name;         // the database name; [A-Za-z0-9_-]{1,64}
  std::string source_path;  // LoadTopologyFile: absolute normalised file path; else source_name
  PersistenceConfig persistence;  // top-level defaults (already applied to every region)
  BackupConfig backup;            // top-level defaults (already applied to every region)
  ReplicationConfig replication;
  std::string acl_file;          // top-level defaults (already applied to every region)
  std::string requirepass_file;  // top-level defaults (already applied to every region)
  TlsConfig tls;                 // top-level defaults (already applied to every region)
  // The operator's client certificate (tls.operator_cert_file / operator_key_file): what
  // activekvctl presents to the Status service, the only certificate it answers.
  std::string operator_cert_file;
  std::string operator_key_file;
  std::vector<RegionConfig> regions;  // non-empty, in file order

  // The region called `name`, or nullptr. The pointer lives as long as this Topology is neither
  // destroyed nor has `regions` modified.
  const RegionConfig* FindRegion(std::string_view name) const;
};

// Reads and validates the file at `path`. Relative data_dirs resolve against the folder holding
// the file (made absolute against the current directory if `path` is relative). Messages name the
// file as `path` was given.
absl::StatusOr<Topology> LoadTopologyFile(const std::string& path);

// The password in a requirepass_file: its first line (without a trailing CR), never empty.
absl::StatusOr<std::string> ReadRequirePass(const std::string& path);

// Validates YAML text. `source_name` prefixes every error message and becomes
// Topology::source_path; relative data_dirs resolve against `base_dir` (itself made absolute
// against the current directory when relative; empty means the current directory).
absl::StatusOr<Topology> ParseTopology(std::string_view yaml, std::string_view source_name,
                                       std::string_view base_dir);

}  // namespace activekv::topology
