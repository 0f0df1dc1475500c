#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/unit/topology/topology_test_util.h"
#include "topology/topology.h"

namespace activekv::topology {
namespace {

using test_util::ErrorOf;
using test_util::kTwoRegions;
using test_util::Parse;
using test_util::TempDir;
using test_util::Yaml;
namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Validation: one test per kind of error, each checking the exact message and line.

TEST(TopologyErrorTest, UnknownTopLevelKeyListsTheAllowedKeys) {
  EXPECT_EQ(
      ErrorOf(Yaml({"name: demo", "colour: blue", "regions: []"})),
      "t.yaml:2: top level: unknown key 'colour' (allowed: name, persistence, backup, replication, "
      "regions, acl_file, requirepass_file, tls)");
}

TEST(TopologyErrorTest, UnknownRegionKeyListsTheAllowedKeys) {
  EXPECT_EQ(ErrorOf(Yaml({
                "name: demo",
                "regions:",
                "  - name: a",
                "    resp: 127.0.0.1:7001",
                "    sync: 127.0.0.1:7101",
                "    datadir: data/a",
                "    data_dir: data/a",
            })),
            "t.yaml:6: regions[0]: unknown key 'datadir' (allowed: name, resp, resp_tls, sync, "
            "data_dir, persistence, backup, acl_file, requirepass_file, tls)");
}

TEST(TopologyErrorTest, BadReplicationCompression) {
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "replication: { compression: zstd }", "regions: []"})),
            "t.yaml:2: replication.compression: 'zstd' is not one of none, gzip");
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "replication: { level: 9 }", "regions: []"})),
            "t.yaml:2: replication: unknown key 'level' (allowed: compression)");
}

TEST(TopologyErrorTest, UnknownPersistenceKeyListsTheAllowedKeys) {
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "persistence: { fsync: always }", "regions: []"})),
            "t.yaml:2: persistence: unknown key 'fsync' (allowed: mode, appendfsync, save, "
            "snapshot)");
}

TEST(TopologyErrorTest, DuplicateKeyNamesTheFirstOne) {
  EXPECT_EQ(ErrorOf(Yaml({
                "name: demo",
                "regions:",
                "  - name: a",
                "    resp: 127.0.0.1:7001",
                "    sync: 127.0.0.1:7101",
                "    resp: 127.0.0.1:7002",
                "    data_dir: data/a",
            })),
            "t.yaml:6: regions[0]: duplicate key 'resp' (first at line 4)");
}

TEST(TopologyErrorTest, NonStringKey) {
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "? [a, b]", ": 1", "regions: []"})),
            "t.yaml:2: top level: keys must be strings, got a sequence");
}

TEST(TopologyErrorTest, MissingTopLevelKeys) {
  EXPECT_EQ(ErrorOf(Yaml(
                {"# comment", "regions:", "  - { name: a, resp: h:1, sync: h:2, data_dir: a }"})),
            "t.yaml:2: top level: missing required key 'name'");
  EXPECT_EQ(ErrorOf(Yaml({"name: demo"})), "t.yaml:1: top level: missing required key 'regions'");
}

TEST(TopologyErrorTest, MissingRegionKeys) {
  for (const char* key : {"name", "resp", "sync", "data_dir"}) {
    std::string fields[] = {"name: a", "resp: 127.0.0.1:1", "sync: 127.0.0.1:2", "data_dir: a"};
    std::vector<std::string> present;
    for (const std::string& field : fields) {
      if (field.rfind(absl::StrCat(key, ":"), 0) != 0) present.push_back(field);
    }
    std::string yaml =
        absl::StrCat("name: demo\nregions:\n\n  - ", absl::StrJoin(present, "\n    "), "\n");
    EXPECT_EQ(ErrorOf(yaml),
              absl::StrCat("t.yaml:4: regions[0]: missing required key '", key, "'"));
  }
}

