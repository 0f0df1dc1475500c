// activekvctl backup create | list | verify | validate (docs/ctl.md, docs/backup-format.md).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "activekv/v1/snapshot.pb.h"
#include "activekv/v1/status.grpc.pb.h"
#include "backup/credentials.h"
#include "backup/location.h"
#include "backup/manifest.h"
#include "backup/object_store.h"
#include "backup/writer.h"
#include "grpcpp/grpcpp.h"
#include "persistence/aof_format.h"
#include "persistence/aof_reader.h"
#include "persistence/env.h"
#include "topology/ctl/commands.h"
#include "topology/ctl/probe.h"

namespace activekv::topology::ctl {
namespace {

struct BackupArgs {
  std::vector<std::string> positional;
  std::string region;
  std::string to;
  std::string backup_id;
  std::string credentials_file;
  std::string from;    // restore
  std::string into;    // restore
  bool merge = false;  // restore --merge
  std::string profile = "default";
};

int Fail(const std::string& what) {
  fprintf(stderr, "activekvctl: %s\n", what.c_str());
  return kExitFailure;
}

absl::StatusOr<std::unique_ptr<backup::ObjectStore>> OpenStore(const std::string& location,
                                                               const BackupArgs& a) {
  absl::StatusOr<backup::Location> loc = backup::ParseLocation(location);
  if (!loc.ok()) return loc.status();
  backup::S3Config s3;
  if (loc->kind == backup::Location::kS3) {
    absl::StatusOr<backup::S3Config> cfg =
        a.credentials_file.empty() ? backup::S3ConfigFromEnv()
                                   : backup::LoadCredentialsFile(a.credentials_file, a.profile);
    if (!cfg.ok()) return cfg.status();
    s3 = *std::move(cfg);
  }
  return backup::OpenObjectStore(*loc, s3);
}

// Streams one region's backup into the store; prints and returns its manifest.
absl::StatusOr<backup::Manifest> CreateOne(const RegionConfig& region, const Topology& topology,
                                           backup::ObjectStore& store) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  args.SetInt(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, 16 << 20);
  auto channel = OperatorChannel(topology, region, args);
  std::unique_ptr<v1::Status::Stub> stub = v1::Status::NewStub(channel);
  const absl::Time started = absl::Now();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(24));
  v1::BackupRequest request;
  std::unique_ptr<grpc::ClientReader<v1::BackupChunk>> reader = stub->Backup(&ctx, request);
  v1::BackupChunk chunk;
  uint64_t size = 0, total = 0;
  int64_t saved_ms = 0;
  bool first = true;
  std::string id;
  // The object key is known once the first chunk arrived: read it before the upload starts.
  if (!reader->Read(&chunk)) {
    grpc::Status s = reader->Finish();
    return absl::UnavailableError(absl::StrCat("region ", region.name, " (", region.sync.ToString(),
                                               "): backup failed: ", s.error_message()));
  }
  total = chunk.total_bytes();
  saved_ms = chunk.saved_unix_ms();
  const auto version = chunk.version();
  if (chunk.database() != topology.name) {
    return absl::FailedPreconditionError(absl::StrCat("region ", region.name,
                                                      " belongs to database '", chunk.database(),
                                                      "', not '", topology.name, "'"));
  }
  // Named by this request's time (ms): two backups never share an id.
  id = backup::BackupId(topology.name, region.name, absl::ToUnixMillis(started));
  std::string data;
  bool ended = false;
  backup::Source source = [&]() -> absl::StatusOr<std::string_view> {
    if (!first) {
      if (ended || !reader->Read(&chunk)) {
        ended = true;
        return std::string_view();
      }
    }
    first = false;
    data = std::move(*chunk.mutable_data());
    size += data.size();
    return std::string_view(data);
  };
  uint64_t reported = 0;
  backup::Progress progress = [&](uint64_t done) {
    if (done - reported >= (64u << 20) || done == total) {
      printf("  %s: %llu of %llu bytes\n", region.name.c_str(),
             static_cast<unsigned long long>(done), static_cast<unsigned long long>(total));
      reported = done;
    }
  };
  backup::Manifest m;
  m.id = id;
  m.database = topology.name;
  m.region = region.name;
  m.saved_unix_ms = saved_ms;
  for (const v1::VersionEntry& e : version) m.version_vector.emplace_back(e.region(), e.seq());
  // The manifest is written only after the whole stream arrived with its announced size.
  bool stream_finished = false;
  const std::string snapshot_key = absl::StrCat(id, "/", backup::kSnapshotName);
  backup::Source checked = [&]() -> absl::StatusOr<std::string_view> {
    absl::StatusOr<std::string_view> piece = source();
    if (!piece.ok() || !piece->empty()) return piece;
    stream_finished = true;
    grpc::Status finished = reader->Finish();
    if (!finished.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "region ", region.name, ": backup stream failed: ", finished.error_message()));
    }
    if (size != total) {
      return absl::DataLossError(
          absl::StrCat("region ", region.name, ": got ", size, " of ", total, " bytes"));
    }
    return piece;
  };
  absl::StatusOr<backup::Manifest> written =
      backup::WriteBackup(store, std::move(m), checked, progress, absl::ToUnixMillis(absl::Now()));
  if (!written.ok()) {
    if (!stream_finished) {  // the upload failed first: end the call before dropping it
      ctx.TryCancel();
      reader->Finish();
    }
    store.Delete(snapshot_key).IgnoreError();
  }
  return written;
}

