#include "topology/topology.h"

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/unit/topology/topology_test_util.h"

#ifndef ACTIVEKV_TOPOLOGY_EXAMPLES_DIR
#error "ACTIVEKV_TOPOLOGY_EXAMPLES_DIR must name topology/examples"
#endif

namespace activekv::topology {
namespace {

using test_util::ErrorOf;
using test_util::kTwoRegions;
using test_util::Parse;
using test_util::TempDir;
using test_util::Yaml;
namespace fs = std::filesystem;

const fs::path kExamples = fs::path(ACTIVEKV_TOPOLOGY_EXAMPLES_DIR).lexically_normal();

// ---------------------------------------------------------------------------------------------
// The shipped examples.

TEST(TopologyExamplesTest, Local3IsTheDesignExample) {
  absl::StatusOr<Topology> topology = LoadTopologyFile((kExamples / "local-3.yaml").string());
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->name, "demo");
  EXPECT_EQ(topology->source_path, (kExamples / "local-3.yaml").string());
  EXPECT_EQ(topology->persistence.appendfsync, Appendfsync::kEverysec);
  ASSERT_EQ(topology->regions.size(), 3u);
  const char* names[] = {"us-east", "eu-west", "ap-south"};
  for (int i = 0; i < 3; ++i) {
    const RegionConfig& region = topology->regions[i];
    EXPECT_EQ(region.name, names[i]);
    EXPECT_EQ(region.resp.ToString(), absl::StrCat("127.0.0.1:", 7001 + i));
    EXPECT_EQ(region.sync.ToString(), absl::StrCat("127.0.0.1:", 7101 + i));
    EXPECT_EQ(region.data_dir, (kExamples / "data" / names[i]).string());
    EXPECT_EQ(region.persistence.appendfsync, Appendfsync::kEverysec);
  }
}

TEST(TopologyExamplesTest, EveryExampleLoadsWithItsPorts) {
  struct Example {
    const char* file;
    int regions;
    int first_resp;
    int first_sync;
  };
  for (const Example& e :
       {Example{"local-1.yaml", 1, 7011, 7111}, Example{"local-2.yaml", 2, 7021, 7121},
        Example{"local-3.yaml", 3, 7001, 7101}, Example{"local-5.yaml", 5, 7051, 7151}}) {
    SCOPED_TRACE(e.file);
    absl::StatusOr<Topology> topology = LoadTopologyFile((kExamples / e.file).string());
    ASSERT_TRUE(topology.ok()) << topology.status();
    ASSERT_EQ(topology->regions.size(), static_cast<size_t>(e.regions));
    for (int i = 0; i < e.regions; ++i) {
      const RegionConfig& region = topology->regions[i];
      EXPECT_EQ(region.resp.port, e.first_resp + i);
      EXPECT_EQ(region.sync.port, e.first_sync + i);
      EXPECT_EQ(region.resp.host, "127.0.0.1");
      EXPECT_EQ(fs::path(region.data_dir).lexically_relative(kExamples).begin()->string(), "data")
          << region.data_dir;
    }
  }
}

TEST(TopologyExamplesTest, Local5OverridesPersistenceForOneRegion) {
  absl::StatusOr<Topology> topology = LoadTopologyFile((kExamples / "local-5.yaml").string());
  ASSERT_TRUE(topology.ok()) << topology.status();
  for (const RegionConfig& region : topology->regions) {
    EXPECT_EQ(region.persistence.appendfsync,
              region.name == "eu-west" ? Appendfsync::kAlways : Appendfsync::kEverysec)
        << region.name;
  }
}

// ---------------------------------------------------------------------------------------------
// What a valid file produces (kTwoRegions is in topology_test_util.h).

TEST(TopologyTest, ValidFileGivesEveryField) {
  absl::StatusOr<Topology> topology = Parse(kTwoRegions);
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->name, "demo");
  EXPECT_EQ(topology->source_path, "t.yaml");
  ASSERT_EQ(topology->regions.size(), 2u);
  const RegionConfig& a = topology->regions[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.resp, (Endpoint{"127.0.0.1", 7001}));
  EXPECT_EQ(a.sync, (Endpoint{"127.0.0.1", 7101}));
  EXPECT_EQ(a.data_dir, "/base/data/a");
  EXPECT_EQ(topology->regions[1].data_dir, "/base/data/b");
}