TEST(TopologyErrorTest, WrongNodeTypes) {
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions: us-east"})),
            "t.yaml:2: regions: expected a sequence, got a string");
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions:", "  - us-east"})),
            "t.yaml:3: regions[0]: expected a mapping, got a string");
  EXPECT_EQ(ErrorOf(Yaml({"name: [a, b]", "regions: []"})),
            "t.yaml:1: name: expected a string, got a sequence");
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "persistence: everysec", "regions: []"})),
            "t.yaml:2: persistence: expected a mapping, got a string");
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions:",
                          "  - { name: a, resp: { host: h, port: 1 }, sync: h:2, data_dir: a }"})),
            "t.yaml:3: regions[0].resp: expected a string, got a mapping");
}

TEST(TopologyErrorTest, EmptyValuesAreReportedAtTheirKey) {
  EXPECT_EQ(ErrorOf(Yaml({"name:", "", "", "regions: []"})),
            "t.yaml:1: name: expected a string, got null");
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions:"})),
            "t.yaml:2: regions: expected a sequence, got null");
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "persistence:", "regions: []"})),
            "t.yaml:2: persistence: expected a mapping, got null");
}

TEST(TopologyErrorTest, EmptyRegionItemIsReportedAtItsDash) {
  EXPECT_EQ(ErrorOf(Yaml({
                "name: demo",
                "regions:",
                "  -   # forgot this one",
                "",
                "  - { name: b, resp: h:3, sync: h:4, data_dir: b }",
            })),
            "t.yaml:3: regions[0]: expected a mapping, got null");
  EXPECT_EQ(ErrorOf(Yaml({
                "name: demo",
                "regions:",
                "  - { name: b, resp: h:3, sync: h:4, data_dir: b }",
                "  -",
            })),
            "t.yaml:4: regions[1]: expected a mapping, got null");
}

TEST(TopologyErrorTest, DuplicateRegionName) {
  std::string yaml = kTwoRegions;
  yaml.replace(yaml.find("name: b"), 7, "name: a");
  EXPECT_EQ(ErrorOf(yaml),
            "t.yaml:7: regions[1].name: duplicate region name 'a' (first at line 3)");
}

TEST(TopologyErrorTest, SameAddressTwiceAcrossRegions) {
  std::string yaml = kTwoRegions;
  yaml.replace(yaml.find("127.0.0.1:7002"), 14, "127.0.0.1:7001");
  EXPECT_EQ(ErrorOf(yaml),
            "t.yaml:7: regions[1].resp: address 127.0.0.1:7001 is already used by regions[0].resp "
            "(line 4)");
}

TEST(TopologyErrorTest, SameAddressAsRespAndSync) {
  std::string yaml = kTwoRegions;
  yaml.replace(yaml.find("127.0.0.1:7102"), 14, "127.0.0.1:7101");
  EXPECT_EQ(ErrorOf(yaml),
            "t.yaml:7: regions[1].sync: address 127.0.0.1:7101 is already used by regions[0].sync "
            "(line 5)");
  EXPECT_EQ(
      ErrorOf(Yaml({"name: demo", "regions:",
                    "  - { name: a, resp: 'localhost:1', sync: 'LOCALHOST:1', data_dir: a }"})),
      "t.yaml:3: regions[0].sync: address localhost:1 is already used by regions[0].resp "
      "(line 3)");
}

TEST(TopologyErrorTest, SameIpv6AddressSpelledDifferently) {
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions:",
                          "  - { name: a, resp: '[::1]:1', sync: '[::1]:2', data_dir: a }",
                          "  - { name: b, resp: '[0:0::1]:1', sync: '[::1]:3', data_dir: b }"})),
            "t.yaml:4: regions[1].resp: address [::1]:1 is already used by regions[0].resp "
            "(line 3)");
}

TEST(TopologyErrorTest, SameDataDirTwice) {
  std::string yaml = kTwoRegions;
  yaml.replace(yaml.find("data_dir: data/b"), 16, "data_dir: ./data/a/");
  EXPECT_EQ(ErrorOf(yaml),
            "t.yaml:7: regions[1].data_dir: directory /base/data/a is already used by "
            "regions[0].data_dir (line 6)");
}

