// activekvctl: starts, stops and inspects the regions of a topology file. See docs/ctl.md.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "topology/ctl/commands.h"
#include "topology/ctl/process.h"
#include "topology/topology.h"

namespace ctl = activekv::topology::ctl;

namespace {

constexpr char kUsage[] =
    "usage: activekvctl COMMAND FILE [REGION] [OPTIONS]\n"
    "\n"
    "  up FILE [--timeout S]              start every region in the background; wait until all\n"
    "                                     serve RESP and Status and every peer link is connected\n"
    "                                     (default 30 s)\n"
    "  down FILE [--timeout S]            SIGTERM every region, SIGKILL after S (default 10 s)\n"
    "  status FILE [--json] [--digest]    every region's state, keys, version vector, peer links\n"
    "  kill FILE REGION                   SIGKILL one region (chaos testing)\n"
    "  restart FILE REGION [--timeout S]  stop the region if it runs, start it, wait until it\n"
    "                                     serves RESP and Status (default 30 s)\n"
    "  wait-sync FILE [--timeout S]       wait until every region has every op: equal version\n"
    "                                     vectors and digests, zero lag (default 60 s)\n"
    "  backup create FILE --to LOCATION [--region R]\n"
    "                                     a fresh snapshot of every region (or R) into LOCATION\n"
    "                                     (a directory or s3://bucket/prefix)\n"
    "  backup list LOCATION               the backups there, complete or not\n"
    "  backup verify LOCATION [--backup ID]  download, check checksums, parse\n"
    "  backup validate LOCATION           write, read back, list and delete a probe object\n"
    "  restore --from LOCATION [--backup ID] --into FILE [--region R]\n"
    "                                     seed the (empty) data directories of FILE's regions\n"
    "                                     (or R's) from backups: ID for all, else each\n"
    "                                     region's newest\n"
    "  restore --merge --from LOCATION [--backup ID] --into FILE [--region R]\n"
    "                                     merge a backup (ID, else the newest) into the live\n"
    "                                     region R (default: the backup's) as new writes\n"
    "                                     (backup: --credentials-file PATH [--profile P], else\n"
    "                                     the AWS_* environment variables)\n"
    "  certs FILE [--out DIR]             a CA and a certificate per region and for the\n"
    "                                     operator, for the topology's tls (default DIR: certs/\n"
    "                                     beside FILE; docs/security.md)\n"
    "\n"
    "FILE is a topology YAML file (docs/topology.md). Exit codes: 0 done, 1 failed (status: a\n"
    "region is down), 2 usage or topology error.\n";

int UsageError(const std::string& message) {
  fprintf(stderr, "activekvctl: %s\n\n%s", message.c_str(), kUsage);
  return ctl::kExitUsage;
}

struct CommandSpec {
  int regions;                  // positional REGION arguments after FILE (0 or 1)
  std::set<std::string> flags;  // accepted options
};

const std::map<std::string, CommandSpec>& Commands() {
  static const auto* commands = new std::map<std::string, CommandSpec>{
      {"up", {0, {"--timeout"}}},
      {"down", {0, {"--timeout"}}},
      {"status", {0, {"--json", "--digest"}}},
      {"kill", {1, {}}},
      {"restart", {1, {"--timeout"}}},
      {"wait-sync", {0, {"--timeout"}}},
  };
  return *commands;
}

}  // namespace