TEST(TopologyTest, FindRegionByName) {
  absl::StatusOr<Topology> topology = Parse(kTwoRegions);
  ASSERT_TRUE(topology.ok()) << topology.status();
  ASSERT_NE(topology->FindRegion("b"), nullptr);
  EXPECT_EQ(topology->FindRegion("b")->resp.port, 7002);
  EXPECT_EQ(topology->FindRegion("c"), nullptr);
  EXPECT_EQ(topology->FindRegion(""), nullptr);
}

TEST(TopologyTest, PersistenceDefaultsToEverysec) {
  absl::StatusOr<Topology> topology = Parse(kTwoRegions);
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->persistence.appendfsync, Appendfsync::kEverysec);
  EXPECT_EQ(topology->regions[0].persistence.appendfsync, Appendfsync::kEverysec);
}

TEST(TopologyTest, PersistenceModesAndTheirSaveRules) {
  absl::StatusOr<Topology> topology = Parse(Yaml({
      "name: demo",
      "persistence: { mode: snapshot }",
      "regions:",
      "  - { name: a, resp: 127.0.0.1:1, sync: 127.0.0.1:2, data_dir: a }",
      "  - { name: b, resp: 127.0.0.1:3, sync: 127.0.0.1:4, data_dir: b,",
      "      persistence: { snapshot: 6h, save: \"300 100\" } }",
      "  - { name: c, resp: 127.0.0.1:5, sync: 127.0.0.1:6, data_dir: c,",
      "      persistence: { mode: none } }",
      "  - { name: d, resp: 127.0.0.1:7, sync: 127.0.0.1:8, data_dir: d,",
      "      persistence: { mode: aof, appendfsync: always, snapshot: 12h } }",
  }));
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->persistence.mode, PersistenceMode::kSnapshot);
  const PersistenceConfig& a = topology->FindRegion("a")->persistence;
  EXPECT_EQ(a.mode, PersistenceMode::kSnapshot);
  EXPECT_EQ(a.EffectiveSaveRules(), (std::vector<SaveRule>{{3600, 1}}));  // the 1h default
  const PersistenceConfig& b = topology->FindRegion("b")->persistence;
  EXPECT_EQ(b.EffectiveSaveRules(), (std::vector<SaveRule>{{300, 100}, {21600, 1}}));
  const PersistenceConfig& c = topology->FindRegion("c")->persistence;
  EXPECT_EQ(c.mode, PersistenceMode::kNone);
  EXPECT_TRUE(c.EffectiveSaveRules().empty());
  const PersistenceConfig& d = topology->FindRegion("d")->persistence;
  EXPECT_EQ(d.mode, PersistenceMode::kAof);
  EXPECT_EQ(d.appendfsync, Appendfsync::kAlways);
  EXPECT_EQ(d.EffectiveSaveRules(), (std::vector<SaveRule>{{43200, 1}}));
  EXPECT_EQ(PersistenceModeName(PersistenceMode::kNone), "none");
  EXPECT_EQ(*ParsePersistenceMode("aof"), PersistenceMode::kAof);

  // Defaults: aof, no save rule.
  absl::StatusOr<Topology> plain = Parse(Yaml({
      "name: demo",
      "regions:",
      "  - { name: a, resp: 127.0.0.1:1, sync: 127.0.0.1:2, data_dir: a }",
  }));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->persistence.mode, PersistenceMode::kAof);
  EXPECT_TRUE(plain->persistence.EffectiveSaveRules().empty());
}