TEST(TopologyErrorTest, EmptyDataDir) {
  EXPECT_EQ(ErrorOf(Yaml(
                {"name: demo", "regions:", "  - { name: a, resp: h:1, sync: h:2, data_dir: '' }"})),
            "t.yaml:3: regions[0].data_dir: must not be empty");
}

TEST(TopologyErrorTest, BadAddresses) {
  auto error_for_resp = [](const std::string& resp) {
    return ErrorOf(Yaml({"name: demo", "regions:", "  - name: a", absl::StrCat("    resp: ", resp),
                         "    sync: 127.0.0.1:7101", "    data_dir: a"}));
  };
  EXPECT_EQ(error_for_resp("127.0.0.1"),
            "t.yaml:4: regions[0].resp: bad address '127.0.0.1': expected host:port");
  EXPECT_EQ(error_for_resp("127.0.0.1:70000"),
            "t.yaml:4: regions[0].resp: bad address '127.0.0.1:70000': port must be 1-65535");
  EXPECT_EQ(error_for_resp("127.0.0.1:0"),
            "t.yaml:4: regions[0].resp: bad address '127.0.0.1:0': port must be 1-65535");
  EXPECT_EQ(error_for_resp("'::1:7001'"),
            "t.yaml:4: regions[0].resp: bad address '::1:7001': IPv6 addresses must be in "
            "brackets, e.g. [::1]:7001");
  EXPECT_EQ(error_for_resp("7001"),
            "t.yaml:4: regions[0].resp: bad address '7001': expected host:port");
}

TEST(TopologyErrorTest, UnquotedIpv6AddressGetsAHint) {
  // `[::1]:7001` unquoted opens a YAML flow sequence, which yaml-cpp reports as a syntax error.
  const std::string hint = " (hint: quote IPv6 addresses, e.g. resp: \"[::1]:7001\")";
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions:", "  - name: a", "    resp: [::1]:7001",
                          "    sync: h:1", "    data_dir: a"})),
            "t.yaml:4: YAML syntax error: end of map not found" + hint);
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions:",
                          "  - { name: a, resp: [::1]:7001, sync: h:1, data_dir: a }"})),
            "t.yaml:3: YAML syntax error: end of map flow not found" + hint);
}

TEST(TopologyErrorTest, ControlCharactersAreEscapedInMessages) {
  EXPECT_EQ(ErrorOf(Yaml({"name: \"de\\0mo\"", "regions: []"})),
            "t.yaml:1: name: invalid database name 'de\\x00mo': use only letters, digits, '_' "
            "and '-'");
}

TEST(TopologyErrorTest, BadAppendfsyncValue) {
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "persistence: { appendfsync: sometimes }", "regions: []"})),
            "t.yaml:2: persistence.appendfsync: bad appendfsync value 'sometimes' (allowed: "
            "always, everysec, no)");
  EXPECT_EQ(
      ErrorOf(Yaml({"name: demo", "regions:", "  - { name: a, resp: h:1, sync: h:2, data_dir: a,",
                    "      persistence: { appendfsync: ALWAYS } }"})),
      "t.yaml:4: regions[0].persistence.appendfsync: bad appendfsync value 'ALWAYS' "
      "(allowed: always, everysec, no)");
}

TEST(TopologyErrorTest, EmptyRegionsList) {
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions: []"})),
            "t.yaml:2: regions: must list at least one region");
}

TEST(TopologyErrorTest, RegionNameWithBadCharacters) {
  EXPECT_EQ(ErrorOf(Yaml({"name: demo",
                          "regions:", "  - { name: us east, resp: h:1, sync: h:2, data_dir: a }"})),
            "t.yaml:3: regions[0].name: invalid region name 'us east': use only letters, digits, "
            "'_' and '-'");
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions:",
                          "  - { name: 'eu/west', resp: h:1, sync: h:2, data_dir: a }"})),
            "t.yaml:3: regions[0].name: invalid region name 'eu/west': use only letters, digits, "
            "'_' and '-'");
  EXPECT_EQ(ErrorOf(Yaml(
                {"name: demo", "regions:", "  - { name: '', resp: h:1, sync: h:2, data_dir: a }"})),
            "t.yaml:3: regions[0].name: region name must not be empty");
}

