// backup/manifest.h: the manifest round-trips, refuses what it cannot read; ids and SHA-256.
#include "backup/manifest.h"

#include "gtest/gtest.h"

namespace activekv::backup {
namespace {

TEST(Manifest, RoundTripsThroughYaml) {
  Manifest m;
  m.id = BackupId("db", "us-east", 1796598957084);
  m.database = "db";
  m.region = "us-east";
  m.created_unix_ms = 1796598957084;
  m.saved_unix_ms = 1796598957000;
  m.version_vector = {{"us-east", 3000}, {"eu~1", 2}};
  m.objects.push_back({kSnapshotName, 153651, std::string(64, 'a')});
  absl::StatusOr<Manifest> back = ParseManifest(ManifestToYaml(m));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->id, "db/us-east/20261206T231557.084Z");
  EXPECT_EQ(back->region, "us-east");
  EXPECT_EQ(back->saved_unix_ms, m.saved_unix_ms);
  EXPECT_EQ(back->version_vector, m.version_vector);
  ASSERT_EQ(back->objects.size(), 1u);
  EXPECT_EQ(back->objects[0].size, 153651u);
  EXPECT_EQ(back->objects[0].sha256, std::string(64, 'a'));
}

TEST(Manifest, RefusesUnknownVersionsAndMissingFields) {
  absl::StatusOr<Manifest> v2 = ParseManifest("format_version: 2\n");
  ASSERT_FALSE(v2.ok());
  EXPECT_EQ(v2.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(v2.status().message().find("unsupported backup format version 2"), std::string::npos);
  absl::StatusOr<Manifest> no_objects = ParseManifest(
      "format_version: 1\nid: a\ndatabase: d\nregion: r\ncreated_unix_ms: 1\nsaved_unix_ms: 1\n");
  ASSERT_FALSE(no_objects.ok());
  EXPECT_NE(no_objects.status().message().find("no 'objects'"), std::string::npos);
  EXPECT_FALSE(ParseManifest("[1, 2").ok());
  EXPECT_FALSE(ParseManifest("just a string").ok());
}

TEST(Sha256, MatchesTheKnownDigestWhateverThePieces) {
  Sha256 whole;
  whole.Update("abc");
  EXPECT_EQ(whole.HexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 pieces;
  pieces.Update("a");
  pieces.Update("");
  pieces.Update("bc");
  EXPECT_EQ(pieces.HexDigest(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace activekv::backup
