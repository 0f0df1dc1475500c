#include "region-server/backup_merge.h"

#include <string_view>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "region-server/blocking.h"
#include "region-server/merge_plan.h"
#include "region-server/region.h"
#include "region-server/resp/reply.h"
#include "spdlog/spdlog.h"

namespace activekv::server {

BackupMerge::BackupMerge(Server* server, std::string backup_id)
    : server_(server), backup_id_(std::move(backup_id)) {
  client_.id = server_->NextClientId();
  client_.name = "restore-merge";
  client_.addr = "restore-merge";
  client_.created_ms = server_->region().NowMs();
  client_.deny_blocking = true;
  for (uint32_t ns = 0; ns < crdt::kDatabases; ++ns) db_of_ns_[ns] = ns;
}

std::string BackupMerge::Run(const std::vector<std::string>& args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  std::string reply;
  resp::ReplyBuilder builder(&reply, 2);
  server_->Execute(views, &client_, &builder);
  if (reply.empty() || reply[0] != '-') return "";
  // An error reply is one line: "-<message>\r\n".
  const size_t end = reply.find('\r');
  return reply.substr(1, end == std::string::npos ? std::string::npos : end - 1);
}

void BackupMerge::Commit() {
  Region& region = server_->region();
  if (uint64_t lsn = region.Commit(); lsn != 0) lsn_ = lsn;
  if (server_->blocking().has_ready()) server_->blocking().ServeReady();
}

absl::Status BackupMerge::Add(const v1::Snapshot& chunk) {
  if (done_) return absl::InvalidArgumentError("a chunk after the snapshot's last one");
  if (chunk.first() == started_) {
    return absl::InvalidArgumentError(
        started_ ? "a second first chunk" : "the snapshot does not start with its first chunk");
  }
  server_->region().RefreshClock();
  if (chunk.first()) {
    started_ = true;
    if (chunk.db_mapping_size() > 0) {
      crdt::DbMapping mapping;
      if (!crdt::ToMapping(chunk.db_mapping(), &mapping)) {
        return absl::InvalidArgumentError("the snapshot's database mapping is not a permutation");
      }
      for (uint32_t db = 0; db < crdt::kDatabases; ++db) db_of_ns_[mapping[db]] = db;
    }
    spdlog::info("restore --merge of backup {}: started", backup_id_);
    if (absl::Status s = MergeFunctions(chunk); !s.ok()) return s;
  }
  std::vector<crdt::RegionId> dict;
  for (const std::string& name : chunk.regions()) {
    if (name.empty()) return absl::InvalidArgumentError("an empty region name in a chunk");
    dict.push_back(regions_.Intern(name));
  }
  for (const v1::KeyState& state : chunk.keys()) {
    if (absl::Status s = MergeKey(state, dict); !s.ok()) return s;
  }
  if (chunk.last()) {
    done_ = true;
    spdlog::info(
        "restore --merge of backup {}: {} keys ({} created, {} merged, {} kept: another type, {} "
        "expired), {} values kept, {} function libraries loaded, {} kept",
        backup_id_, counts_.keys(), counts_.created(), counts_.merged(), counts_.type_conflicts(),
        counts_.expired(), counts_.value_conflicts(), counts_.libraries_loaded(),
        counts_.libraries_kept());
  }
  return absl::OkStatus();
}

absl::Status BackupMerge::MergeFunctions(const v1::Snapshot& first) {
  for (const v1::FunctionLibraryState& f : first.functions()) {
    if (f.code().empty()) continue;  // a deletion
    const auto& live = server_->region().ks().functions();
    auto it = live.find(f.name());
    if (it != live.end() && !it->second.code.empty()) {
      counts_.set_libraries_kept(counts_.libraries_kept() + 1);
      continue;
    }
    std::string error = Run({"FUNCTION", "LOAD", f.code()});
    if (!error.empty() && !absl::StartsWith(error, "ERR ")) {
      return absl::FailedPreconditionError(error);
    }
    if (error.empty()) {
      counts_.set_libraries_loaded(counts_.libraries_loaded() + 1);
    } else {
      counts_.set_libraries_kept(counts_.libraries_kept() + 1);
    }
    Commit();
  }
  return absl::OkStatus();
}

absl::Status BackupMerge::MergeKey(const v1::KeyState& state,
                                   const std::vector<crdt::RegionId>& dict) {
  if (state.db() >= crdt::kDatabases) {
    return absl::InvalidArgumentError(absl::StrCat("a key in namespace ", state.db()));
  }
  crdt::Entry entry;
  if (absl::Status s = crdt::Entry::FromState(state, dict, &regions_, &entry); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("a malformed key state: ", s.message()));
  }
  if (!entry.Exists()) return absl::OkStatus();  // removal knowledge only
  counts_.set_keys(counts_.keys() + 1);
  const std::string& key = state.key();
  client_.db = db_of_ns_[state.db()];
  // What the live region holds: TYPE first, as any command would (an expired key is deleted),
  // then the entry itself.
  if (std::string error = Run({"TYPE", key}); !error.empty()) {
    return absl::FailedPreconditionError(error);
  }
  Region& region = server_->region();
  region.SelectDb(client_.db);
  LiveKey live;
  if (const crdt::Entry* e = region.Find(key); e != nullptr && e->Exists()) {
    live.type = region.TypeOf(*e);
    if (live.type == crdt::ValueType::kStream) {
      live.stream_last_id = e->stream()->meta().last_id;
      for (const auto& [name, g] : e->stream()->groups().groups()) {
        if (g.exists()) live.stream_groups.push_back(name);
      }
    }
  }
  const KeyMergePlan plan = PlanKeyMerge(key, entry, regions_, live, region.NowMs());
  switch (plan.kind) {
    case KeyMergePlan::Kind::kCreate:
      counts_.set_created(counts_.created() + 1);
      break;
    case KeyMergePlan::Kind::kMerge:
      counts_.set_merged(counts_.merged() + 1);
      break;
    case KeyMergePlan::Kind::kConflict:
      counts_.set_type_conflicts(counts_.type_conflicts() + 1);
      break;
    case KeyMergePlan::Kind::kExpired:
      counts_.set_expired(counts_.expired() + 1);
      break;
  }
  for (const std::vector<std::string>& command : plan.commands) {
    std::string error = Run(command);
    if (error.empty()) continue;
    // "-ERR ...": this value cannot merge (a counter onto text that is not a number, an entry
    // at or below the live stream's last id): the live one is kept. Any other error is the
    // region refusing writes (MISCONF, TRYAGAIN, OOM, LOADING ...): the merge stops there.
    if (!absl::StartsWith(error, "ERR ")) {
      Commit();
      return absl::FailedPreconditionError(error);
    }
    counts_.set_value_conflicts(counts_.value_conflicts() + 1);
  }
  Commit();
  return absl::OkStatus();
}

}  // namespace activekv::server