TEST(TopologyErrorTest, RegionNameLongerThan64Characters) {
  auto yaml_with_name = [](const std::string& name) {
    return Yaml({"name: demo", "regions:",
                 absl::StrCat("  - { name: ", name, ", resp: h:1, sync: h:2, data_dir: a }")});
  };
  EXPECT_TRUE(Parse(yaml_with_name(std::string(64, 'r'))).ok());
  EXPECT_EQ(ErrorOf(yaml_with_name(std::string(65, 'r'))),
            "t.yaml:3: regions[0].name: region name is 65 characters long (maximum 64)");
}

TEST(TopologyErrorTest, DatabaseNameFollowsTheSameRules) {
  EXPECT_EQ(ErrorOf(Yaml({"name: my db", "regions: []"})),
            "t.yaml:1: name: invalid database name 'my db': use only letters, digits, '_' and "
            "'-'");
}

TEST(TopologyErrorTest, DocumentThatIsNotAMapping) {
  EXPECT_EQ(
      ErrorOf(Yaml({"- name: demo"})),
      "t.yaml:1: top level: expected a mapping with keys name, persistence, backup, replication, "
      "regions; got a "
      "sequence");
  EXPECT_EQ(
      ErrorOf(Yaml({"# just a comment", "demo"})),
      "t.yaml:2: top level: expected a mapping with keys name, persistence, backup, replication, "
      "regions; got a "
      "string");
}

TEST(TopologyErrorTest, EmptyDocument) {
  const std::string expected =
      "t.yaml:1: the document is empty; expected a mapping with keys name, persistence, backup, "
      "replication, regions";
  EXPECT_EQ(ErrorOf(""), expected);
  EXPECT_EQ(ErrorOf(Yaml({"# nothing", "", "# here"})), expected);
}

TEST(TopologyErrorTest, MoreThanOneDocument) {
  EXPECT_EQ(ErrorOf(kTwoRegions + "---\nname: other\n"),
            "t.yaml:9: expected one YAML document, found 2");
}

TEST(TopologyErrorTest, YamlSyntaxErrorGivesTheLine) {
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions:", "  - { name: a, resp: h:1"})),
            "t.yaml:4: YAML syntax error: end of map flow not found");
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions: x: y"})),
            "t.yaml:2: YAML syntax error: illegal map value");
}

// yaml-cpp 0.7's LoadAll would loop forever, allocating, on these (docs/fuzzing.md, finding 5).
TEST(TopologyErrorTest, StrayCommaIsASyntaxErrorNotAHang) {
  const std::string expected = ": YAML syntax error: unexpected ',' where a value may start";
  EXPECT_EQ(ErrorOf(","), "t.yaml:1" + expected);
  EXPECT_EQ(ErrorOf("'a' ,"), "t.yaml:1" + expected);
  EXPECT_EQ(ErrorOf("--- ,"), "t.yaml:1" + expected);
  EXPECT_EQ(ErrorOf(Yaml({"# a topology", "", ",", "name: demo"})), "t.yaml:3" + expected);
  EXPECT_EQ(ErrorOf(kTwoRegions + "--- ,\n"), "t.yaml:8" + expected);
}

TEST(TopologyErrorTest, UnreadableFileIsNamed) {
  EXPECT_EQ(LoadTopologyFile("/nonexistent/activekv/t.yaml").status(),
            absl::InvalidArgumentError("/nonexistent/activekv/t.yaml: cannot read topology file: "
                                       "No such file or directory"));
  TempDir dir;
  EXPECT_EQ(LoadTopologyFile(dir.path().string()).status(),
            absl::InvalidArgumentError(
                absl::StrCat(dir.path().string(), ": cannot read topology file: Is a directory")));
  EXPECT_EQ(LoadTopologyFile("").status(),
            absl::InvalidArgumentError("cannot read topology file: empty file name"));
}

TEST(TopologyErrorTest, LoadedFileErrorsNameThePathAsGiven) {
  TempDir dir;
  fs::path file = dir.Write("t.yaml", Yaml({"name: demo", "regions: []"}));
  EXPECT_EQ(LoadTopologyFile(file.string()).status().message(),
            absl::StrCat(file.string(), ":2: regions: must list at least one region"));
}

