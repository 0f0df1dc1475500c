// activekv-check-aof [--fix] [--verbose] FILE
//
// Reads an AOF file (docs/aof-format.md), prints its record and op counts and the first problem
// with its byte offset. Exit status: 0 clean (or repaired by --fix), 1 damaged, 2 usage or I/O
// error. --fix truncates the file at the first problem, like redis-check-aof --fix, and prints
// what that drops.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "activekv/v1/op.pb.h"
#include "activekv/v1/snapshot.pb.h"
#include "persistence/aof_reader.h"
#include "persistence/env.h"

namespace activekv::persistence {
namespace {

struct Problem {
  uint64_t offset = 0;
  uint64_t bytes = 0;
  std::string kind;
  std::string reason;
};

std::string OpSummary(const v1::Op& op) {
  std::string kind;
  switch (op.body_case()) {
    case v1::Op::kSet:
      kind = "set";
      break;
    case v1::Op::kDel:
      kind = "del";
      break;
    case v1::Op::kAdd:
      kind = "add";
      break;
    case v1::Op::kExpire:
      kind = "expire";
      break;
    case v1::Op::kFlush:
      kind = op.flush().one_db() ? "flushdb" : "flush";
      break;
    case v1::Op::kSwapdb:
      kind = "swapdb";
      break;
    case v1::Op::kFunction:
      kind = absl::StrCat(op.function().code().empty() ? "function-delete(" : "function-load(",
                          op.function().name(), ")");
      break;
    case v1::Op::kHset:
      kind = absl::StrCat("hset(", op.hset().fields_size(), ")");
      break;
    case v1::Op::kHdel:
      kind = absl::StrCat("hdel(", op.hdel().fields_size(), ")");
      break;
    case v1::Op::kHincr:
      kind = "hincr";
      break;
    case v1::Op::kSadd:
      kind = absl::StrCat("sadd(", op.sadd().members_size(), ")");
      break;
    case v1::Op::kSrem:
      kind = absl::StrCat("srem(", op.srem().members_size(), ")");
      break;
    case v1::Op::kZadd:
      kind = absl::StrCat("zadd(", op.zadd().members_size(), ")");
      break;
    case v1::Op::kZrem:
      kind = absl::StrCat("zrem(", op.zrem().members_size(), ")");
      break;
    case v1::Op::kZincr:
      kind = "zincr";
      break;
    default:
      kind = "?";
      break;
  }
  std::string key = op.key().substr(0, 40);
  return absl::StrCat(op.origin(), ":", op.seq(), " ", kind, " \"", absl::CHexEscape(key),
                      op.key().size() > key.size() ? "...\"" : "\"",
                      op.db() != 0 ? absl::StrCat(" db=", op.db()) : "");
}

int Usage() {
  std::fprintf(stderr, "usage: activekv-check-aof [--fix] [--verbose] FILE\n");
  return 2;
}

int Run(int argc, char** argv) {
  bool fix = false;
  bool verbose = false;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--fix") {
      fix = true;
    } else if (arg == "--verbose" || arg == "-v") {
      verbose = true;
    } else if (arg == "--help" || arg == "-h" || !path.empty() || arg.empty() || arg[0] == '-') {
      return Usage();
    } else {
      path = std::string(arg);
    }
  }
  if (path.empty()) return Usage();

  Env* env = Env::Default();
  absl::StatusOr<uint64_t> size = env->GetFileSize(path);
  absl::StatusOr<std::unique_ptr<SequentialFile>> file =
      size.ok() ? env->NewSequentialFile(path) : size.status();
  if (!file.ok()) {
    std::fprintf(stderr, "activekv-check-aof: %s\n", file.status().ToString().c_str());
    return 2;
  }
  std::printf("%s: %llu bytes\n", path.c_str(), static_cast<unsigned long long>(*size));

