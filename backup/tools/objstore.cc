// activekv-objstore: drives an ObjectStore from the command line (the integration tests use it
// against a real S3-compatible server; also handy to check a backup location by hand).
//
//   activekv-objstore [options] LOCATION COMMAND [ARGS]
//     put KEY FILE     PutStream of FILE, read in 64 KiB chunks; prints one JSON line:
//                      {"bytes":N,"max_chunk":N,"peak_rss_growth":N,"progress_calls":N}
//     put-bytes KEY TEXT   Put of TEXT
//     get KEY FILE     Get into FILE; prints the byte count
//     list [PREFIX]    one "KEY<TAB>SIZE" line per object
//     delete KEY
//     validate         ValidateLocation
//   options: --credentials-file PATH [--profile NAME] (default: the AWS_* environment variables),
//            --part-size BYTES, --list-page-size N, --connect-timeout-ms N,
//            --pause-after-bytes N (put: once the source has handed out N bytes, print "PAUSED"
//            and wait for a line on stdin before going on: lets a test kill the server mid-upload),
//            --fail-after-bytes N (put: once N bytes were handed out, the source fails with
//            DataLoss "injected source failure": the upload must be aborted)
// Exit status 0 on success; 1 with "error: CODE: message" on stderr; 2 for usage errors.
// Credentials are never printed.

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "backup/credentials.h"
#include "backup/location.h"
#include "backup/object_store.h"
#include "backup/s3_options.h"

namespace {

using activekv::backup::ObjectStore;

int Usage() {
  std::cerr << "usage: activekv-objstore [--credentials-file PATH [--profile NAME]] "
               "[--part-size BYTES] [--list-page-size N] [--connect-timeout-ms N] "
               "[--pause-after-bytes N] [--fail-after-bytes N] LOCATION "
               "put|put-bytes|get|list|delete|validate "
               "[ARGS]\n";
  return 2;
}

int Fail(const absl::Status& s) {
  std::cerr << "error: " << s.ToString() << "\n";
  return 1;
}

// Peak resident set size (VmHWM) in bytes.
uint64_t PeakRss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      uint64_t kib = 0;
      if (absl::SimpleAtoi(absl::string_view(line).substr(6, line.size() - 6 - 3), &kib)) {
        return kib * 1024;
      }
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string credentials_file;
  std::string profile = "default";
  activekv::backup::S3StoreOptions options;
  uint64_t pause_after = 0;
  uint64_t fail_after = 0;
  size_t i = 0;
  for (; i < args.size() && args[i].rfind("--", 0) == 0; i += 2) {
    if (i + 1 >= args.size()) return Usage();
    const std::string& flag = args[i];
    const std::string& value = args[i + 1];
    bool ok = true;
    if (flag == "--credentials-file") {
      credentials_file = value;
    } else if (flag == "--profile") {
      profile = value;
    } else if (flag == "--part-size") {
      ok = absl::SimpleAtoi(value, &options.part_size);
    } else if (flag == "--list-page-size") {
      ok = absl::SimpleAtoi(value, &options.list_page_size);
    } else if (flag == "--connect-timeout-ms") {
      ok = absl::SimpleAtoi(value, &options.connect_timeout_ms);
    } else if (flag == "--pause-after-bytes") {
      ok = absl::SimpleAtoi(value, &pause_after);
    } else if (flag == "--fail-after-bytes") {
      ok = absl::SimpleAtoi(value, &fail_after);
    } else {
      ok = false;
    }
    if (!ok) return Usage();
  }
  if (args.size() < i + 2) return Usage();
  const std::string location_text = args[i];
  const std::string command = args[i + 1];
  const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i) + 2,
                                      args.end());

  absl::StatusOr<activekv::backup::Location> location =
      activekv::backup::ParseLocation(location_text);
  if (!location.ok()) return Fail(location.status());

  activekv::backup::S3Config config;
  if (location->kind == activekv::backup::Location::kS3) {
    absl::StatusOr<activekv::backup::S3Config> loaded =
        credentials_file.empty() ? activekv::backup::S3ConfigFromEnv()
                                 : activekv::backup::LoadCredentialsFile(credentials_file, profile);
    if (!loaded.ok()) return Fail(loaded.status());
    config = std::move(*loaded);
  }
  auto opened = activekv::backup::OpenObjectStore(*location, config, options);
  if (!opened.ok()) return Fail(opened.status());
  std::unique_ptr<ObjectStore> store = std::move(*opened);

  if (command == "put" && rest.size() == 2) {
    const int fd = open(rest[1].c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Fail(absl::NotFoundError("cannot open " + rest[1]));
    std::string buf(size_t{64} * 1024, '\0');
    uint64_t handed = 0;
    size_t max_chunk = 0;
    uint64_t progress_calls = 0;
    bool paused = false;
    const uint64_t rss_before = PeakRss();
    absl::Status s = store->PutStream(
        rest[0],
        [&]() -> absl::StatusOr<std::string_view> {
          if (pause_after > 0 && !paused && handed >= pause_after) {
            paused = true;
            std::cout << "PAUSED " << handed << std::endl;
            std::string line;
            std::getline(std::cin, line);
          }
          if (fail_after > 0 && handed >= fail_after) {
            return absl::DataLossError("injected source failure");
          }
          const ssize_t n = read(fd, buf.data(), buf.size());
          if (n < 0) return absl::InternalError(std::string("read: ") + std::strerror(errno));
          handed += static_cast<uint64_t>(n);
          max_chunk = std::max(max_chunk, static_cast<size_t>(n));
          return std::string_view(buf.data(), static_cast<size_t>(n));
        },
        [&](uint64_t) { ++progress_calls; });
    close(fd);
    if (!s.ok()) return Fail(s);
    std::cout << "{\"bytes\":" << handed << ",\"max_chunk\":" << max_chunk
              << ",\"peak_rss_growth\":" << (PeakRss() - rss_before)
              << ",\"progress_calls\":" << progress_calls << "}" << std::endl;
    return 0;
  }
  if (command == "put-bytes" && rest.size() == 2) {
    absl::Status s = store->Put(rest[0], rest[1]);
    return s.ok() ? 0 : Fail(s);
  }
  if (command == "get" && rest.size() == 2) {
    std::ofstream out(rest[1], std::ios::binary | std::ios::trunc);
    uint64_t n = 0;
    absl::Status s = store->Get(rest[0], [&](std::string_view chunk) {
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      n += chunk.size();
      return out ? absl::OkStatus() : absl::InternalError("cannot write " + rest[1]);
    });
    if (!s.ok()) return Fail(s);
    std::cout << n << std::endl;
    return 0;
  }
  if (command == "list" && rest.size() <= 1) {
    auto listed = store->List(rest.empty() ? std::string() : rest[0]);
    if (!listed.ok()) return Fail(listed.status());
    for (const auto& o : *listed) std::cout << o.key << "\t" << o.size << "\n";
    return 0;
  }
  if (command == "delete" && rest.size() == 1) {
    absl::Status s = store->Delete(rest[0]);
    return s.ok() ? 0 : Fail(s);
  }
  if (command == "validate" && rest.empty()) {
    absl::Status s = activekv::backup::ValidateLocation(*store);
    if (!s.ok()) return Fail(s);
    std::cout << "ok " << store->Describe() << std::endl;
    return 0;
  }
  return Usage();
}
