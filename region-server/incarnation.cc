#include "region-server/incarnation.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "crdt/keyspace.h"

namespace activekv::server {
namespace {
constexpr char kIncarnationFile[] = "/incarnation";
constexpr char kCleanShutdownFile[] = "/clean-shutdown";
constexpr char kJoiningFile[] = "/joining";
constexpr char kCatchingUpFile[] = "/catching-up";
}  // namespace

IncarnationStore::IncarnationStore(persistence::Env* env, std::string dir, std::string name)
    : env_(env), dir_(std::move(dir)), name_(std::move(name)) {}

std::string IncarnationStore::OriginOf(uint64_t incarnation) const {
  if (incarnation == 0) return name_;
  return absl::StrCat(name_, std::string(1, crdt::kIncarnationSeparator), incarnation);
}

std::string IncarnationStore::origin() const { return joining_ ? name_ : OriginOf(incarnation_); }

absl::Status IncarnationStore::StartCatchingUp() {
  catching_up_ = true;
  const std::string path = dir_ + kCatchingUpFile;
  if (env_->FileExists(path)) return absl::OkStatus();
  return persistence::WriteStringToFile(env_, "catching up\n", path, true);
}

absl::Status IncarnationStore::Pick(const Start& start) {
  const std::string inc_path = dir_ + kIncarnationFile;
  had_incarnation_file_ = env_->FileExists(inc_path);
  if (had_incarnation_file_) {
    absl::StatusOr<std::string> text = persistence::ReadFileToString(env_, inc_path);
    if (!text.ok()) return text.status();
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &incarnation_)) {
      return absl::DataLossError(absl::StrCat(inc_path, ": not a number: '", *text, "'"));
    }
  }
  // The marker speaks for this start only: removed before anything else.
  const std::string marker = dir_ + kCleanShutdownFile;
  const bool clean = env_->FileExists(marker);
  if (clean) {
    absl::Status s = env_->RemoveFile(marker);
    if (s.ok()) s = env_->SyncDir(dir_);
    if (!s.ok()) return s;
  }
  const std::string joining_path = dir_ + kJoiningFile;
  if (start.replicated && !start.has_history && !env_->FileExists(joining_path)) {
    absl::Status s = persistence::WriteStringToFile(env_, "joining\n", joining_path, true);
    if (!s.ok()) return s;
  }
  if (start.replicated && env_->FileExists(joining_path)) {
    // A new data directory, one that crashed before its join, or a start with nothing on disk
    // (mode none): the join picks the origin; until then it writes as its plain name (and
    // makes no op).
    joining_ = true;
    return StartCatchingUp();
  }
  if (start.has_history && !clean && (!start.complete || !start.fsync_always)) {
    ++incarnation_;
    absl::Status s =
        persistence::WriteStringToFile(env_, absl::StrCat(incarnation_, "\n"), inc_path, true);
    if (!s.ok()) return s;
  }
  // It announced as synced ops this start lacks (a snapshot start announces what it applied):
  // it makes none until it holds them again.
  if (start.replicated && ((start.has_history && !clean && !start.complete) ||
                           env_->FileExists(dir_ + kCatchingUpFile))) {
    return StartCatchingUp();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> IncarnationStore::RecordJoin(uint64_t incarnation) {
  // A directory that had run before (mode none, or only its AOF was lost) never takes a number
  // it used: its ops may exist nowhere any more, but may still be on their way.
  if (had_incarnation_file_ && incarnation <= incarnation_) incarnation = incarnation_ + 1;
  absl::Status s = persistence::WriteStringToFile(env_, absl::StrCat(incarnation, "\n"),
                                                  dir_ + kIncarnationFile, true);
  if (!s.ok()) return s;
  incarnation_ = incarnation;
  return OriginOf(incarnation);
}

absl::Status IncarnationStore::JoinDone() {
  absl::Status s = env_->RemoveFile(dir_ + kJoiningFile);
  if (s.ok()) s = env_->SyncDir(dir_);
  if (!s.ok()) return s;
  joining_ = false;
  return absl::OkStatus();
}

absl::Status IncarnationStore::FinishCatchUp() {
  const std::string path = dir_ + kCatchingUpFile;
  absl::Status s = env_->FileExists(path) ? env_->RemoveFile(path) : absl::OkStatus();
  if (s.ok()) s = env_->SyncDir(dir_);
  if (s.ok()) catching_up_ = false;  // else the next call tries again
  return s;
}

absl::Status IncarnationStore::MarkCleanShutdown() {
  return persistence::WriteStringToFile(env_, "clean\n", dir_ + kCleanShutdownFile, true);
}

}  // namespace activekv::server