// ---------------------------------------------------------------------------------------------
// With several errors, the first in file order is the one reported.

TEST(TopologyFirstErrorTest, EarlierLineWinsWithinARegion) {
  EXPECT_EQ(ErrorOf(Yaml({
                "name: demo",
                "regions:",
                "  - name: a",
                "    sync: 127.0.0.1",
                "    resp: 127.0.0.1:0",
                "    data_dir: a",
            })),
            "t.yaml:4: regions[0].sync: bad address '127.0.0.1': expected host:port");
}

TEST(TopologyFirstErrorTest, EarlierColumnWinsOnTheSameLine) {
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "regions:",
                          "  - { sync: 127.0.0.1:x, resp: 127.0.0.1:0, name: a, data_dir: a }"})),
            "t.yaml:3: regions[0].sync: bad address '127.0.0.1:x': port 'x' is not a number");
}

TEST(TopologyFirstErrorTest, RegionErrorBeforeLaterTopLevelErrors) {
  EXPECT_EQ(ErrorOf(Yaml({
                "name: demo",
                "regions:",
                "  - { name: a, resp: h:1, sync: h:2, data_dir: a }",
                "  - { name: b!, resp: h:3, sync: h:4, data_dir: b }",
                "persistence: { appendfsync: never }",
                "colour: blue",
            })),
            "t.yaml:4: regions[1].name: invalid region name 'b!': use only letters, digits, '_' "
            "and '-'");
}

TEST(TopologyFirstErrorTest, DuplicateBeforeALaterErrorOnTheSameLine) {
  EXPECT_EQ(ErrorOf(Yaml({
                "name: demo",
                "regions:",
                "  - { name: a, resp: h:1, sync: h:2, data_dir: a }",
                "  - { name: b, resp: h:1, sync: h:4, data_dir: b, extra: 1 }",
            })),
            "t.yaml:4: regions[1].resp: address h:1 is already used by regions[0].resp (line 3)");
}
// TLS: resp_tls needs the certificate files; auth_clients and protocols take Redis's values.
TEST(TopologyErrorTest, TlsSettingsAreChecked) {
  EXPECT_EQ(ErrorOf(Yaml({"name: demo",
                          "regions:", "  - { name: a, resp: 127.0.0.1:7001, sync: 127.0.0.1:7101,",
                          "      data_dir: d/a, resp_tls: 127.0.0.1:7201 }"})),
            "t.yaml:4: regions[0].resp_tls: needs tls (ca_file, cert_file, key_file)");
  EXPECT_EQ(
      ErrorOf(Yaml({"name: demo", "tls: { ca_file: ca.pem, auth_clients: maybe }", "regions: []"})),
      "t.yaml:2: tls.auth_clients: bad value 'maybe' (allowed: yes, no, optional)");
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "tls: { protocols: TLSv1.2 TLSv1.1 }", "regions: []"})),
            "t.yaml:2: tls.protocols: 'TLSv1.1' is not supported (use TLSv1.2 and/or TLSv1.3)");
  EXPECT_EQ(
      ErrorOf(Yaml({"name: demo", "tls: { ca_file: ca.pem, cert_file: c, key_file: k }",
                    "regions:", "  - { name: operator, resp: 127.0.0.1:7001, sync: 127.0.0.1:7101,",
                    "      data_dir: d/a }"})),
      "t.yaml:4: regions[0].name: 'operator' names the operator's certificate under tls");
  EXPECT_EQ(ErrorOf(Yaml({"name: demo", "tls: { ca_file: ca.pem, cert_file: c, key_file: k }",
                          "regions:", "  - { name: a, resp: 127.0.0.1:7001, sync: 127.0.0.1:7101,",
                          "      data_dir: d/a, resp_tls: 127.0.0.1:7001 }"})),
            "t.yaml:5: regions[0].resp_tls: address 127.0.0.1:7001 is already used by "
            "regions[0].resp (line 4)");
}

}  // namespace
}  // namespace activekv::topology
