#pragma once

// Helpers shared by the topology tests.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "topology/topology.h"

namespace activekv::topology::test_util {

namespace fs = std::filesystem;

// Joins lines with '\n' so that element i of `lines` is line i + 1 of the document.
inline std::string Yaml(std::initializer_list<absl::string_view> lines) {
  return absl::StrCat(absl::StrJoin(lines, "\n"), "\n");
}

inline absl::StatusOr<Topology> Parse(const std::string& yaml) {
  return ParseTopology(yaml, "t.yaml", "/base");
}

// Parses `yaml` expecting InvalidArgument; returns the message.
inline std::string ErrorOf(const std::string& yaml) {
  absl::StatusOr<Topology> topology = Parse(yaml);
  EXPECT_FALSE(topology.ok()) << "parsed:\n" << yaml;
  EXPECT_EQ(topology.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(topology.status().message());
}

// A temporary folder of its own for each test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    path_ = (fs::path(testing::TempDir()) /
             absl::StrCat("activekv_topology_", info->name(), "_", getpid()))
                .lexically_normal();
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

  fs::path Write(const std::string& relative, const std::string& contents) const {
    fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << contents;
    return file;
  }

 private:
  fs::path path_;
};

// Two valid regions; tests edit copies of it. Line numbers are in the comments.
inline const std::string kTwoRegions = Yaml({
    "name: demo",                                                                     // 1
    "regions:",                                                                       // 2
    "  - name: a",                                                                    // 3
    "    resp: 127.0.0.1:7001",                                                       // 4
    "    sync: 127.0.0.1:7101",                                                       // 5
    "    data_dir: data/a",                                                           // 6
    "  - { name: b, resp: 127.0.0.1:7002, sync: 127.0.0.1:7102, data_dir: data/b }",  // 7
});

}  // namespace activekv::topology::test_util
