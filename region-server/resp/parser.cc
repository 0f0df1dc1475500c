#include "region-server/resp/parser.h"

#include <cstring>

#include "region-server/resp/inline_args.h"
#include "region-server/resp/numbers.h"

namespace activekv::resp {

Parser::Parser(Limits limits) : limits_(limits) {}

void Parser::Reset() {
  StartCommand();
  error_ = {};
  error_buf_.clear();
}

void Parser::StartCommand() {
  phase_ = Phase::kStart;
  line_start_ = 0;
  scan_ = 0;
  hidden_ = false;
  pos_ = 0;
  bulk_len_ = 0;
  remaining_ = 0;
  seen_ = 0;
  cmd_len_ = 0;
  spans_.clear();
}

size_t Parser::bytes_hint() const {
  if (phase_ != Phase::kBulkData) return 0;
  const size_t need = pos_ + bulk_len_ + 2;
  return need > seen_ ? need - seen_ : 0;
}

Parser::Step Parser::Fail(std::string_view text) {
  phase_ = Phase::kError;
  error_ = text;
  return Step::kError;
}

Parser::Result Parser::Parse(std::string_view input, size_t* consumed,
                             std::vector<std::string_view>* args) {
  *consumed = 0;
  args->clear();
  if (phase_ == Phase::kError) return Result::kError;
  if (phase_ != Phase::kStart && input.size() < seen_) StartCommand();
  size_t base = 0;
  for (;;) {
    const std::string_view cmd = input.substr(base);
    switch (ParseCommand(cmd, args)) {
      case Step::kCommand:
        *consumed = base + cmd_len_;
        StartCommand();
        return Result::kOk;
      case Step::kEmpty:
        base += cmd_len_;
        StartCommand();
        continue;
      case Step::kPending:
        seen_ = cmd.size();
        *consumed = base;
        return Result::kInputPending;
      case Step::kError:
        *consumed = base;
        return Result::kError;
    }
  }
}

Parser::Step Parser::ParseCommand(std::string_view cmd, std::vector<std::string_view>* args) {
  if (phase_ == Phase::kStart) {
    if (cmd.empty()) return Step::kPending;
    // Like Redis, the first byte alone picks the request type.
    if (cmd[0] == '*') {
      phase_ = Phase::kMultibulkCount;
      scan_ = 1;
    } else {
      phase_ = Phase::kInline;
    }
  }
  if (phase_ == Phase::kInline) return ParseInline(cmd, args);
  const Step step = ParseMultibulk(cmd);
  if (step == Step::kCommand) {
    for (const Span& span : spans_) args->emplace_back(cmd.data() + span.offset, span.length);
  }
  return step;
}

bool Parser::FindCr(std::string_view cmd, size_t* cr) {
  if (hidden_) return false;
  const char* const p = cmd.data();
  const size_t n = cmd.size();
  size_t i = scan_;
  // Header lines are a few bytes long: a plain loop beats memchr's call overhead.
  while (i < n && p[i] != '\r' && p[i] != '\0') ++i;
  scanned_bytes_ += i - scan_;
  scan_ = i;
  if (i == n) return false;
  if (p[i] == '\0') {
    hidden_ = true;
    return false;
  }
  *cr = i;
  return true;
}

Parser::Step Parser::ParseMultibulk(std::string_view cmd) {
  const char* const p = cmd.data();
  const size_t n = cmd.size();
  if (phase_ == Phase::kMultibulkCount) {
    size_t cr;
    if (!FindCr(cmd, &cr)) {
      // Redis only judges the length of a count line that has no '\r' at all.
      if (n - line_start_ > limits_.max_inline_len) return Fail(kErrTooBigMbulkCount);
      return Step::kPending;
    }
    // Redis needs one more byte after '\r' (and never checks that it is '\n').
    if (cr + 1 >= n) return Step::kPending;
    int64_t count;
    if (!ParseInt64Strict(cmd.substr(1, cr - 1), &count) ||
        (count > 0 && static_cast<uint64_t>(count) > limits_.max_multibulk_len)) {
      return Fail(kErrInvalidMultibulkLength);
    }
    if (auth_required_ && count > kUnauthMaxMultibulkLen) return Fail(kErrUnauthMultibulkLength);
    if (count <= 0) {
      cmd_len_ = cr + 2;
      return Step::kEmpty;
    }
    remaining_ = count;
    phase_ = Phase::kBulkHeader;
    line_start_ = scan_ = cr + 2;
  }
  for (;;) {
    if (phase_ == Phase::kBulkHeader) {
      size_t cr;
      if (!FindCr(cmd, &cr)) {
        if (n - line_start_ > limits_.max_inline_len) return Fail(kErrTooBigBulkCount);
        return Step::kPending;
      }
      if (cr + 1 >= n) return Step::kPending;
      if (p[line_start_] != '$') {
        // Redis maps \r and \n in error texts to spaces.
        const char got = p[line_start_];
        error_buf_.assign(kErrExpectedDollarPrefix);
        error_buf_.push_back(got == '\r' || got == '\n' ? ' ' : got);
        error_buf_.push_back('\'');
        return Fail(error_buf_);
      }
      int64_t len;
      if (!ParseInt64Strict(cmd.substr(line_start_ + 1, cr - line_start_ - 1), &len) || len < 0 ||
          static_cast<uint64_t>(len) > limits_.max_bulk_len) {
        return Fail(kErrInvalidBulkLength);
      }
      if (auth_required_ && len > kUnauthMaxBulkLen) return Fail(kErrUnauthBulkLength);
      bulk_len_ = static_cast<size_t>(len);
      pos_ = cr + 2;
      phase_ = Phase::kBulkData;
    }
    // The payload is followed by two bytes that Redis skips without looking at them.
    if (n - pos_ < bulk_len_ + 2) return Step::kPending;
    spans_.push_back(Span{pos_, bulk_len_});
    const size_t next = pos_ + bulk_len_ + 2;
    if (--remaining_ == 0) {
      cmd_len_ = next;
      return Step::kCommand;
    }
    phase_ = Phase::kBulkHeader;
    line_start_ = scan_ = next;
    hidden_ = false;
  }
}

Parser::Step Parser::ParseInline(std::string_view cmd, std::vector<std::string_view>* args) {
  const char* const p = cmd.data();
  const size_t n = cmd.size();
  // Redis: strchr(querybuf, '\n'), so a NUL byte hides the end of the line for good.
  size_t end = n;
  bool found = false;
  if (!hidden_ && scan_ < n) {
    const void* lf = std::memchr(p + scan_, '\n', n - scan_);
    if (lf != nullptr) {
      end = static_cast<size_t>(static_cast<const char*>(lf) - p);
      found = true;
    }
    if (end > scan_) {
      const void* nul = std::memchr(p + scan_, '\0', end - scan_);
      if (nul != nullptr) {
        end = static_cast<size_t>(static_cast<const char*>(nul) - p);
        found = false;
        hidden_ = true;
      }
    }
    scanned_bytes_ += end - scan_;
    scan_ = end;
  }
  if (!found) {
    if (n > limits_.max_inline_len) return Fail(kErrTooBigInline);
    return Step::kPending;
  }
  size_t line_len = end;
  if (line_len > 0 && p[line_len - 1] == '\r') --line_len;
  if (!SplitInlineArgs(cmd.substr(0, line_len), &inline_storage_, args)) {
    args->clear();
    return Fail(kErrUnbalancedQuotes);
  }
  cmd_len_ = end + 1;
  return args->empty() ? Step::kEmpty : Step::kCommand;
}

}  // namespace activekv::resp
