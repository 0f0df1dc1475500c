// Incremental RESP request parser: multibulk ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and INLINE
// ("GET k\r\n") commands, with the limits, quirks and error texts of Redis 7.0's networking.c
// (processMultibulkBuffer / processInlineBuffer). See docs/resp-protocol.md.
//
// Zero-copy: a multibulk command's arguments are string_views into the caller's input. No
// allocation per command in steady state (internal vectors keep their capacity).
//
// Thread-compatible: one Parser per connection; not safe for concurrent use.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace activekv::resp {

// The error texts, exactly as Redis 7.0 sends them (after the leading '-').
inline constexpr std::string_view kErrInvalidMultibulkLength =
    "ERR Protocol error: invalid multibulk length";
inline constexpr std::string_view kErrInvalidBulkLength = "ERR Protocol error: invalid bulk length";
inline constexpr std::string_view kErrTooBigMbulkCount =
    "ERR Protocol error: too big mbulk count string";
inline constexpr std::string_view kErrTooBigBulkCount =
    "ERR Protocol error: too big bulk count string";
inline constexpr std::string_view kErrTooBigInline = "ERR Protocol error: too big inline request";
inline constexpr std::string_view kErrUnbalancedQuotes =
    "ERR Protocol error: unbalanced quotes in request";
inline constexpr std::string_view kErrUnauthMultibulkLength =
    "ERR Protocol error: unauthenticated multibulk length";
inline constexpr std::string_view kErrUnauthBulkLength =
    "ERR Protocol error: unauthenticated bulk length";
// Followed by the offending byte and "'" ("... got 'x'"); \r and \n are shown as ' '.
inline constexpr std::string_view kErrExpectedDollarPrefix =
    "ERR Protocol error: expected '$', got '";

// While a connection is not authenticated (requirepass set, no AUTH yet), Redis 7.0 refuses
// bigger requests than these (CVE-2021-32675 hardening).
inline constexpr int64_t kUnauthMaxMultibulkLen = 10;
inline constexpr int64_t kUnauthMaxBulkLen = 16384;

class Parser {
 public:
  enum class Result { kOk, kInputPending, kError };

  struct Limits {
    // proto-max-bulk-len: a bulk longer than this is "invalid bulk length".
    size_t max_bulk_len = 512ull << 20;
    // Redis 7.0 accepts up to INT_MAX arguments ("*2147483648" is "invalid multibulk length";
    // Redis 6.x capped at 1024*1024). Memory is bounded by the connection's query buffer limit.
    size_t max_multibulk_len = 2147483647;
    // PROTO_INLINE_MAX_SIZE: the longest inline request, and the longest "*<count>" /
    // "$<len>" header line, that may wait for its terminator.
    size_t max_inline_len = size_t{64} * 1024;
  };

  Parser() : Parser(Limits{}) {}
  explicit Parser(Limits limits);

  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;

  // Parses at most one command from the front of `input`, the caller's unconsumed bytes.
  //
  // kOk: one command was parsed. *consumed = the bytes the caller may now drop (the command,
  //   plus any empty commands before it); *args = its arguments (at least one). Multibulk
  //   arguments are views into `input`, valid while the caller keeps those bytes; inline
  //   arguments may point into the parser's own storage, valid until the next Parse() or
  //   Reset().
  // kInputPending: no complete command yet. *consumed = bytes of skipped empty commands
  //   (empty inline lines, "*0\r\n", "*-1\r\n", ...) that may be dropped. The caller must pass
  //   the rest, unchanged, at the front of the next call's input, followed by more bytes (the
  //   buffer may move in memory). The parser keeps its progress, so a 100 MB bulk arriving in
  //   4 KiB pieces is not rescanned. bytes_hint() tells how many more bytes are needed when
  //   known.
  // kError: protocol error. error() is Redis's text; the server replies "-" + error() + "\r\n"
  //   and closes the connection. *consumed = bytes consumed before the bad command. Every later
  //   call returns kError until Reset().
  //
  // If a later call passes fewer bytes than an earlier pending call saw (a broken contract), the
  // parser restarts the pending command from the front of the new input.
  Result Parse(std::string_view input, size_t* consumed, std::vector<std::string_view>* args);

  // The protocol error after kError (no "-" and no "\r\n"), empty otherwise.
  std::string_view error() const { return error_; }

  // After kInputPending: bytes still needed to finish the bulk being read (its payload and
  // "\r\n"), so the connection can reserve a big bulk in one go; 0 when unknown.
  size_t bytes_hint() const;

  // Forgets any partial command and any error.
  void Reset();

  // Redis refuses big requests from connections that still have to AUTH (see kUnauth*).
  void set_auth_required(bool required) { auth_required_ = required; }
  // proto-max-bulk-len may change between commands (CONFIG SET).
  void set_max_bulk_len(size_t n) { limits_.max_bulk_len = n; }
  bool auth_required() const { return auth_required_; }

  const Limits& limits() const { return limits_; }

  // Total bytes examined while searching for line terminators since construction. Payload bytes
  // of bulks are never examined; tests use this to check the parser does not rescan input.
  uint64_t scanned_bytes() const { return scanned_bytes_; }

 private:
  enum class Phase : uint8_t { kStart, kMultibulkCount, kBulkHeader, kBulkData, kInline, kError };
  // Outcome of parsing the command at the front of `cmd`.
  enum class Step : uint8_t { kCommand, kEmpty, kPending, kError };

  struct Span {
    size_t offset;  // from the start of the command
    size_t length;
  };

  Step ParseCommand(std::string_view cmd, std::vector<std::string_view>* args);
  Step ParseMultibulk(std::string_view cmd);
  Step ParseInline(std::string_view cmd, std::vector<std::string_view>* args);
  // Finds the first '\r' at or after scan_ in `cmd` (positions relative to the command), the
  // way Redis's strchr() over its NUL-terminated buffer does: a NUL byte hides any later '\r'
  // for good. Returns false if there is none (yet).
  bool FindCr(std::string_view cmd, size_t* cr);
  Step Fail(std::string_view text);
  void StartCommand();

  Limits limits_;
  bool auth_required_ = false;
  Phase phase_ = Phase::kStart;

  // Progress inside the current command; offsets are relative to the command's first byte.
  size_t line_start_ = 0;  // first byte of the header line being read
  size_t scan_ = 0;        // where the terminator search resumes
  bool hidden_ = false;    // a NUL byte was met before any terminator
  size_t pos_ = 0;         // first byte of the current bulk payload
  size_t bulk_len_ = 0;
  int64_t remaining_ = 0;  // bulks still to read
  size_t seen_ = 0;        // bytes of the command seen by the last pending call
  size_t cmd_len_ = 0;     // bytes of the command, once complete
  std::vector<Span> spans_;

  std::string inline_storage_;
  std::string error_buf_;
  std::string_view error_;
  uint64_t scanned_bytes_ = 0;
};

}  // namespace activekv::resp