TEST(TopologyTest, BadPersistenceModesAreNamed) {
  absl::StatusOr<Topology> bad = Parse(Yaml({
      "name: demo",
      "persistence: { mode: rdb }",
      "regions: []",
  }));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(
      bad.status().message(),
      "t.yaml:2: persistence.mode: bad persistence mode 'rdb' (allowed: aof, snapshot, none)");
  bad = Parse(Yaml({
      "name: demo",
      "persistence: { mode: none, snapshot: 1h }",
      "regions: []",
  }));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "t.yaml:2: persistence: mode none keeps nothing on disk; drop save and snapshot, or "
            "use mode snapshot");
  bad = Parse(Yaml({
      "name: demo",
      "persistence: { snapshot: often }",
      "regions: []",
  }));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("persistence.snapshot: 'often' is not an interval"),
            std::string::npos)
      << bad.status();
}

TEST(TopologyTest, SaveRulesAreReadAndOverriddenKeyByKey) {
  absl::StatusOr<Topology> topology = Parse(Yaml({
      "name: demo",
      "persistence: { appendfsync: always, save: \"3600 1 300 100\" }",
      "regions:",
      "  - { name: a, resp: 127.0.0.1:1, sync: 127.0.0.1:2, data_dir: a }",
      "  - { name: b, resp: 127.0.0.1:3, sync: 127.0.0.1:4, data_dir: b,",
      "      persistence: { save: \"\" } }",
  }));
  ASSERT_TRUE(topology.ok()) << topology.status();
  const std::vector<SaveRule> want = {{3600, 1}, {300, 100}};
  EXPECT_EQ(topology->FindRegion("a")->persistence.save, want);
  EXPECT_TRUE(topology->FindRegion("b")->persistence.save.empty());
  EXPECT_EQ(topology->FindRegion("b")->persistence.appendfsync, Appendfsync::kAlways);
  EXPECT_EQ(SaveRulesText(want), "3600 1 300 100");
  absl::StatusOr<Topology> bad = Parse(Yaml({
      "name: demo",
      "persistence: { save: \"3600\" }",
      "regions: []",
  }));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("persistence.save: '3600': Invalid save parameters"),
            std::string::npos)
      << bad.status();
}

TEST(TopologyTest, BackupIsReadAndOverriddenKeyByKey) {
  absl::StatusOr<Topology> topology = Parse(Yaml({
      "name: demo",
      "backup: { location: \"s3://b/p\", interval: 4h, offset: \"02:30\", retention: \"7\" }",
      "regions:",
      "  - { name: a, resp: 127.0.0.1:1, sync: 127.0.0.1:2, data_dir: a }",
      "  - { name: b, resp: 127.0.0.1:3, sync: 127.0.0.1:4, data_dir: b,",
      "      backup: { interval: 24h } }",
  }));
  ASSERT_TRUE(topology.ok()) << topology.status();
  const BackupConfig& a = topology->FindRegion("a")->backup;
  EXPECT_EQ(a.location, "s3://b/p");
  EXPECT_EQ(a.interval_s, 4 * 3600);
  EXPECT_EQ(a.offset_s, 2 * 3600 + 30 * 60);
  EXPECT_EQ(a.retention, 7);
  EXPECT_EQ(topology->FindRegion("b")->backup.interval_s, 24 * 3600);
  EXPECT_EQ(topology->FindRegion("b")->backup.location, "s3://b/p");
  for (const char* bad :
       {"backup: { location: x }", "backup: { location: x, interval: 4d }",
        "backup: { location: x, interval: 1h, offset: \"25:00\" }",
        "backup: { location: x, interval: 1h, retention: \"-1\" }", "backup: { where: x }"}) {
    EXPECT_FALSE(Parse(Yaml({"name: demo", bad, "regions: []"})).ok()) << bad;
  }
}