int Create(const BackupArgs& a) {
  if (a.positional.size() != 1) return Fail("backup create takes FILE (the topology)");
  if (a.to.empty()) {
    return Fail("backup create needs --to LOCATION (a directory or s3://bucket/prefix)");
  }
  absl::StatusOr<Topology> topology = LoadTopologyFile(a.positional[0]);
  if (!topology.ok()) return Fail(std::string(topology.status().message()));
  absl::StatusOr<std::unique_ptr<backup::ObjectStore>> store = OpenStore(a.to, a);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  int rc = kExitOk;
  for (const RegionConfig& region : topology->regions) {
    if (!a.region.empty() && region.name != a.region) continue;
    absl::StatusOr<backup::Manifest> m = CreateOne(region, *topology, **store);
    if (!m.ok()) {
      fprintf(stderr, "activekvctl: backup of %s: %s\n", region.name.c_str(),
              std::string(m.status().message()).c_str());
      rc = kExitFailure;
      continue;
    }
    printf("backup %s: %llu bytes, sha256 %s, in %s\n", m->id.c_str(),
           static_cast<unsigned long long>(m->objects[0].size), m->objects[0].sha256.c_str(),
           (*store)->Describe().c_str());
  }
  if (!a.region.empty() && topology->FindRegion(a.region) == nullptr) {
    return Fail(absl::StrCat("unknown region '", a.region, "'"));
  }
  return rc;
}

