// resp::Parser on input that arrives in pieces: every split point, byte by byte, big bulks in
// socket-sized chunks (with a bound on the parser's rescanning), and seeded random garbage.
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "region-server/resp/parser.h"
#include "tests/unit/resp/feeder.h"

namespace activekv::resp {
namespace {

using testing::Command;
using ::testing::ElementsAre;
using testing::Feeder;
using testing::Multibulk;
using testing::Outcome;
using testing::ParseWhole;
using Result = Parser::Result;

// A stream that exercises every path: multibulk, inline with quotes, empty commands, binary
// payloads, header quirks.
std::string MixedStream() {
  std::string s;
  s += "PING\r\n";
  s += Multibulk({"SET", "key", std::string("a\r\nb\0c", 6)});
  s += "\r\n*0\r\n*-1\r\n";
  s += " ECHO \"x y\" 'it\\'s' \"\\x41\\n\" \xe9\n";
  s += Multibulk({"ECHO", ""});
  s += "*1\rX$4\rYPING\r\n";
  s += Multibulk({"MSET", "k1", "v1", "k2", std::string(300, 'z')});
  s += "\n\n";
  s += "GET k\r\n";
  return s;
}

std::vector<Command> MixedStreamCommands() {
  return {{"PING"},
          {"SET", "key", std::string("a\r\nb\0c", 6)},
          {"ECHO", "x y", "it's", "A\n", "\xe9"},
          {"ECHO", ""},
          {"PING"},
          {"MSET", "k1", "v1", "k2", std::string(300, 'z')},
          {"GET", "k"}};
}

std::string_view View(const std::string& s) { return s; }

uint32_t Seed() {
  const uint32_t seed = static_cast<uint32_t>(::testing::UnitTest::GetInstance()->random_seed());
  std::printf("random seed: %u (replay with --gtest_random_seed=%u)\n", seed, seed);
  return seed == 0 ? 1 : seed;
}

TEST(ParserStreamTest, WholeStreamParses) {
  EXPECT_EQ(ParseWhole(MixedStream()).commands, MixedStreamCommands());
}

TEST(ParserStreamTest, EverySplitPointGivesTheSameCommands) {
  const std::string in = MixedStream();
  for (size_t cut = 0; cut <= in.size(); ++cut) {
    Feeder f;
    f.Feed(View(in).substr(0, cut));
    f.Feed(View(in).substr(cut));
    ASSERT_EQ(f.outcome().commands, MixedStreamCommands()) << "split at byte " << cut;
    ASSERT_EQ(f.outcome().error, "");
    ASSERT_TRUE(f.buffer().empty());
  }
}

TEST(ParserStreamTest, EveryPairOfSplitPointsGivesTheSameCommands) {
  std::string in;
  in += Multibulk({"SET", "k", "v"});
  in += "ECHO \"a b\"\r\n";
  in += Multibulk({"GET", "k"});
  for (size_t a = 0; a <= in.size(); ++a) {
    for (size_t b = a; b <= in.size(); ++b) {
      Feeder f;
      f.Feed(View(in).substr(0, a));
      f.Feed(View(in).substr(a, b - a));
      f.Feed(View(in).substr(b));
      ASSERT_THAT(f.outcome().commands, ElementsAre(Command{"SET", "k", "v"},
                                                    Command{"ECHO", "a b"}, Command{"GET", "k"}))
          << "splits at " << a << " and " << b;
    }
  }
}

TEST(ParserStreamTest, OneByteAtATimeGivesTheSameCommands) {
  Feeder f;
  f.FeedInChunks(MixedStream(), 1);
  EXPECT_EQ(f.outcome().commands, MixedStreamCommands());
  EXPECT_TRUE(f.buffer().empty());
}

TEST(ParserStreamTest, ErrorsAreTheSameAtEverySplitPoint) {
  for (const std::string& tail : {std::string("*1\r\nX\r\n"), std::string("*abc\r\n"),
                                  std::string("*1\r\n$-3\r\n"), std::string("ECHO \"a\r\n")}) {
    const std::string in = MixedStream() + tail + "PING\r\n";
    const Outcome whole = ParseWhole(in);
    ASSERT_EQ(whole.commands, MixedStreamCommands());
    ASSERT_FALSE(whole.error.empty());
    for (size_t cut = 0; cut <= in.size(); ++cut) {
      Feeder f;
      if (f.Feed(View(in).substr(0, cut)) != Result::kError) {
        f.Feed(View(in).substr(cut));
      }
      ASSERT_EQ(f.outcome(), whole) << "split at byte " << cut << " of " << in;
    }
  }
}

TEST(ParserStreamTest, TenMegabyteBulkInSmallChunksIsNotRescanned) {
  const std::string value(10 << 20, 'v');
  const std::string first = Multibulk({"SET", "big", value});
  const std::string in = first + Multibulk({"GET", "big"});
  Feeder f;
  for (size_t i = 0; i < in.size(); i += 4096) {
    f.Feed(View(in).substr(i, 4096));
    if (f.outcome().commands.empty() && f.parser().bytes_hint() > 0) {
      // The hint is exactly what is missing from the bulk (payload + "\r\n").
      ASSERT_EQ(f.parser().bytes_hint(), first.size() - f.buffer().size());
    }
  }
  ASSERT_EQ(f.outcome().commands.size(), 2u);
  EXPECT_EQ(f.outcome().commands[0][2], value);
  // Only header lines are ever searched, each byte once (~30 bytes in all).
  EXPECT_LT(f.parser().scanned_bytes(), 64u);
}

TEST(ParserStreamTest, ManyArgumentsInSmallChunksAreScannedOnce) {
  std::vector<std::string> args(100000, "value");
  args[0] = "RPUSH";
  const std::string in = Multibulk(args);
  Feeder f;
  f.FeedInChunks(in, 4096);
  ASSERT_EQ(f.outcome().commands.size(), 1u);
  EXPECT_EQ(f.outcome().commands[0].size(), args.size());
  // Headers are "$5" lines: each examined once, payloads never.
  EXPECT_LE(f.parser().scanned_bytes(), in.size() / 3);
}

TEST(ParserStreamTest, LongInlineLineInSmallChunksIsScannedOnce) {
  const std::string in = "ECHO " + std::string(60000, 'x') + "\r\n";
  Feeder f;
  f.FeedInChunks(in, 100);
  ASSERT_EQ(f.outcome().commands.size(), 1u);
  EXPECT_LE(f.parser().scanned_bytes(), in.size());
}

TEST(ParserStreamTest, ShorterInputThanBeforeRestartsTheCommand) {
  Parser p;
  size_t consumed;
  std::vector<std::string_view> args;
  const std::string in = Multibulk({"SET", "k", "value"});
  ASSERT_EQ(p.Parse(View(in).substr(0, 20), &consumed, &args), Result::kInputPending);
  ASSERT_EQ(p.Parse(View(in).substr(0, 5), &consumed, &args), Result::kInputPending);
  ASSERT_EQ(p.Parse(in, &consumed, &args), Result::kOk);
  EXPECT_THAT(args, ElementsAre("SET", "k", "value"));
}

// Random bytes drawn mostly from protocol characters, fed whole and in random pieces. Inputs
// stay under 64 KiB, where no size limit depends on how the bytes arrive, so both feeds must
// agree exactly; nothing may crash and consumed never exceeds the input.
TEST(ParserStreamTest, RandomGarbageNeverCrashesAndChunkingDoesNotMatter) {
  std::mt19937 rng(Seed());
  const std::string alphabet = std::string("*$\r\n\r\n0123456789-+ \"'\\xaf\t\0", 27) + "SETGEK";
  for (int iter = 0; iter < 3000; ++iter) {
    std::string in;
    const size_t len = rng() % 200;
    for (size_t i = 0; i < len; ++i) {
      in.push_back(rng() % 8 == 0 ? static_cast<char>(rng()) : alphabet[rng() % alphabet.size()]);
    }
    const Outcome whole = ParseWhole(in);
    Feeder f;
    for (size_t i = 0; i < in.size();) {
      const size_t n = 1 + rng() % 16;
      if (f.Feed(View(in).substr(i, n)) == Result::kError) break;
      i += n;
    }
    ASSERT_EQ(f.outcome(), whole) << "input #" << iter;
  }
}

// Valid pipelines with a few bytes overwritten: mostly-valid input reaches deeper states.
TEST(ParserStreamTest, MutatedPipelinesNeverCrashAndChunkingDoesNotMatter) {
  std::mt19937 rng(Seed());
  const std::string base = MixedStream() + MixedStream();
  for (int iter = 0; iter < 3000; ++iter) {
    std::string in = base;
    for (int m = 0, n = 1 + static_cast<int>(rng() % 4); m < n; ++m) {
      in[rng() % in.size()] = "*$\r\n0123-\"'\\ \0x"[rng() % 16];
    }
    const Outcome whole = ParseWhole(in);
    Feeder f;
    for (size_t i = 0; i < in.size();) {
      const size_t n = 1 + rng() % 64;
      if (f.Feed(View(in).substr(i, n)) == Result::kError) break;
      i += n;
    }
    ASSERT_EQ(f.outcome(), whole) << "input #" << iter;
  }
}

}  // namespace
}  // namespace activekv::resp