TEST(TopologyTest, RegionPersistenceOverridesTheTopLevelDefault) {
  absl::StatusOr<Topology> topology = Parse(Yaml({
      "name: demo",
      "persistence: { appendfsync: always }",
      "regions:",
      "  - { name: a, resp: 127.0.0.1:1, sync: 127.0.0.1:2, data_dir: a }",
      "  - { name: b, resp: 127.0.0.1:3, sync: 127.0.0.1:4, data_dir: b,",
      "      persistence: { appendfsync: no } }",
      "  - { name: c, resp: 127.0.0.1:5, sync: 127.0.0.1:6, data_dir: c,",
      "      persistence: { appendfsync: everysec } }",
      "  - { name: d, resp: 127.0.0.1:7, sync: 127.0.0.1:8, data_dir: d, persistence: {} }",
  }));
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->persistence.appendfsync, Appendfsync::kAlways);
  EXPECT_EQ(topology->FindRegion("a")->persistence.appendfsync, Appendfsync::kAlways);
  EXPECT_EQ(topology->FindRegion("b")->persistence.appendfsync, Appendfsync::kNo);
  EXPECT_EQ(topology->FindRegion("c")->persistence.appendfsync, Appendfsync::kEverysec);
  EXPECT_EQ(topology->FindRegion("d")->persistence.appendfsync, Appendfsync::kAlways);
}

TEST(TopologyTest, AppendfsyncNamesRoundTrip) {
  for (Appendfsync policy : {Appendfsync::kAlways, Appendfsync::kEverysec, Appendfsync::kNo}) {
    absl::StatusOr<Appendfsync> parsed = ParseAppendfsync(AppendfsyncName(policy));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, policy);
  }
  EXPECT_EQ(AppendfsyncName(Appendfsync::kNo), "no");
  EXPECT_EQ(ParseAppendfsync("Always").status().message(),
            "bad appendfsync value 'Always' (allowed: always, everysec, no)");
}

TEST(TopologyTest, Ipv6EndpointsMustBeQuotedAndWork) {
  absl::StatusOr<Topology> topology = Parse(Yaml({
      "name: demo",
      "regions:",
      "  - { name: a, resp: \"[::1]:7001\", sync: '[::1]:7101', data_dir: a }",
  }));
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->regions[0].resp.host, "::1");
  EXPECT_EQ(topology->regions[0].sync.ToString(), "[::1]:7101");
}

// ---------------------------------------------------------------------------------------------
// data_dir resolution.

std::string DataDirOf(const std::string& data_dir, const std::string& base_dir) {
  std::string yaml = absl::StrCat(
      "name: demo\nregions:\n  - { name: a, resp: 127.0.0.1:1, sync: 127.0.0.1:2, data_dir: '",
      data_dir, "' }\n");
  absl::StatusOr<Topology> topology = ParseTopology(yaml, "t.yaml", base_dir);
  EXPECT_TRUE(topology.ok()) << topology.status();
  return topology.ok() ? topology->regions[0].data_dir : "";
}

TEST(TopologyDataDirTest, RelativeDirResolvesAgainstBaseDir) {
  EXPECT_EQ(DataDirOf("data/a", "/srv/topo"), "/srv/topo/data/a");
  EXPECT_EQ(DataDirOf("data/a", "/srv/topo/"), "/srv/topo/data/a");
  EXPECT_EQ(DataDirOf(".", "/srv/topo"), "/srv/topo");
}

TEST(TopologyDataDirTest, ResolvedDirIsLexicallyNormalised) {
  EXPECT_EQ(DataDirOf("../d/./e/", "/srv/topo"), "/srv/d/e");
  EXPECT_EQ(DataDirOf("x//y/../z", "/srv/./topo/../t"), "/srv/t/x/z");
}

TEST(TopologyDataDirTest, AbsoluteDirIsKeptButNormalised) {
  EXPECT_EQ(DataDirOf("/var/lib/activekv/", "/srv/topo"), "/var/lib/activekv");
  EXPECT_EQ(DataDirOf("/var/lib/../tmp/a", "/srv/topo"), "/var/tmp/a");
  EXPECT_EQ(DataDirOf("/", "/srv/topo"), "/");
  EXPECT_EQ(DataDirOf("//", "/srv/topo"), "/");
  EXPECT_EQ(DataDirOf("///", "/srv/topo"), "/");
  EXPECT_EQ(DataDirOf("//a//", "/srv/topo"), "/a");
}