// The backups in a store: id -> manifest (nullopt: incomplete, no manifest).
absl::StatusOr<std::map<std::string, std::optional<backup::Manifest>>> Backups(
    backup::ObjectStore& store) {
  absl::StatusOr<std::vector<backup::ObjectInfo>> objects = store.List("");
  if (!objects.ok()) return objects.status();
  std::map<std::string, std::optional<backup::Manifest>> out;
  for (const backup::ObjectInfo& o : *objects) {
    const size_t slash = o.key.rfind('/');
    if (slash == std::string::npos) continue;
    const std::string id = o.key.substr(0, slash);
    const std::string name = o.key.substr(slash + 1);
    auto& entry = out[id];
    if (name != backup::kManifestName) continue;
    std::string yaml;
    absl::Status s = store.Get(o.key, [&](std::string_view d) {
      yaml.append(d);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    absl::StatusOr<backup::Manifest> m = backup::ParseManifest(yaml);
    if (!m.ok()) return absl::DataLossError(absl::StrCat(o.key, ": ", m.status().message()));
    entry = *std::move(m);
  }
  return out;
}

int List(const BackupArgs& a) {
  if (a.positional.size() != 1) return Fail("backup list takes LOCATION");
  absl::StatusOr<std::unique_ptr<backup::ObjectStore>> store = OpenStore(a.positional[0], a);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  auto backups = Backups(**store);
  if (!backups.ok()) return Fail(std::string(backups.status().message()));
  for (const auto& [id, m] : *backups) {
    if (!m) {
      printf("%s  incomplete (no manifest)\n", id.c_str());
      continue;
    }
    uint64_t bytes = 0;
    for (const auto& o : m->objects) bytes += o.size;
    std::string vv;
    for (const auto& [origin, seq] : m->version_vector) absl::StrAppend(&vv, origin, ":", seq, " ");
    printf("%s  database=%s region=%s saved_unix_ms=%lld bytes=%llu version=[%s]\n", id.c_str(),
           m->database.c_str(), m->region.c_str(), static_cast<long long>(m->saved_unix_ms),
           static_cast<unsigned long long>(bytes), std::string(absl::StripSuffix(vv, " ")).c_str());
  }
  return kExitOk;
}

// Downloads backup `m`'s snapshot to `path`, checking its size and SHA-256 against the manifest
// and that it parses as one whole snapshot (every record a chunk, first to last). Returns a
// summary; on error `path` is removed.
absl::StatusOr<std::string> FetchSnapshot(backup::ObjectStore& store, const backup::Manifest& m,
                                          const std::string& path) {
  const backup::Manifest::Object* o = nullptr;
  for (const backup::Manifest::Object& x : m.objects) {
    if (x.name == backup::kSnapshotName) o = &x;
  }
  if (o == nullptr) return absl::DataLossError(m.id + ": the manifest names no snapshot");
  const std::string key = absl::StrCat(m.id, "/", o->name);
  auto fail = [&](absl::Status s) {
    unlink(path.c_str());
    return s;
  };
  backup::Sha256 sha;
  uint64_t size = 0;
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return absl::InternalError("cannot write " + path);
    absl::Status s = store.Get(key, [&](std::string_view d) {
      sha.Update(d);
      size += d.size();
      out.write(d.data(), static_cast<std::streamsize>(d.size()));
      return out ? absl::OkStatus() : absl::InternalError("writing " + path);
    });
    if (s.ok()) out.flush();
    if (s.ok() && !out) s = absl::InternalError("writing " + path);
    if (!s.ok()) return fail(absl::Status(s.code(), absl::StrCat(key, ": ", s.message())));
  }
  const std::string digest = sha.HexDigest();
  if (size != o->size || digest != o->sha256) {
    return fail(absl::DataLossError(absl::StrCat(key, ": checksum mismatch (manifest: ", o->size,
                                                 " bytes, sha256 ", o->sha256, "; object: ", size,
                                                 " bytes, sha256 ", digest, ")")));
  }
  persistence::Env* env = persistence::Env::Default();
  auto file = env->NewSequentialFile(path);
  if (!file.ok()) return fail(file.status());
  persistence::aof::Reader reader(file->get(), nullptr);
  std::string payload;
  uint64_t chunks = 0, keys = 0;
  bool last = false;
  while (true) {
    persistence::aof::Reader::Result r = reader.ReadRecord(&payload);
    if (r == persistence::aof::Reader::Result::kEof) break;
    if (r != persistence::aof::Reader::Result::kRecord) {
      return fail(absl::DataLossError(
          absl::StrCat(key, ": not a complete snapshot file (at byte ", reader.end_offset(), ")")));
    }
    v1::Snapshot chunk;
    if (reader.record_type() != persistence::aof::kSnapshotType ||
        !chunk.ParseFromString(payload) || chunk.first() != (chunks == 0) || last) {
      return fail(absl::DataLossError(
          absl::StrCat(key, ": record ", chunks, " is not the snapshot's next chunk")));
    }
    ++chunks;
    keys += static_cast<uint64_t>(chunk.keys_size());
    last = chunk.last();
  }
  if (!last) return fail(absl::DataLossError(key + ": the snapshot has no last chunk"));
  return absl::StrCat(size, " bytes, ", chunks, " chunks, ", keys, " keys, sha256 ", digest);
}

absl::Status VerifyOne(backup::ObjectStore& store, const backup::Manifest& m) {
  char tmpl[] = "/tmp/activekvctl-verify-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) return absl::InternalError("cannot create a temporary file");
  close(fd);
  absl::StatusOr<std::string> summary = FetchSnapshot(store, m, tmpl);
  if (!summary.ok()) return summary.status();
  unlink(tmpl);
  printf("%s: ok (%s)\n", m.id.c_str(), summary->c_str());
  return absl::OkStatus();
}

int Verify(const BackupArgs& a) {
  if (a.positional.size() != 1) return Fail("backup verify takes LOCATION");
  absl::StatusOr<std::unique_ptr<backup::ObjectStore>> store = OpenStore(a.positional[0], a);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  auto backups = Backups(**store);
  if (!backups.ok()) return Fail(std::string(backups.status().message()));
  int checked = 0;
  for (const auto& [id, m] : *backups) {
    if (!a.backup_id.empty() && id != a.backup_id) continue;
    if (!m) {
      if (!a.backup_id.empty()) return Fail(absl::StrCat(id, ": incomplete (no manifest)"));
      continue;
    }
    absl::Status s = VerifyOne(**store, *m);
    if (!s.ok()) return Fail(std::string(s.message()));
    ++checked;
  }
  if (checked == 0) {
    return Fail(a.backup_id.empty() ? "no complete backup in " + a.positional[0]
                                    : "no backup " + a.backup_id + " in " + a.positional[0]);
  }
  return kExitOk;
}

int Validate(const BackupArgs& a) {
  if (a.positional.size() != 1) return Fail("backup validate takes LOCATION");
  absl::StatusOr<std::unique_ptr<backup::ObjectStore>> store = OpenStore(a.positional[0], a);
  if (!store.ok()) return Fail(std::string(store.status().message()));
  absl::Status s = backup::ValidateLocation(**store);
  if (!s.ok()) return Fail(absl::StrCat((*store)->Describe(), ": ", s.message()));
  printf("%s: ok (wrote, read back, listed and deleted a probe object)\n",
         (*store)->Describe().c_str());
  return kExitOk;
}

// What restore and restore --merge start from: the topology FILE names (--into) and the backups
// in LOCATION (--from).
struct RestoreSource {
  Topology topology;
  std::unique_ptr<backup::ObjectStore> store;
  std::map<std::string, std::optional<backup::Manifest>> backups;
};

absl::StatusOr<RestoreSource> OpenRestore(const BackupArgs& a) {
  if (a.from.empty() || a.into.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("restore", a.merge ? " --merge" : "",
                                                   " needs --from LOCATION and --into FILE"));
  }
  RestoreSource out;
  absl::StatusOr<Topology> topology = LoadTopologyFile(a.into);
  if (!topology.ok()) return topology.status();
  out.topology = *std::move(topology);
  absl::StatusOr<std::unique_ptr<backup::ObjectStore>> store = OpenStore(a.from, a);
  if (!store.ok()) return store.status();
  out.store = *std::move(store);
  auto backups = Backups(*out.store);
  if (!backups.ok()) return backups.status();
  out.backups = *std::move(backups);
  return out;
}