int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return UsageError("no command given");
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    fputs(kUsage, stdout);
    return ctl::kExitOk;
  }
  const std::string command = args[0];
  if (command == "backup") {
    return ctl::Backup(std::vector<std::string>(args.begin() + 1, args.end()));
  }
  if (command == "certs") {
    std::string file, out;
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] == "--out" && i + 1 < args.size()) {
        out = args[++i];
      } else if (absl::StartsWith(args[i], "--out=")) {
        out = args[i].substr(6);
      } else if (file.empty() && !absl::StartsWith(args[i], "--")) {
        file = args[i];
      } else {
        return UsageError(absl::StrCat("certs: unexpected argument '", args[i], "'"));
      }
    }
    if (file.empty()) return UsageError("certs takes FILE [--out DIR]");
    absl::StatusOr<activekv::topology::Topology> t = activekv::topology::LoadTopologyFile(file);
    if (!t.ok()) {
      fprintf(stderr, "%s\n", std::string(t.status().message()).c_str());
      return ctl::kExitUsage;
    }
    if (out.empty()) {
      const std::string& src = t->source_path;
      out = src.substr(0, src.rfind('/') + 1) + "certs";
    }
    return ctl::Certs(*t, out);
  }
  // restore's arguments are backup's ("restore" becomes its subcommand).
  if (command == "restore") return ctl::Backup(args);
  auto spec_it = Commands().find(command);
  if (spec_it == Commands().end()) {
    return UsageError(absl::StrCat("unknown command '", command, "'"));
  }
  const CommandSpec& spec = spec_it->second;

  std::vector<std::string> positional;
  bool json = false, digest = false;
  std::optional<absl::Duration> timeout;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string arg = args[i];
    if (!absl::StartsWith(arg, "--") || arg == "--") {
      positional.push_back(arg);
      continue;
    }
    std::string value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    if (arg == "--help") {
      fputs(kUsage, stdout);
      return ctl::kExitOk;
    }
    if (!spec.flags.count(arg)) {
      return UsageError(absl::StrCat("unknown option '", arg, "' for ", command));
    }
    if (arg == "--timeout") {
      if (!has_value) {
        if (i + 1 >= args.size()) return UsageError("--timeout needs a value (seconds)");
        value = args[++i];
      }
      double seconds = 0;
      if (!absl::SimpleAtod(value, &seconds) || !std::isfinite(seconds) || seconds <= 0 ||
          seconds > 86400) {
        return UsageError(
            absl::StrCat("--timeout: '", value, "' is not a number of seconds (0 < S <= 86400)"));
      }
      timeout = absl::Milliseconds(std::llround(seconds * 1000));
    } else if (has_value) {
      return UsageError(absl::StrCat(arg, " takes no value"));
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--digest") {
      digest = true;
    }
  }
  const size_t wanted = 1 + static_cast<size_t>(spec.regions);
  if (positional.size() != wanted) {
    return UsageError(absl::StrCat(command, " takes ", spec.regions ? "FILE REGION" : "FILE",
                                   ", got ", positional.size(), " argument",
                                   positional.size() == 1 ? "" : "s"));
  }

  absl::StatusOr<activekv::topology::Topology> topology =
      activekv::topology::LoadTopologyFile(positional[0]);
  if (!topology.ok()) {
    fprintf(stderr, "%s\n", std::string(topology.status().message()).c_str());
    return ctl::kExitUsage;
  }
  const activekv::topology::RegionConfig* region = nullptr;
  if (spec.regions == 1) {
    region = topology->FindRegion(positional[1]);
    if (region == nullptr) {
      std::vector<std::string> names;
      for (const auto& r : topology->regions) names.push_back(r.name);
      fprintf(stderr, "activekvctl: unknown region '%s' in %s (regions: %s)\n",
              positional[1].c_str(), positional[0].c_str(), absl::StrJoin(names, ", ").c_str());
      return ctl::kExitUsage;
    }
  }

  std::string server_path;
  if (command == "up" || command == "restart") {
    absl::StatusOr<std::string> dir = ctl::SelfDir();
    if (!dir.ok()) {
      fprintf(stderr, "activekvctl: %s\n", std::string(dir.status().message()).c_str());
      return ctl::kExitFailure;
    }
    server_path = absl::StrCat(*dir, "/", ctl::kServerBinary);
    if (access(server_path.c_str(), X_OK) != 0) {
      fprintf(stderr,
              "activekvctl: %s not found or not executable (it must sit next to "
              "activekvctl)\n",
              server_path.c_str());
      return ctl::kExitFailure;
    }
  }

  if (command == "up") {
    return ctl::Up(*topology, server_path, timeout.value_or(ctl::kDefaultUpTimeout));
  }
  if (command == "down") return ctl::Down(*topology, timeout.value_or(ctl::kDefaultStopTimeout));
  if (command == "status") return ctl::PrintStatus(*topology, json, digest);
  if (command == "kill") return ctl::Kill(*topology, *region);
  if (command == "restart") {
    return ctl::Restart(*topology, *region, server_path, ctl::kDefaultStopTimeout,
                        timeout.value_or(ctl::kDefaultUpTimeout));
  }
  return ctl::WaitSync(*topology, timeout.value_or(ctl::kDefaultWaitSyncTimeout));
}
