// Test helper: drives a resp::Parser the way a connection does (append what was read, parse
// every complete command, drop the consumed bytes), and records what came out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "region-server/resp/parser.h"

namespace activekv::resp::testing {

using Command = std::vector<std::string>;

struct Outcome {
  std::vector<Command> commands;
  std::string error;  // the protocol error, if one ended the stream
  bool operator==(const Outcome& o) const { return commands == o.commands && error == o.error; }
};

class Feeder {
 public:
  explicit Feeder(Parser::Limits limits = {}) : parser_(limits) {}

  Parser& parser() { return parser_; }
  const std::string& buffer() const { return buffer_; }
  const Outcome& outcome() const { return outcome_; }

  // Appends `chunk` and parses every complete command. Returns the last result.
  Parser::Result Feed(std::string_view chunk) {
    buffer_.append(chunk);
    for (;;) {
      size_t consumed = 0;
      const Parser::Result r = parser_.Parse(buffer_, &consumed, &args_);
      EXPECT_LE(consumed, buffer_.size());
      if (r == Parser::Result::kOk) {
        EXPECT_FALSE(args_.empty());
        outcome_.commands.emplace_back(args_.begin(), args_.end());
      } else if (r == Parser::Result::kError) {
        outcome_.error = std::string(parser_.error());
      }
      buffer_.erase(0, consumed);
      if (r != Parser::Result::kOk) return r;
    }
  }

  // Feeds `input` in pieces of `chunk` bytes.
  void FeedInChunks(std::string_view input, size_t chunk) {
    for (size_t i = 0; i < input.size(); i += chunk) {
      if (Feed(input.substr(i, chunk)) == Parser::Result::kError) return;
    }
  }

 private:
  Parser parser_;
  std::string buffer_;
  std::vector<std::string_view> args_;
  Outcome outcome_;
};

inline Outcome ParseWhole(std::string_view input, Parser::Limits limits = {}) {
  Feeder f(limits);
  f.Feed(input);
  return f.outcome();
}

inline std::string Multibulk(const std::vector<std::string>& args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

}  // namespace activekv::resp::testing