// restore --from LOCATION [--backup ID] --into TOPOLOGY [--region R]: seeds each region's (or
// only R's) empty data directory with a backup's snapshot as its dump.akv (docs/operations.md,
// "Restore and recovery").
int RestoreInto(const BackupArgs& a) {
  absl::StatusOr<RestoreSource> source = OpenRestore(a);
  if (!source.ok()) return Fail(std::string(source.status().message()));
  const Topology* topology = &source->topology;
  backup::ObjectStore& store = *source->store;
  const auto* backups = &source->backups;
  // Which backup seeds which region: --backup ID seeds every region; otherwise each region gets
  // the newest complete backup of its own name (ids end in their UTC time: the last sorts newest).
  if (!a.region.empty() && topology->FindRegion(a.region) == nullptr) {
    return Fail(absl::StrCat("no region '", a.region, "' in ", a.into));
  }
  std::vector<std::pair<const RegionConfig*, const backup::Manifest*>> plan;
  for (const RegionConfig& region : topology->regions) {
    if (!a.region.empty() && region.name != a.region) continue;  // left as it is
    const backup::Manifest* pick = nullptr;
    for (const auto& [id, m] : *backups) {
      if (!m) continue;
      if (a.backup_id.empty() ? m->region == region.name && m->database == topology->name
                              : id == a.backup_id) {
        pick = &*m;
      }
    }
    if (pick != nullptr) plan.emplace_back(&region, pick);
  }
  if (!a.backup_id.empty()) {
    auto it = backups->find(a.backup_id);
    if (it == backups->end()) return Fail("no backup " + a.backup_id + " in " + a.from);
    if (!it->second) return Fail(a.backup_id + ": incomplete (no manifest)");
  }
  if (plan.empty()) {
    return Fail(absl::StrCat("no complete backup of database '", topology->name, "' in ", a.from));
  }
  // Everything is checked before anything is written.
  for (const auto& [region, m] : plan) {
    if (m->database != topology->name) {
      return Fail(absl::StrCat("backup ", m->id, " is of database '", m->database, "', not '",
                               topology->name, "' (", a.into, ")"));
    }
    std::error_code ec;
    if (std::filesystem::exists(region->data_dir, ec) &&
        !std::filesystem::is_empty(region->data_dir, ec)) {
      return Fail(absl::StrCat("region ", region->name, ": data directory ", region->data_dir,
                               " is not empty; a restore starts from an empty one"));
    }
  }
  for (const auto& [region, m] : plan) {
    std::error_code ec;
    std::filesystem::create_directories(region->data_dir, ec);
    if (ec) return Fail(absl::StrCat("cannot create ", region->data_dir, ": ", ec.message()));
    // As its snapshot file: every persistence mode starts from it (mode aof begins its AOF
    // with it, docs/operations.md "Persistence options").
    const std::string dump = region->data_dir + "/dump.akv";
    const std::string tmp = dump + ".restore";
    absl::StatusOr<std::string> summary = FetchSnapshot(store, *m, tmp);
    if (!summary.ok()) return Fail(std::string(summary.status().message()));
    persistence::Env* env = persistence::Env::Default();
    absl::Status s = env->RenameFile(tmp, dump);
    if (s.ok()) s = env->SyncDir(region->data_dir);
    if (!s.ok()) return Fail(std::string(s.message()));
    printf("region %s: restored %s (%s) into %s\n", region->name.c_str(), m->id.c_str(),
           summary->c_str(), region->data_dir.c_str());
  }
  for (const RegionConfig& region : topology->regions) {
    if (!a.region.empty() && region.name != a.region) continue;
    bool seeded = false;
    for (const auto& p : plan) seeded = seeded || p.first == &region;
    if (!seeded) {
      printf("region %s: no backup; it joins from its peers when started\n", region.name.c_str());
    }
  }
  return kExitOk;
}

