// libFuzzer target for resp::Parser (see tests/fuzz/CMakeLists.txt).
//
// The first input byte picks the options (auth required, tiny limits, chunk size); the rest is
// fed to a parser twice, the way a connection would: whole, and in small pieces. Checked:
//   - no crash, no sanitizer report, *consumed never exceeds the input;
//   - arguments that point into the input lie inside the consumed bytes;
//   - when no size limit can depend on how the bytes arrive, both feeds give the same
//     commands and the same error;
//   - every parsed command, re-encoded as a multibulk, parses back to itself.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"
#include "region-server/resp/parser.h"

namespace {

using activekv::resp::Parser;

struct Outcome {
  std::vector<std::vector<std::string>> commands;
  std::string error;
  bool operator==(const Outcome& o) const { return commands == o.commands && error == o.error; }
};

struct Options {
  Parser::Limits limits;
  bool auth_required = false;
};

Outcome Run(std::string_view input, const Options& options, size_t chunk) {
  Parser parser(options.limits);
  parser.set_auth_required(options.auth_required);
  Outcome out;
  std::string buffer;
  std::vector<std::string_view> args;
  for (size_t i = 0; i < input.size(); i += chunk) {
    buffer.append(input.substr(i, chunk));
    for (;;) {
      size_t consumed = ~size_t{0};
      const Parser::Result r = parser.Parse(buffer, &consumed, &args);
      FUZZ_CHECK(consumed <= buffer.size());
      if (r == Parser::Result::kError) {
        FUZZ_CHECK(!parser.error().empty());
        out.error = std::string(parser.error());
        return out;
      }
      if (r == Parser::Result::kInputPending) {
        FUZZ_CHECK(args.empty());
        buffer.erase(0, consumed);
        break;
      }
      FUZZ_CHECK(!args.empty());
      FUZZ_CHECK(consumed > 0);
      // Multibulk arguments point into the buffer, inline ones into the parser's storage.
      const char* const begin = buffer.data();
      for (std::string_view a : args) {
        if (a.data() >= begin && a.data() < begin + buffer.size()) {
          FUZZ_CHECK(a.data() + a.size() <= begin + consumed);
        }
      }
      out.commands.emplace_back(args.begin(), args.end());
      buffer.erase(0, consumed);
    }
  }
  return out;
}

std::string Multibulk(const std::vector<std::string>& args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args) s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  Options options;
  options.auth_required = (control & 1) != 0;
  if ((control & 2) != 0) {
    options.limits.max_bulk_len = 64;
    options.limits.max_multibulk_len = 8;
    options.limits.max_inline_len = 32;
  }
  const size_t chunk = 1 + (control >> 3);

  const Outcome whole = Run(input, options, input.size() + 1);
  const Outcome pieces = Run(input, options, chunk);
  if (input.size() <= options.limits.max_inline_len) FUZZ_CHECK(whole == pieces);

  // Re-encoding what was parsed gives the same commands back (inline ones included).
  std::string encoded;
  for (const auto& command : whole.commands) encoded += Multibulk(command);
  Options plain;
  plain.limits.max_bulk_len = ~size_t{0};
  plain.limits.max_multibulk_len = ~size_t{0};
  const Outcome again = Run(encoded, plain, encoded.size() + 1);
  FUZZ_CHECK(again.error.empty());
  FUZZ_CHECK(again.commands == whole.commands);
  return 0;
}