TEST(TopologyDataDirTest, RelativeOrEmptyBaseDirIsTakenFromTheCurrentDirectory) {
  const fs::path cwd = fs::current_path();
  EXPECT_EQ(DataDirOf("a", ""), (cwd / "a").lexically_normal().string());
  EXPECT_EQ(DataDirOf("a", "conf"), (cwd / "conf/a").lexically_normal().string());
}

TEST(TopologyDataDirTest, LoadedFileResolvesAgainstItsOwnFolder) {
  TempDir dir;
  fs::path file = dir.Write("conf/t.yaml", Yaml({
                                               "name: demo",
                                               "regions:",
                                               "  - name: a",
                                               "    resp: 127.0.0.1:7001",
                                               "    sync: 127.0.0.1:7101",
                                               "    data_dir: ../data/a",
                                               "  - name: b",
                                               "    resp: 127.0.0.1:7002",
                                               "    sync: 127.0.0.1:7102",
                                               "    data_dir: /abs/b",
                                           }));
  // A non-normal spelling of the file's path: the result is still normalised.
  std::string path = (dir.path() / "conf/./../conf/t.yaml").string();
  absl::StatusOr<Topology> topology = LoadTopologyFile(path);
  ASSERT_TRUE(topology.ok()) << topology.status();
  EXPECT_EQ(topology->source_path, file.string());
  EXPECT_EQ(topology->regions[0].data_dir, (dir.path() / "data/a").string());
  EXPECT_EQ(topology->regions[1].data_dir, "/abs/b");
}

// TLS (docs/security.md): the top level's settings, overridden key by key per region; the RESP
// TLS port and its client-certificate policy.
TEST(TopologyTest, TlsIsReadAndOverriddenKeyByKey) {
  absl::StatusOr<Topology> t = Parse(Yaml({
      "name: demo",
      "tls: { ca_file: certs/ca.pem, cert_file: certs/x.pem, key_file: certs/x.key,",
      "       auth_clients: optional, protocols: TLSv1.3 }",
      "regions:",
      "  - { name: a, resp: 127.0.0.1:7001, sync: 127.0.0.1:7101, data_dir: d/a,",
      "      resp_tls: 127.0.0.1:7201, tls: { cert_file: certs/a.pem, auth_clients: 'no' } }",
      "  - { name: b, resp: 127.0.0.1:7002, sync: 127.0.0.1:7102, data_dir: d/b }",
  }));
  ASSERT_TRUE(t.ok()) << t.status();
  const RegionConfig& a = t->regions[0];
  EXPECT_EQ(a.resp_tls.ToString(), "127.0.0.1:7201");
  EXPECT_EQ(a.tls.ca_file, "/base/certs/ca.pem");
  EXPECT_EQ(a.tls.cert_file, "/base/certs/a.pem");
  EXPECT_EQ(a.tls.key_file, "/base/certs/x.key");
  EXPECT_EQ(a.tls.auth_clients, "no");
  EXPECT_EQ(a.tls.protocols, "TLSv1.3");
  const RegionConfig& b = t->regions[1];
  EXPECT_EQ(b.resp_tls.port, 0);
  EXPECT_EQ(b.tls.cert_file, "/base/certs/x.pem");
  EXPECT_EQ(b.tls.auth_clients, "optional");
}

TEST(TopologyTest, TlsAuthClientsDefaultsToYes) {
  absl::StatusOr<Topology> t = Parse(kTwoRegions);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->regions[0].tls.auth_clients, "yes");
  EXPECT_FALSE(t->regions[0].tls.enabled());
}

// A count of seconds beyond int64 is refused, not wrapped.
TEST(TopologyTest, IntervalsThatOverflowAreRefused) {
  EXPECT_EQ(*ParseInterval("2562047788015215h"), int64_t{2562047788015215} * 3600);
  EXPECT_FALSE(ParseInterval("2562047788015216h").ok());
  EXPECT_FALSE(ParseInterval("153722867280912931m").ok());
  EXPECT_EQ(*ParseInterval("9223372036854775807s"), INT64_MAX);
}

}  // namespace
}  // namespace activekv::topology