// restore --merge --from LOCATION [--backup ID] --into TOPOLOGY [--region R]: streams a backup's
// snapshot, a chunk at a time, into a live region's Status.Import, which writes its keys as new
// local writes (docs/crdt-semantics.md, "Restore --merge").
int MergeInto(const BackupArgs& a) {
  absl::StatusOr<RestoreSource> source = OpenRestore(a);
  if (!source.ok()) return Fail(std::string(source.status().message()));
  const Topology* topology = &source->topology;
  backup::ObjectStore& store = *source->store;
  const auto* backups = &source->backups;
  // The backup: ID, or the newest complete one of this database (from any region: every region
  // holds the whole database).
  const backup::Manifest* m = nullptr;
  if (!a.backup_id.empty()) {
    auto it = backups->find(a.backup_id);
    if (it == backups->end()) return Fail("no backup " + a.backup_id + " in " + a.from);
    if (!it->second) return Fail(a.backup_id + ": incomplete (no manifest)");
    m = &*it->second;
  } else {
    for (const auto& [id, candidate] : *backups) {
      if (!candidate || candidate->database != topology->name) continue;
      if (m == nullptr || candidate->saved_unix_ms > m->saved_unix_ms) m = &*candidate;
    }
    if (m == nullptr) {
      return Fail(
          absl::StrCat("no complete backup of database '", topology->name, "' in ", a.from));
    }
  }
  if (m->database != topology->name) {
    return Fail(absl::StrCat("backup ", m->id, " is of database '", m->database, "', not '",
                             topology->name, "' (", a.into, ")"));
  }
  // Into region R, else into the region the backup was taken from.
  const std::string target = a.region.empty() ? m->region : a.region;
  const RegionConfig* region = topology->FindRegion(target);
  if (region == nullptr) {
    return Fail(absl::StrCat("no region '", target, "' in ", a.into,
                             a.region.empty() ? " (name the live region with --region)" : ""));
  }
  char tmpl[] = "/tmp/activekvctl-merge-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0) return Fail("cannot create a temporary file");
  close(fd);
  const std::string path = tmpl;
  absl::StatusOr<std::string> summary = FetchSnapshot(store, *m, path);
  if (!summary.ok()) return Fail(std::string(summary.status().message()));
  auto file = persistence::Env::Default()->NewSequentialFile(path);
  unlink(path.c_str());  // the open file stays readable
  if (!file.ok()) return Fail(std::string(file.status().message()));

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  auto channel = OperatorChannel(*topology, *region, args);
  std::unique_ptr<v1::Status::Stub> stub = v1::Status::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(24));
  v1::ImportReply reply;
  std::unique_ptr<grpc::ClientWriter<v1::ImportRequest>> writer = stub->Import(&ctx, &reply);
  persistence::aof::Reader reader(file->get(), nullptr);
  std::string payload;
  v1::ImportRequest request;
  request.set_database(m->database);
  request.set_backup_id(m->id);
  uint64_t keys = 0, reported = 0;
  bool sent_all = true;
  // FetchSnapshot checked that every record is the snapshot's next chunk.
  while (reader.ReadRecord(&payload) == persistence::aof::Reader::Result::kRecord) {
    if (!request.mutable_chunk()->ParseFromString(payload)) {
      sent_all = false;
      break;
    }
    keys += static_cast<uint64_t>(request.chunk().keys_size());
    if (!writer->Write(request)) {
      sent_all = false;  // the region ended the call: Finish says why
      break;
    }
    request.Clear();
    if (keys - reported >= 100000) {
      printf("  %s: %llu keys sent\n", region->name.c_str(), static_cast<unsigned long long>(keys));
      reported = keys;
    }
  }
  writer->WritesDone();
  grpc::Status status = writer->Finish();
  if (!status.ok()) {
    return Fail(absl::StrCat("region ", region->name, " (", region->sync.ToString(), "): merge of ",
                             m->id, " failed: ", status.error_message()));
  }
  if (!sent_all) return Fail(absl::StrCat("region ", region->name, ": the merge was cut short"));
  printf(
      "region %s: merged %s (%s): %llu keys (%llu created, %llu merged, %llu kept: another "
      "type live, %llu expired in the backup), %llu values kept, %llu function libraries "
      "loaded, %llu kept\n",
      region->name.c_str(), m->id.c_str(), summary->c_str(),
      static_cast<unsigned long long>(reply.keys()),
      static_cast<unsigned long long>(reply.created()),
      static_cast<unsigned long long>(reply.merged()),
      static_cast<unsigned long long>(reply.type_conflicts()),
      static_cast<unsigned long long>(reply.expired()),
      static_cast<unsigned long long>(reply.value_conflicts()),
      static_cast<unsigned long long>(reply.libraries_loaded()),
      static_cast<unsigned long long>(reply.libraries_kept()));
  return kExitOk;
}

}  // namespace

