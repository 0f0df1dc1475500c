// Writer/reader: the record format of docs/aof-format.md and the reader's damage classification.
#include <cstring>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "persistence/aof_format.h"
#include "persistence/aof_reader.h"
#include "persistence/aof_writer.h"
#include "persistence/crc32c.h"
#include "persistence/mem_env.h"
#include "tests/unit/persistence/test_util.h"

namespace activekv::persistence::aof {
namespace {

using ::testing::HasSubstr;
using testing::MakeAof;
using testing::Payload;
using Result = Reader::Result;

struct Damage {
  uint64_t offset;
  uint64_t bytes;
  std::string reason;
};

class RecordingReporter : public Reader::Reporter {
 public:
  void Corruption(uint64_t offset, uint64_t bytes, const absl::Status& reason) override {
    damage.push_back({offset, bytes, std::string(reason.message())});
  }
  std::vector<Damage> damage;
};

class AofLogTest : public ::testing::Test {
 protected:
  void SetFile(const std::string& image) {
    ASSERT_TRUE(WriteStringToFile(&env_, image, "aof", false).ok());
    auto file = env_.NewSequentialFile("aof");
    ASSERT_TRUE(file.ok());
    file_ = *std::move(file);
    reader_ = std::make_unique<Reader>(file_.get(), &reporter_);
  }
  // Reads records until a non-kRecord result, which it returns.
  Result ReadUntilNotRecord(std::vector<std::string>* records) {
    std::string payload;
    Result result;
    while ((result = reader_->ReadRecord(&payload)) == Result::kRecord) records->push_back(payload);
    return result;
  }