  aof::Reader reader(file->get(), nullptr);
  std::optional<Problem> problem;
  bool fixable = true;
  uint64_t records = 0, ops = 0, records_after_problem = 0;
  uint64_t snapshot_chunks = 0, snapshot_keys = 0;
  std::string payload;
  bool done = false;
  while (!done) {
    aof::Reader::Result result = reader.ReadRecord(&payload);
    switch (result) {
      case aof::Reader::Result::kRecord: {
        if (problem.has_value()) {
          ++records_after_problem;
          break;
        }
        if (reader.record_type() == aof::kSnapshotType) {
          v1::Snapshot chunk;
          if (!chunk.ParseFromString(payload)) {
            problem = Problem{reader.record_offset(), reader.end_offset() - reader.record_offset(),
                              "undecodable record",
                              "checksum is valid but the payload is not an activekv.v1.Snapshot"};
            break;
          }
          ++records;
          ++snapshot_chunks;
          snapshot_keys += static_cast<uint64_t>(chunk.keys_size());
          if (verbose) {
            std::printf("  @%llu record %llu: %zu bytes, snapshot chunk%s%s, %d keys\n",
                        static_cast<unsigned long long>(reader.record_offset()),
                        static_cast<unsigned long long>(records), payload.size(),
                        chunk.first() ? " (first)" : "", chunk.last() ? " (last)" : "",
                        chunk.keys_size());
          }
          break;
        }
        v1::OpBatch batch;
        if (!batch.ParseFromString(payload)) {
          problem = Problem{reader.record_offset(), reader.end_offset() - reader.record_offset(),
                            "undecodable record",
                            "checksum is valid but the payload is not an activekv.v1.OpBatch"};
          break;
        }
        ++records;
        ops += static_cast<uint64_t>(batch.ops_size());
        if (verbose) {
          std::printf("  @%llu record %llu: %zu bytes, %d ops",
                      static_cast<unsigned long long>(reader.record_offset()),
                      static_cast<unsigned long long>(records), payload.size(), batch.ops_size());
          if (batch.ops_size() > 0) {
            std::printf(" [%s%s]", OpSummary(batch.ops(0)).c_str(),
                        batch.ops_size() > 1 ? ", ..." : "");
          }
          std::printf("\n");
        }
        break;
      }
      case aof::Reader::Result::kEof:
        done = true;
        break;
      case aof::Reader::Result::kTornTail:
      case aof::Reader::Result::kCorruption:
      case aof::Reader::Result::kBadFileHeader:
        if (!problem.has_value()) {
          const char* kind = result == aof::Reader::Result::kTornTail     ? "torn tail"
                             : result == aof::Reader::Result::kCorruption ? "mid-file corruption"
                                                                          : "bad file header";
          problem = Problem{reader.damage_offset(), reader.damage_bytes(), kind,
                            std::string(reader.damage().message())};
          fixable = result != aof::Reader::Result::kBadFileHeader;
        }
        done = result != aof::Reader::Result::kCorruption;
        break;
      case aof::Reader::Result::kIoError:
        std::fprintf(stderr, "activekv-check-aof: %s\n", reader.io_status().ToString().c_str());
        return 2;
    }
  }

  std::printf("records: %llu\nops: %llu\n", static_cast<unsigned long long>(records),
              static_cast<unsigned long long>(ops));
  if (snapshot_chunks > 0) {
    std::printf("snapshot chunks: %llu (%llu keys)\n",
                static_cast<unsigned long long>(snapshot_chunks),
                static_cast<unsigned long long>(snapshot_keys));
  }
  if (!problem.has_value()) {
    std::printf("AOF is valid\n");
    return 0;
  }
  const uint64_t dropped_bytes = *size - problem->offset;
  std::printf(
      "first problem: byte offset %llu: %s: %s (%llu damaged bytes; %llu valid records "
      "after it)\n",
      static_cast<unsigned long long>(problem->offset), problem->kind.c_str(),
      problem->reason.c_str(), static_cast<unsigned long long>(problem->bytes),
      static_cast<unsigned long long>(records_after_problem));
  if (!fix) {
    std::printf(
        "AOF is damaged: `activekv-check-aof --fix %s` truncates it at byte offset %llu, "
        "dropping %llu bytes and %llu valid records\n",
        path.c_str(), static_cast<unsigned long long>(problem->offset),
        static_cast<unsigned long long>(dropped_bytes),
        static_cast<unsigned long long>(records_after_problem));
    return 1;
  }
  if (!fixable) {
    std::printf("not fixable: the file header is invalid (is this an activekv AOF file?)\n");
    return 1;
  }
  absl::Status status = env->Truncate(path, problem->offset);
  if (!status.ok()) {
    std::fprintf(stderr, "activekv-check-aof: %s\n", status.ToString().c_str());
    return 2;
  }
  std::printf(
      "fixed: truncated %s at byte offset %llu, dropped %llu bytes and %llu valid records "
      "after the damage; %llu records (%llu ops) kept\n",
      path.c_str(), static_cast<unsigned long long>(problem->offset),
      static_cast<unsigned long long>(dropped_bytes),
      static_cast<unsigned long long>(records_after_problem),
      static_cast<unsigned long long>(records), static_cast<unsigned long long>(ops));
  return 0;
}

}  // namespace
}  // namespace activekv::persistence

int main(int argc, char** argv) { return activekv::persistence::Run(argc, argv); }