int Backup(const std::vector<std::string>& args) {
  if (args.empty()) {
    fprintf(stderr, "activekvctl: backup needs create, list, verify or validate\n");
    return kExitUsage;
  }
  BackupArgs a;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    bool ok = true;
    if (arg == "--region") {
      ok = value(&a.region);
    } else if (arg == "--to") {
      ok = value(&a.to);
    } else if (arg == "--backup") {
      ok = value(&a.backup_id);
    } else if (arg == "--from") {
      ok = value(&a.from);
    } else if (arg == "--into") {
      ok = value(&a.into);
    } else if (arg == "--credentials-file") {
      ok = value(&a.credentials_file);
    } else if (arg == "--profile") {
      ok = value(&a.profile);
    } else if (arg == "--merge") {
      a.merge = true;
    } else if (absl::StartsWith(arg, "--")) {
      fprintf(stderr, "activekvctl: unknown option '%s' for backup\n", arg.c_str());
      return kExitUsage;
    } else {
      a.positional.push_back(arg);
    }
    if (!ok) {
      fprintf(stderr, "activekvctl: %s needs a value\n", arg.c_str());
      return kExitUsage;
    }
  }
  if (args[0] == "create") return Create(a);
  if (args[0] == "list") return List(a);
  if (args[0] == "verify") return Verify(a);
  if (args[0] == "validate") return Validate(a);
  if (args[0] == "restore") return a.merge ? MergeInto(a) : RestoreInto(a);
  fprintf(stderr, "activekvctl: unknown backup command '%s'\n", args[0].c_str());
  return kExitUsage;
}

}  // namespace activekv::topology::ctl