  MemEnv env_;
  std::unique_ptr<SequentialFile> file_;
  RecordingReporter reporter_;
  std::unique_ptr<Reader> reader_;
};

// Overwrites the little-endian u32 at `offset` of `image`.
void PutU32(std::string* image, size_t offset, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*image)[offset + i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
// Recomputes the header checksum of the record at `offset` (after a deliberate header edit).
void FixHeaderCrc(std::string* image, size_t offset) {
  uint32_t crc =
      crc32c::Value(image->data() + offset + kLengthOffset, kRecordHeaderSize - kLengthOffset);
  PutU32(image, offset + kHeaderCrcOffset, crc32c::Mask(crc));
}

TEST_F(AofLogTest, RoundTripIncludingEmptyAnd1MiBPayloads) {
  std::mt19937_64 rng = testing::SeededRng();
  std::vector<std::string> payloads = {
      "", "x", testing::RandomBytes(rng, 1 << 20), "", testing::RandomBytes(rng, 100000), "last"};
  auto file = env_.NewWritableFile("w", false);
  ASSERT_TRUE(file.ok());
  Writer writer(file->get());
  ASSERT_TRUE(writer.WriteFileHeader().ok());
  for (const std::string& p : payloads) ASSERT_TRUE(writer.AddRecord(p).ok());
  testing::ReadOutcome out = testing::ReadAof(&env_, "w");
  EXPECT_EQ(out.end, Result::kEof);
  EXPECT_EQ(out.records, payloads);
  EXPECT_EQ(out.end_offset, *env_.GetFileSize("w"));
}

TEST_F(AofLogTest, ManyRandomRecordsRoundTripWithOffsets) {
  std::mt19937_64 rng = testing::SeededRng();
  std::vector<std::string> payloads;
  for (int i = 0; i < 2000; ++i) payloads.push_back(testing::RandomBytes(rng, rng() % 700));
  std::vector<uint64_t> offsets;
  SetFile(MakeAof(payloads, &offsets));
  std::string payload;
  for (size_t i = 0; i < payloads.size(); ++i) {
    ASSERT_EQ(reader_->ReadRecord(&payload), Result::kRecord);
    ASSERT_EQ(payload, payloads[i]);
    ASSERT_EQ(reader_->record_offset(), offsets[i]);
  }
  EXPECT_EQ(reader_->ReadRecord(&payload), Result::kEof);
  EXPECT_EQ(reader_->ReadRecord(&payload), Result::kEof);  // terminal results repeat
  EXPECT_TRUE(reporter_.damage.empty());
}

TEST_F(AofLogTest, EmptyFileAndHeaderOnlyFileAreCleanEmptyLogs) {
  SetFile("");
  std::vector<std::string> records;
  EXPECT_EQ(ReadUntilNotRecord(&records), Result::kEof);
  EXPECT_EQ(reader_->end_offset(), 0u);
  SetFile(FileHeader());
  EXPECT_EQ(ReadUntilNotRecord(&records), Result::kEof);
  EXPECT_EQ(reader_->end_offset(), kFileHeaderSize);
  EXPECT_TRUE(records.empty());
}

TEST_F(AofLogTest, TornFileHeaderIsTornTailAtOffsetZero) {
  for (size_t n = 1; n < kFileHeaderSize; ++n) {
    SetFile(FileHeader().substr(0, n));
    std::vector<std::string> records;
    ASSERT_EQ(ReadUntilNotRecord(&records), Result::kTornTail) << n;
    EXPECT_EQ(reader_->damage_offset(), 0u);
    EXPECT_EQ(reader_->damage_bytes(), n);
  }
}

TEST_F(AofLogTest, GarbageFileHeaderIsBadFileHeader) {
  for (const std::string& image : {std::string("*2\r\n$3\r\nSET\r\n"),
                                   std::string("AKVAOX\x01\x00", 8), std::string("junk")}) {
    SetFile(image);
    std::vector<std::string> records;
    EXPECT_EQ(ReadUntilNotRecord(&records), Result::kBadFileHeader);
    EXPECT_THAT(reader_->damage().message(), HasSubstr("bad magic"));
  }
}

TEST_F(AofLogTest, UnsupportedVersionIsBadFileHeader) {
  std::string image = MakeAof({"a"});
  image[6] = 2;
  SetFile(image);
  std::vector<std::string> records;
  EXPECT_EQ(ReadUntilNotRecord(&records), Result::kBadFileHeader);
  EXPECT_TRUE(absl::IsFailedPrecondition(reader_->damage()));
  EXPECT_THAT(reader_->damage().message(), HasSubstr("unsupported AOF format version 2"));
}

TEST_F(AofLogTest, ChecksumMismatchMidFileIsCorruptionAndReadingResumesAfterIt) {
  std::vector<uint64_t> offsets;
  std::string image = MakeAof({Payload(0), Payload(1), Payload(2), Payload(3)}, &offsets);
  image[offsets[1] + kRecordHeaderSize + 3] ^= 0x20;  // flip a payload bit of record 1
  SetFile(image);
  std::vector<std::string> records;
  ASSERT_EQ(ReadUntilNotRecord(&records), Result::kCorruption);
  EXPECT_EQ(records, std::vector<std::string>{Payload(0)});
  EXPECT_EQ(reader_->damage_offset(), offsets[1]);
  EXPECT_EQ(reader_->damage_bytes(), offsets[2] - offsets[1]);
  EXPECT_THAT(reader_->damage().message(), HasSubstr("payload checksum mismatch"));
  EXPECT_EQ(reader_->end_offset(), offsets[1]);
  ASSERT_EQ(ReadUntilNotRecord(&records), Result::kEof);
  EXPECT_EQ(records, (std::vector<std::string>{Payload(0), Payload(2), Payload(3)}));
  ASSERT_EQ(reporter_.damage.size(), 1u);
  EXPECT_EQ(reporter_.damage[0].offset, offsets[1]);
}

TEST_F(AofLogTest, HeaderChecksumMismatchMidFileResyncsToTheNextRecord) {
  std::vector<uint64_t> offsets;
  std::string image = MakeAof({Payload(0), Payload(1), Payload(2)}, &offsets);
  image[offsets[1] + kTypeOffset] ^= 0x01;
  SetFile(image);
  std::vector<std::string> records;
  ASSERT_EQ(ReadUntilNotRecord(&records), Result::kCorruption);
  EXPECT_EQ(reader_->damage_offset(), offsets[1]);
  EXPECT_EQ(reader_->damage_bytes(), offsets[2] - offsets[1]);
  EXPECT_THAT(reader_->damage().message(), HasSubstr("header checksum mismatch"));
  ASSERT_EQ(ReadUntilNotRecord(&records), Result::kEof);
  EXPECT_EQ(records, (std::vector<std::string>{Payload(0), Payload(2)}));
}

// A flipped bit that inflates a length mid-file must not pass for a torn tail (which recovery
// would silently truncate): the header checksum catches it.
TEST_F(AofLogTest, BadLengthMidFileIsCorruptionNotTornTail) {
  std::vector<uint64_t> offsets;
  std::string image = MakeAof({Payload(0), Payload(1), Payload(2)}, &offsets);
  image[offsets[1] + kLengthOffset + 2] ^= 0x10;  // length += 1 MiB, far past end of file
  SetFile(image);
  std::vector<std::string> records;
  EXPECT_EQ(ReadUntilNotRecord(&records), Result::kCorruption);
  EXPECT_EQ(reader_->damage_offset(), offsets[1]);
}

TEST_F(AofLogTest, LengthOverMaximumIsBadLength) {
  std::vector<uint64_t> offsets;
  std::string image = MakeAof({Payload(0), Payload(1), Payload(2)}, &offsets);
  PutU32(&image, offsets[1] + kLengthOffset, kMaxPayloadSize + 1);
  FixHeaderCrc(&image, offsets[1]);
  SetFile(image);
  std::vector<std::string> records;
  ASSERT_EQ(ReadUntilNotRecord(&records), Result::kCorruption);
  EXPECT_THAT(reader_->damage().message(), HasSubstr("bad record length"));
  EXPECT_EQ(reader_->damage_offset(), offsets[1]);
  // Resync scans byte by byte and finds record 2.
  ASSERT_EQ(ReadUntilNotRecord(&records), Result::kEof);
  EXPECT_EQ(records.back(), Payload(2));
}

TEST_F(AofLogTest, BadLengthAtEndIsTornTail) {
  std::vector<uint64_t> offsets;
  std::string image = MakeAof({Payload(0), Payload(1)}, &offsets);
  PutU32(&image, offsets[1] + kLengthOffset, 0xffffffffu);
  FixHeaderCrc(&image, offsets[1]);
  SetFile(image);
  std::vector<std::string> records;
  EXPECT_EQ(ReadUntilNotRecord(&records), Result::kTornTail);
  EXPECT_EQ(reader_->damage_offset(), offsets[1]);
  EXPECT_EQ(reader_->damage_bytes(), image.size() - offsets[1]);
  EXPECT_EQ(records, std::vector<std::string>{Payload(0)});
}

TEST_F(AofLogTest, UnknownRecordTypeIsCorruption) {
  std::vector<uint64_t> offsets;
  std::string image = MakeAof({Payload(0), Payload(1), Payload(2)}, &offsets);
  image[offsets[1] + kTypeOffset] = 7;
  FixHeaderCrc(&image, offsets[1]);
  SetFile(image);
  std::vector<std::string> records;
  ASSERT_EQ(ReadUntilNotRecord(&records), Result::kCorruption);
  EXPECT_THAT(reader_->damage().message(), HasSubstr("unknown record type 7"));
}

// Every possible cut point of the last record: always a torn tail right after record N-2.
TEST_F(AofLogTest, TruncatedTrailingRecordIsTornTail) {
  std::vector<uint64_t> offsets;
  const std::string image = MakeAof({Payload(0), Payload(1), Payload(2, 300)}, &offsets);
  for (size_t cut = offsets[2] + 1; cut < image.size(); ++cut) {
    SetFile(image.substr(0, cut));
    std::vector<std::string> records;
    ASSERT_EQ(ReadUntilNotRecord(&records), Result::kTornTail) << "cut " << cut;
    EXPECT_EQ(records.size(), 2u);
    EXPECT_EQ(reader_->damage_offset(), offsets[2]);
    EXPECT_EQ(reader_->damage_bytes(), cut - offsets[2]);
    EXPECT_EQ(reader_->end_offset(), offsets[2]);
    EXPECT_THAT(reader_->damage().message(), HasSubstr("incomplete record"));
  }
}

TEST_F(AofLogTest, ChecksumMismatchInLastRecordIsTornTail) {
  std::vector<uint64_t> offsets;
  std::string image = MakeAof({Payload(0), Payload(1)}, &offsets);
  image.back() ^= 0x01;
  SetFile(image);
  std::vector<std::string> records;
  ASSERT_EQ(ReadUntilNotRecord(&records), Result::kTornTail);
  EXPECT_EQ(reader_->damage_offset(), offsets[1]);
}

TEST_F(AofLogTest, ZeroFilledTailIsTornTail) {
  std::vector<uint64_t> offsets;
  std::string image = MakeAof({Payload(0), Payload(1)}, &offsets);
  const size_t good = image.size();
  image.append(4096, '\0');  // what a crash can leave after a size update without data
  SetFile(image);
  std::vector<std::string> records;
  ASSERT_EQ(ReadUntilNotRecord(&records), Result::kTornTail);
  EXPECT_EQ(records.size(), 2u);
  EXPECT_EQ(reader_->damage_offset(), good);
  EXPECT_EQ(reader_->damage_bytes(), 4096u);
  EXPECT_THAT(reader_->damage().message(), HasSubstr("header checksum mismatch"));
}

TEST_F(AofLogTest, GarbageFollowedByAValidRecordIsCorruption) {
  std::string image = MakeAof({Payload(0)});
  const size_t garbage_at = image.size();
  image.append("some garbage bytes that are not a record");
  const size_t next = image.size();
  EncodeRecord(Payload(9), &image);
  SetFile(image);
  std::vector<std::string> records;
  ASSERT_EQ(ReadUntilNotRecord(&records), Result::kCorruption);
  EXPECT_EQ(reader_->damage_offset(), garbage_at);
  EXPECT_EQ(reader_->damage_bytes(), next - garbage_at);
  ASSERT_EQ(ReadUntilNotRecord(&records), Result::kEof);
  EXPECT_EQ(records, (std::vector<std::string>{Payload(0), Payload(9)}));
}

TEST_F(AofLogTest, RecordsLargerThanTheReadChunkStraddleBuffers) {
  std::mt19937_64 rng = testing::SeededRng();
  std::vector<std::string> payloads;
  for (int i = 0; i < 12; ++i) payloads.push_back(testing::RandomBytes(rng, 30000 + rng() % 90000));
  SetFile(MakeAof(payloads));
  std::vector<std::string> records;
  EXPECT_EQ(ReadUntilNotRecord(&records), Result::kEof);
  EXPECT_EQ(records, payloads);
}

TEST(AofWriterTest, RejectsOversizedPayload) {
  MemEnv env;
  auto file = env.NewWritableFile("w", false);
  ASSERT_TRUE(file.ok());
  Writer writer(file->get());
  std::string small = "x";
  // Never dereferenced past the first byte: the size check comes first.
  std::string_view huge(small.data(), size_t{kMaxPayloadSize} + 1);
  EXPECT_TRUE(absl::IsInvalidArgument(writer.AddRecord(huge)));
  EXPECT_EQ(*env.GetFileSize("w"), 0u);
}

TEST(AofWriterTest, FileHeaderIsMagicAndVersion) {
  EXPECT_EQ(FileHeader(), std::string("AKVAOF\x01\x00", 8));
}

}  // namespace
}  // namespace activekv::persistence::aof
